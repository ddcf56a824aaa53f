#pragma once
// The Bazel workspace the integration tests build (bazel_test.cpp, and the cas-tree test of
// a Bazel-uploaded output directory): two genrules and a cc_binary under DIR/ws.
//
// Offline: Debian's Bazel 4.2 fetches @rules_cc and @rules_java from GitHub for its builtin
// toolchains. The workspace points both at local stub repositories that re-export the
// native rules, so nothing is downloaded.
#include <string>

#include "forge/test/temp_dir.h"

namespace forge::test {

inline void write_workspace(const TempDir& dir) {
  dir.write_file("ws/WORKSPACE",
                 "workspace(name = \"forge_smoke\")\n"
                 "local_repository(name = \"rules_cc\", path = \"third_party/rules_cc\")\n"
                 "local_repository(name = \"rules_java\", path = \"third_party/rules_java\")\n");
  dir.write_file("ws/.bazelignore", "third_party\n");
  dir.write_file("ws/BUILD",
                 "genrule(name = \"gen_header\", outs = [\"generated.h\"],\n"
                 "        cmd = \"echo '#define GREETING \\\"hello from a genrule\\\"' > $@\")\n"
                 "genrule(name = \"gen_data\", srcs = [\"data.txt\"], outs = [\"data.upper\"],\n"
                 "        cmd = \"tr a-z A-Z < $< > $@\")\n"
                 "cc_binary(name = \"hello\", srcs = [\"hello.c\", \":gen_header\"])\n");
  dir.write_file("ws/data.txt", "some data\n");
  dir.write_file("ws/hello.c",
                 "#include <stdio.h>\n#include \"generated.h\"\n"
                 "int main(void) { puts(GREETING); return 0; }\n");
  dir.write_file("ws/third_party/rules_cc/WORKSPACE", "");
  dir.write_file("ws/third_party/rules_cc/BUILD", "");
  dir.write_file("ws/third_party/rules_cc/cc/BUILD",
                 "package(default_visibility = [\"//visibility:public\"])\n"
                 "alias(name = \"toolchain_type\", actual = "
                 "\"@bazel_tools//tools/cpp:toolchain_type\")\n");
  std::string cc_defs;
  for (const char* rule : {"cc_binary", "cc_library", "cc_test", "cc_import", "cc_toolchain",
                           "cc_toolchain_suite", "objc_library", "cc_proto_library"}) {
    cc_defs += std::string(rule) + " = native." + rule + "\n";
  }
  dir.write_file("ws/third_party/rules_cc/cc/defs.bzl", cc_defs);
  dir.write_file("ws/third_party/rules_java/WORKSPACE", "");
  dir.write_file("ws/third_party/rules_java/BUILD", "");
  dir.write_file("ws/third_party/rules_java/java/BUILD",
                 "package(default_visibility = [\"//visibility:public\"])\n");
  std::string java_defs;
  for (const char* rule :
       {"java_import", "java_runtime", "java_toolchain", "java_binary", "java_library"}) {
    java_defs += std::string(rule) + " = native." + rule + "\n";
  }
  dir.write_file("ws/third_party/rules_java/java/defs.bzl", java_defs);
}

}  // namespace forge::test
