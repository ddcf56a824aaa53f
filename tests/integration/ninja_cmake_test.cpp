// `forge ninja` on a real CMake + Ninja C++ project (generated here): 53 translation units,
// headers, a static library, four executables and a code generator wrapped in
// `forge ninja keep-if-same`. Ground truth for "what must run" is the real ninja's own dry
// run (`ninja -n -v`) on the same build dir before any mtime-only noise is added.
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge::test {
namespace {

constexpr int k_units = 48;  // library TUs; + 4 executables + the generator = 53
constexpr int k_groups = 4;  // group headers; unit N includes group N % 4

class NinjaCMakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_src = m_dir / "src";
    m_build = m_dir / "build";
    write_project();
    const auto configure =
        run_shell("cmake -G Ninja -DCMAKE_BUILD_TYPE=Debug -S " + q(m_src) + " -B " + q(m_build));
    ASSERT_EQ(configure.exit_code, 0) << configure.out << configure.err;
    const auto build = forge_ninja("");
    ASSERT_EQ(build.exit_code, 0) << build.out << build.err;
  }

  static std::string q(const std::filesystem::path& path) { return shell_quote(path.string()); }

  void write_project() {
    std::string cmake =
        "cmake_minimum_required(VERSION 3.20)\nproject(demo CXX)\n"
        "add_executable(gen gen.cc)\n"
        "add_custom_command(OUTPUT generated.h\n"
        "  COMMAND " +
        forge_binary().string() +
        " ninja keep-if-same generated.h -- "
        "$<TARGET_FILE:gen> ${CMAKE_CURRENT_SOURCE_DIR}/spec.txt generated.h\n"
        "  DEPENDS gen spec.txt)\n"
        "add_library(core STATIC";
    for (int i = 0; i < k_units; ++i) cmake += fmt::format(" u{}.cc", i);
    cmake += ")\ntarget_include_directories(core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})\n";
    for (int a = 0; a < 4; ++a) {
      cmake += fmt::format(
          "add_executable(app{0} main{0}.cc ${{CMAKE_CURRENT_BINARY_DIR}}/generated.h)\n"
          "target_include_directories(app{0} PRIVATE ${{CMAKE_CURRENT_BINARY_DIR}})\n"
          "target_link_libraries(app{0} core)\n",
          a);
    }
    write("CMakeLists.txt", cmake);
    write("common.h", "#pragma once\ninline int common() { return 1; }\n");
    for (int g = 0; g < k_groups; ++g) {
      write(fmt::format("group{}.h", g),
            fmt::format("#pragma once\nconstexpr int k_group = {};\n", g));
    }
    for (int i = 0; i < k_units; ++i) {
      write(fmt::format("u{}.cc", i),
            fmt::format("#include \"common.h\"\n#include \"group{}.h\"\nint unit{}() {{ return "
                        "common() + k_group + {}; }}\n",
                        i % k_groups, i, i));
    }
    for (int a = 0; a < 4; ++a) {
      write(fmt::format("main{}.cc", a),
            fmt::format("#include \"generated.h\"\nint unit{}();\nint main() {{ return unit{}() - "
                        "k_generated - {}; }}\n",
                        a, a, 1 + (a % k_groups) + a - 7));
    }
    // The generator ignores '#' lines of its spec: editing one reruns it with the same output.
    write("gen.cc",
          "#include <fstream>\n#include <string>\nint main(int, char** argv) {\n"
          "  std::ifstream in(argv[1]); std::ofstream out(argv[2]); std::string line;\n"
          "  out << \"#pragma once\\n\";\n"
          "  while (std::getline(in, line)) if (!line.empty() && line[0] != '#') out << line << "
          "\"\\n\";\n}\n");
    write("spec.txt", "# spec\nconstexpr int k_generated = 7;\n");
  }

  void write(const std::string& name, const std::string& content) {
    m_dir.write_file("src/" + name, content);
    m_files.insert(name);
  }

  ProcessResult forge_ninja(const std::string& args) {
    return run_shell(q(forge_binary()) + " ninja -C " + q(m_build) + " " + args);
  }
  ProcessResult ninja(const std::string& args) {
    return run_shell("ninja -C " + q(m_build) + " " + args);
  }

  // The commands a `-v` run printed ("[i/N] COMMAND" lines).
  static std::set<std::string> commands(const std::string& output) {
    std::set<std::string> out;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("[") && line.find("] ") != std::string::npos) {
        out.insert(line.substr(line.find("] ") + 2));
      }
    }
    return out;
  }

  // What plain ninja would run now.
  std::set<std::string> ninja_would_run() {
    const auto dry = ninja("-n -v");
    EXPECT_EQ(dry.exit_code, 0) << dry.err;
    return commands(dry.out);
  }

  void touch_everything() {
    std::string command = "sleep 0.02 && cd " + q(m_src) + " && touch";
    for (const auto& name : m_files) command += " " + shell_quote(name);
    ASSERT_EQ(run_shell(command).exit_code, 0);
  }

  void rewrite_everything_identically() {
    run_shell("sleep 0.02");
    for (const auto& name : m_files)
      m_dir.write_file("src/" + name, m_dir.read_file("src/" + name));
  }

  void expect_no_work() {
    const auto dry = ninja("-n");
    EXPECT_NE(dry.out.find("no work to do"), std::string::npos) << dry.out;
  }

  TempDir m_dir;
  std::filesystem::path m_src;
  std::filesystem::path m_build;
  std::set<std::string> m_files;
};

