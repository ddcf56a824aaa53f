// `forge cmake affected` against the ground truth: after a change, the targets with at least
// one edge in `ninja -n` (mapped from each edge's output to the target owning it) must be
// exactly the affected targets, and the tests to run exactly those whose executables are
// among them. Two real projects: the demo project the tests write (INTERFACE and OBJECT
// libraries, a generated source, configure_file, add_test) and GoogleTest with two samples
// (Debian's libgtest-dev sources), both configured with Ninja and built by the test.
#include <fcntl.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "demo_project.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge::test {
namespace {

namespace fs = std::filesystem;
using Names = std::set<std::string>;

nlohmann::json forge_json(const std::string& args) {
  const auto result = run_shell(shell_quote(forge_binary().string()) + " cmake " + args);
  EXPECT_EQ(result.exit_code, 0) << args << "\n" << result.err;
  auto json = nlohmann::json::parse(result.out, nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << result.out << result.err;
  return json;
}

Names as_set(const nlohmann::json& array) {
  Names out;
  for (const auto& item : array) out.insert(item.get<std::string>());
  return out;
}

class CmakeAffectedTest : public ::testing::Test {
 protected:
  void configure_and_build() {
    std::string log;
    ASSERT_EQ(configure(m_source, m_build, &log), 0) << log;
    ASSERT_EQ(build(m_build, &log), 0) << log;
    refresh_targets();
    ASSERT_EQ(dry_run(), Names{}) << "a fresh build must be up to date";
  }
  void refresh_targets() { m_targets = forge_json("targets --json -B " + quoted_build()); }
  std::string quoted_build() const { return shell_quote(m_build.string()); }

  // The targets `ninja -n` would run an edge for.
  Names dry_run() {
    const auto result = run_shell("ninja -C " + quoted_build() + " -n");
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    Names out;
    std::istringstream lines(result.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with("[") || line.find("Re-running CMake") != std::string::npos) continue;
      const std::string output =
          "$B/" + fs::path(line.substr(line.rfind(' ') + 1)).lexically_normal().string();
      const std::string owner = owner_of(output);
      EXPECT_FALSE(owner.empty()) << "no target owns the output of: " << line;
      out.insert(owner);
    }
    return out;
  }
  // Object directories and artifacts first: an OBJECT library's objects are also listed
  // among its consumers' sources.
  std::string owner_of(const std::string& output) const {
    for (const auto& target : m_targets["targets"]) {
      const std::string object_dir = target["object_dir"].get<std::string>() + "/";
      if (output.starts_with(object_dir)) return target["name"];
      for (const auto& artifact : target["artifacts"]) {
        if (fs::path(artifact.get<std::string>()).lexically_normal() == output)
          return target["name"];
      }
    }
    for (const auto& target : m_targets["targets"]) {
      for (const auto& source : target["sources"]) {
        if (source == output) return target["name"];  // a generated source
      }
    }
    return {};
  }
  Names tests_of(const Names& targets) const {
    Names out;
    for (const auto& target : m_targets["targets"]) {
      if (targets.contains(target["name"])) {
        for (const auto& test : target["tests"]) out.insert(test.get<std::string>());
      }
    }
    return out;
  }

  // Changes `relative` by appending `text`, compares forge's answer with `ninja -n`, then
  // puts the file back (content and mtime, so Ninja sees it clean again).
  void check_change(const std::string& relative, const std::string& text, bool cmake_input) {
    SCOPED_TRACE(relative);
    const fs::path file = m_source / relative;
    std::ifstream in(file, std::ios::binary);
    std::stringstream original;
    original << in.rdbuf();
    struct stat before {};
    ASSERT_EQ(::stat(file.c_str(), &before), 0);
    std::ofstream(file, std::ios::app) << text;  // a new mtime: Ninja sees it changed
    const std::string args =
        "affected --json -B " + quoted_build() + " --files " + shell_quote(file.string());
    auto answer = forge_json(args);
    EXPECT_EQ(answer["reconfigure_needed"], cmake_input);
    if (cmake_input) {
      EXPECT_TRUE(answer["affected"].empty());
      answer = forge_json(args + " --reconfigure");
      EXPECT_TRUE(answer["reconfigured"]);
    }
    const Names truth = dry_run();
    EXPECT_EQ(as_set(answer["affected"]), truth) << answer.dump(1);
    EXPECT_EQ(as_set(answer["tests"]), tests_of(truth)) << answer.dump(1);
    std::ofstream(file, std::ios::trunc | std::ios::binary) << original.str();
    const timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
    if (cmake_input) {
      // configure_file rewrote its output: build to be clean again.
      std::string log;
      ASSERT_EQ(configure(m_source, m_build, &log), 0) << log;
      ASSERT_EQ(build(m_build, &log), 0) << log;
    }
    ASSERT_EQ(dry_run(), Names{}) << "the test must leave the build clean";
  }

  TempDir m_dir;
  fs::path m_source = fs::canonical(m_dir.path()) / "src";
  fs::path m_build = fs::canonical(m_dir.path()) / "build";
  nlohmann::json m_targets;
};

TEST_F(CmakeAffectedTest, DemoProjectMatchesNinjaDryRunForEveryKindOfChange) {
  write_demo_project(m_source);
  ASSERT_NO_FATAL_FAILURE(configure_and_build());
  check_change("core/src/core.cc", "int extra_core() { return 1; }\n", false);
  check_change("core/src/private.h", "// private\n", false);
  check_change("core/include/core/core.h", "// public\n", false);
  check_change("iface/include/iface/iface.h", "// interface\n", false);
  check_change("core/src/obj.cc", "// object library\n", false);
  check_change("gen/gen.cc.in", "// generator input\n", false);
  check_change("CMakeLists.txt", "target_compile_definitions(util PRIVATE FORGE_X=1)\n", true);
  check_change("version.h.in", "#define EXTRA 2\n", true);
}

TEST_F(CmakeAffectedTest, GoogleTestSamplesMatchNinjaDryRun) {
  const fs::path upstream = "/usr/src/googletest/googletest";
  if (!fs::exists(upstream / "CMakeLists.txt")) {
    GTEST_SKIP() << "no GoogleTest sources in " << upstream << " (install libgtest-dev)";
  }
  // GoogleTest's own CMake (gtest, gtest_main; INSTALL_GTEST on, so configure_file reads
  // cmake/gtest.pc.in) under a wrapper that builds two of its samples as tests. Two samples
  // keep the build small (the ten take minutes on a loaded CI machine) and still cover a
  // sample's own .cc and its header, gtest's private and public headers, GoogleTest's
  // CMakeLists.txt and a configure_file input.
  fs::create_directories(m_source);
  fs::copy(upstream, m_source / "googletest", fs::copy_options::recursive);
  std::ofstream(m_source / "CMakeLists.txt") << R"(cmake_minimum_required(VERSION 3.13)
project(gtest_samples CXX)
set(INSTALL_GTEST ON CACHE BOOL "")
enable_testing()
add_subdirectory(googletest)
set(samples googletest/samples)
add_executable(sample1_unittest ${samples}/sample1.cc ${samples}/sample1_unittest.cc)
add_executable(sample3_unittest ${samples}/sample3_unittest.cc)
foreach(n 1 3)
  target_link_libraries(sample${n}_unittest PRIVATE gtest_main)
  add_test(NAME sample${n} COMMAND sample${n}_unittest)
endforeach()
)";
  ASSERT_NO_FATAL_FAILURE(configure_and_build());
  ASSERT_EQ(m_targets["targets"].size(), 4u);
  ASSERT_EQ(m_targets["tests"].size(), 2u);
  check_change("googletest/samples/sample1.cc", "// one .cc\n", false);
  check_change("googletest/src/gtest-internal-inl.h", "// private header\n", false);
  check_change("googletest/samples/sample3-inl.h", "// header of one sample\n", false);
  check_change("googletest/include/gtest/gtest-message.h", "// public header\n", false);
  check_change("googletest/CMakeLists.txt",
               "target_compile_definitions(gtest_main PRIVATE FORGE_X=1)\n", true);
  check_change("googletest/cmake/gtest.pc.in", "# configure_file input\n", true);
}

