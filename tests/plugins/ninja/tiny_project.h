#pragma once
// A tiny Ninja project written into a temp dir and built with the real `ninja`: a copy rule
// whose command also writes a depfile naming a header (deps = gcc), so the build leaves a
// real .ninja_log and .ninja_deps for the readers to parse. Header-only test helper.

#include <sys/stat.h>

#include <cstdint>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "forge/ninja/manifest.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge::test {

inline constexpr const char* k_tiny_manifest =
    "rule cp\n"
    "  command = cat $in hdr.h > $out && printf '%s: %s hdr.h\\n' $out $in > $out.d\n"
    "  depfile = $out.d\n"
    "  deps = gcc\n"
    "rule join\n"
    "  command = cat $in > $out\n"
    "build a.out: cp a.txt\n"
    "build b.out: cp b.txt\n"
    "build all.out: join a.out b.out\n";

class TinyNinjaProject : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir.write_file("build.ninja", k_tiny_manifest);
    m_dir.write_file("a.txt", "a\n");
    m_dir.write_file("b.txt", "b\n");
    m_dir.write_file("hdr.h", "h\n");
    ASSERT_EQ(ninja("").exit_code, 0);
  }

  ProcessResult ninja(const std::string& args) const {
    return run_shell("ninja -C " + shell_quote(m_dir.path().string()) + " " + args);
  }

  // Ground truth from the real ninja: the first outputs of the edges `ninja -n` would run.
  std::set<std::string> ninja_would_run() const {
    const auto dry = ninja("-n -v");
    EXPECT_EQ(dry.exit_code, 0) << dry.err;
    auto manifest = ninja::read_manifest(m_dir.path());
    EXPECT_TRUE(manifest);
    std::set<std::string> out;
    std::istringstream lines(dry.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with("[")) continue;
      const std::string command = line.substr(line.find("] ") + 2);
      for (const auto& edge : manifest->edges) {
        if (edge.command == command) out.insert(edge.outputs.front());
      }
    }
    return out;
  }

  std::int64_t mtime_ns(const std::string& relative) const {
    struct stat st {};
    if (::stat((m_dir / relative).c_str(), &st) != 0) return -1;
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  }

  TempDir m_dir;
};

}  // namespace forge::test
