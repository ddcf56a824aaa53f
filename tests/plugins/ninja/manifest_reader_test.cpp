#include <gtest/gtest.h>

#include "forge/ninja/build_log.h"
#include "forge/ninja/manifest.h"
#include "forge/ninja/murmur_hash.h"
#include "tiny_project.h"

namespace forge::ninja {
namespace {

using ManifestReaderTest = test::TinyNinjaProject;

// Every command we evaluate hashes to what the real ninja logged for that output.
void expect_hashes_match_the_log(const std::filesystem::path& dir) {
  auto manifest = read_manifest(dir);
  ASSERT_TRUE(manifest) << manifest.error().to_string();
  auto log = read_build_log(dir / ".ninja_log");
  ASSERT_TRUE(log) << log.error().to_string();
  ASSERT_FALSE(log->entries.empty());
  for (const auto& [output, entry] : log->entries) {
    const Edge* edge = manifest->producer_of(output);
    ASSERT_NE(edge, nullptr) << output;
    EXPECT_EQ(command_hash(edge->command), entry.command_hash) << output << ": " << edge->command;
  }
}

TEST_F(ManifestReaderTest, CommandsHashLikeNinjasOwn) {
  expect_hashes_match_the_log(m_dir.path());
  auto manifest = read_manifest(m_dir.path());
  ASSERT_TRUE(manifest);
  const Edge* edge = manifest->producer_of("a.out");
  ASSERT_NE(edge, nullptr);
  EXPECT_EQ(edge->deps, "gcc");
  EXPECT_EQ(edge->depfile, "a.out.d");
}

TEST(ManifestReader, CommandsOfARealCMakeProjectHashLikeNinjasOwn) {
  test::TempDir dir;
  dir.write_file("src/CMakeLists.txt",
                 "cmake_minimum_required(VERSION 3.20)\nproject(p C)\n"
                 "add_library(lib STATIC lib.c)\nadd_executable(app main.c)\n"
                 "target_link_libraries(app lib)\n"
                 "add_custom_command(OUTPUT gen.h COMMAND ${CMAKE_COMMAND} -E echo \"#define X 1\" "
                 "> gen.h)\nadd_custom_target(gen DEPENDS gen.h)\n");
  dir.write_file("src/lib.c", "int lib(void) { return 1; }\n");
  dir.write_file("src/main.c", "int lib(void);\nint main(void) { return lib() - 1; }\n");
  const auto configure =
      test::run_shell("cmake -G Ninja -S " + test::shell_quote((dir / "src").string()) + " -B " +
                      test::shell_quote((dir / "build").string()));
  ASSERT_EQ(configure.exit_code, 0) << configure.err;
  const auto build =
      test::run_shell("ninja -C " + test::shell_quote((dir / "build").string()) + " all gen");
  ASSERT_EQ(build.exit_code, 0) << build.out << build.err;
  expect_hashes_match_the_log(dir / "build");
  auto manifest = read_manifest(dir / "build");
  ASSERT_TRUE(manifest);
  const Edge* gen = manifest->producer_of("gen.h");
  ASSERT_NE(gen, nullptr);
  EXPECT_TRUE(gen->restat);  // CMake's CUSTOM_COMMAND rule
  const Edge* regenerate = manifest->producer_of("build.ninja");
  ASSERT_NE(regenerate, nullptr);
  EXPECT_TRUE(regenerate->generator);
}

TEST(ManifestReader, FollowsNinjaScopingEscapesAndInputKinds) {
  test::TempDir dir;
  dir.write_file("build.ninja",
                 "# comment\n"
                 "flags = -O1\n"
                 "rule cc\n"
                 "  command = cc $flags $in -o $out$\n"
                 "      $ extra\n"
                 "  restat = 1\n"
                 "include rules.ninja\n"
                 "build out$ 1.o | out.d: cc ./src/../a.c b$:c | hdr.h || order\n"
                 "  flags = -O2 $flags\n"
                 "build other.o: cc x.c\n"
                 "subninja sub.ninja\n"
                 "flags = -O3\n"
                 "build all: phony out$ 1.o\n"
                 "default all\n");
  dir.write_file("rules.ninja", "rule copy\n  command = cp $in $out\n");
  dir.write_file("sub.ninja", "flags = -Osub\nbuild sub.o: cc sub.c\n");
  auto manifest = read_manifest(dir.path());
  ASSERT_TRUE(manifest) << manifest.error().to_string();
  const Edge* edge = manifest->producer_of("out 1.o");
  ASSERT_NE(edge, nullptr);
  EXPECT_EQ(edge->command, "cc -O2 -O1 a.c 'b:c' -o 'out 1.o' extra");
  EXPECT_TRUE(edge->restat);
  EXPECT_EQ(edge->inputs, (std::vector<std::string>{"a.c", "b:c", "hdr.h", "order"}));
  EXPECT_EQ(edge->explicit_inputs, 2u);
  EXPECT_EQ(edge->implicit_inputs, 1u);
  EXPECT_EQ(edge->order_only_inputs, 1u);
  EXPECT_EQ(edge->explicit_outputs, 1u);
  EXPECT_EQ(manifest->producer_of("out.d"), edge);
  // No bindings of its own: the file scope's final value wins, as in Ninja.
  EXPECT_EQ(manifest->producer_of("other.o")->command, "cc -O3 x.c -o other.o extra");
  EXPECT_EQ(manifest->producer_of("sub.o")->command, "cc -Osub sub.c -o sub.o extra");
  EXPECT_TRUE(manifest->producer_of("all")->is_phony());
  EXPECT_EQ(manifest->defaults, (std::vector<std::string>{"all"}));
}

TEST(ManifestReader, SyntaxErrorsAndDyndepAreValidationErrors) {
  for (const char* text :
       {"build out: nosuchrule in\n", "rule r\n  command = x $!\n", "  indented\n",
        "build out in\n", "rule r\n  command = x\n  dyndep = dd\nbuild o: r\n",
        "rule r\n  command = ${bad\n"}) {
    test::TempDir dir;
    dir.write_file("build.ninja", text);
    auto manifest = read_manifest(dir.path());
    ASSERT_FALSE(manifest) << text;
    EXPECT_EQ(manifest.error().category(), ErrorCategory::validation) << text;
  }
}

TEST(ManifestReader, MissingManifestIsAFileSystemError) {
  test::TempDir dir;
  auto manifest = read_manifest(dir.path());
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().code(), ENOENT);
}

TEST(CanonicalizePath, FoldsDotsLikeNinja) {
  EXPECT_EQ(canonicalize_path("./a/./b//c"), "a/b/c");
  EXPECT_EQ(canonicalize_path("a/../b"), "b");
  EXPECT_EQ(canonicalize_path("../a/../../b"), "../../b");
  EXPECT_EQ(canonicalize_path("/usr/../include/x.h"), "/include/x.h");
}

}  // namespace
}  // namespace forge::ninja