TEST_F(CmakeAffectedTest, FingerprintsAgreeAcrossBuildDirsAndFollowContent) {
  write_demo_project(m_source);
  std::string log;
  for (const char* build_dir : {"b1", "b2"}) {
    ASSERT_EQ(configure(m_source, m_dir / build_dir, &log), 0) << log;
    ASSERT_EQ(build(m_dir / build_dir, &log), 0) << log;
  }
  auto prints = [&](const char* build_dir) {
    std::map<std::string, std::string> out;
    auto json = forge_json("targets --json -B " + shell_quote((m_dir / build_dir).string()));
    for (const auto& target : json["targets"]) out[target["name"]] = target["fingerprint"];
    return out;
  };
  auto previous = prints("b1");
  EXPECT_EQ(previous.size(), 5u);
  EXPECT_EQ(previous, prints("b2"));
  for (const char* input : {"core/src/core.cc", "core/src/private.h", "iface/include/iface/iface.h",
                            "gen/gen.cc.in", "core/src/obj.cc"}) {
    std::ofstream(m_source / input, std::ios::app) << "// changed\n";
    const auto changed = prints("b1");
    EXPECT_NE(changed.at("app"), previous.at("app")) << input;  // app depends on everything
    EXPECT_EQ(changed.at("solo") != previous.at("solo"), std::string(input).starts_with("iface"))
        << input;
    EXPECT_EQ(changed, prints("b2")) << input;
    previous = changed;
  }
}

}  // namespace
}  // namespace forge::test