TEST_F(NinjaCMakeTest, OnlyContentChangesRunEdges) {
  expect_no_work();

  SCOPED_TRACE("touch every file: nothing runs");
  touch_everything();
  EXPECT_FALSE(ninja_would_run().empty());
  auto run = forge_ninja("-v");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(commands(run.out), std::set<std::string>{}) << run.out;
  expect_no_work();

  SCOPED_TRACE("rewrite every file with the same bytes: nothing runs");
  rewrite_everything_identically();
  run = forge_ninja("-v");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(commands(run.out), std::set<std::string>{}) << run.out;
  expect_no_work();

  SCOPED_TRACE("edit one .cc: exactly its object, the archive and the links");
  run_shell("sleep 0.02");
  m_dir.write_file("src/u1.cc", m_dir.read_file("src/u1.cc") + "// edited\n");
  auto truth = ninja_would_run();
  EXPECT_EQ(truth.size(), 6u);  // u1.o, libcore.a, 4 links
  touch_everything();
  run = forge_ninja("-v");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(commands(run.out), truth) << run.out;
  expect_no_work();

  SCOPED_TRACE("edit a header: exactly its includers, the archive and the links");
  run_shell("sleep 0.02");
  m_dir.write_file("src/group2.h", m_dir.read_file("src/group2.h") + "// edited\n");
  truth = ninja_would_run();
  EXPECT_EQ(truth.size(), static_cast<std::size_t>(k_units / k_groups + 1 + 4));
  touch_everything();
  run = forge_ninja("-v");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(commands(run.out), truth) << run.out;
  expect_no_work();

  SCOPED_TRACE("generator rerun with identical output: its dependents do not run");
  run_shell("sleep 0.02");
  m_dir.write_file("src/spec.txt", "# spec, comment edited\nconstexpr int k_generated = 7;\n");
  run = forge_ninja("-v");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto ran = commands(run.out);
  ASSERT_EQ(ran.size(), 1u) << run.out;
  EXPECT_NE(ran.begin()->find("keep-if-same"), std::string::npos);
  expect_no_work();

  SCOPED_TRACE("an output deleted by hand is rebuilt");
  std::filesystem::remove(m_build / "CMakeFiles/core.dir/u5.cc.o");
  truth = ninja_would_run();
  EXPECT_EQ(truth.size(), 6u);
  touch_everything();
  run = forge_ninja("-v");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(commands(run.out), truth) << run.out;
  expect_no_work();

  SCOPED_TRACE("ninja's own tools still work on the logs forge appended to");
  const auto deps = ninja("-t deps");
  ASSERT_EQ(deps.exit_code, 0);
  std::size_t listed = 0;
  for (std::size_t at = deps.out.find("common.h"); at != std::string::npos;
       at = deps.out.find("common.h", at + 1)) {
    ++listed;
  }
  EXPECT_GE(listed, static_cast<std::size_t>(k_units));
  EXPECT_EQ(ninja("-t recompact").exit_code, 0);
  expect_no_work();
}

TEST_F(NinjaCMakeTest, BrokenNinjaStateFallsBackToPlainNinja) {
  SCOPED_TRACE("truncated .ninja_deps: a clear message, then ninja rebuilds correctly");
  const std::string deps = m_dir.read_file("build/.ninja_deps");
  m_dir.write_file("build/.ninja_deps", deps.substr(0, deps.size() - 3));
  touch_everything();
  auto run = forge_ninja("");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find(".ninja_deps"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("running plain ninja"), std::string::npos) << run.err;
  expect_no_work();

  SCOPED_TRACE("garbage .ninja_deps");
  m_dir.write_file("build/.ninja_deps", "garbage, not a deps log");
  touch_everything();
  run = forge_ninja("");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("running plain ninja"), std::string::npos) << run.err;
  expect_no_work();

  SCOPED_TRACE("a command changed: that edge reruns");
  m_dir.write_file("src/CMakeLists.txt", m_dir.read_file("src/CMakeLists.txt") +
                                             "target_compile_definitions(app3 PRIVATE EXTRA=1)\n");
  run = forge_ninja("-v");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("-DEXTRA=1"), std::string::npos) << run.out;
  expect_no_work();

  SCOPED_TRACE("not a build dir: forge ninja says so and ninja reports its own error");
  run = run_shell(q(forge_binary()) + " ninja -C " + q(m_src));
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("not a Ninja build directory"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace forge::test
