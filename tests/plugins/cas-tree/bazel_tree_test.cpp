// A tree Bazel uploaded, downloaded with `forge cas download --tree`: Bazel 4.2 from Debian
// (bazel-bootstrap) builds a rule that declares an output directory, with --remote_cache
// pointing at a real `forge serve`; Bazel uploads it as a REAPI Tree. The test finds the
// Tree digest in the ActionResult Bazel stored, then downloads it twice — from the
// server's store (--dir) and over HTTP into an empty store (--remote) — and compares both
// with the directory Bazel left in bazel-bin (bytes, names, types) and the executable bits
// with what the action set.
//
// Bazel uploads input roots only for remote execution, which Forge does not offer; an
// output directory's Tree carries the same REAPI Directory messages.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "bazel_workspace.h"
#include "forge/cache/action_cache.h"
#include "forge/test/process.h"
#include "serve_fixture.h"

namespace forge::test {
namespace {

// The Tree digests of every ActionResult among the store's blobs (blob files are stored
// as they are, named by their SHA-256).
std::set<std::string> output_trees(const std::filesystem::path& store) {
  std::set<std::string> trees;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(store / "cas")) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    auto digests = cache::output_tree_digests(bytes.str());
    if (!digests) continue;
    for (const auto& digest : *digests) trees.insert(digest.to_string());
  }
  return trees;
}

// `find` output for DIR, sorted.
std::string find(const std::filesystem::path& dir, const std::string& args) {
  return run_shell("cd " + shell_quote(dir.string()) + " && find . -mindepth 1 " + args + " | sort")
      .out;
}

TEST(BazelTreeTest, AnOutputDirectoryBazelUploadedDownloadsByteForByte) {
  if (run_shell("bazel --version").exit_code != 0) {
    GTEST_SKIP() << "bazel is not installed (Debian package bazel-bootstrap)";
  }
  ServeFixture server({"--no-fsync"});
  ASSERT_TRUE(server.started()) << server.log();
  const auto& dir = server.dir();
  write_workspace(dir);
  dir.write_file("ws/tree/BUILD", "load(\":defs.bzl\", \"make_dir\")\nmake_dir(name = \"out\")\n");
  dir.write_file(
      "ws/tree/defs.bzl",
      "def _impl(ctx):\n"
      "    out = ctx.actions.declare_directory(ctx.label.name)\n"
      "    ctx.actions.run_shell(outputs = [out], arguments = [out.path], command = \"\"\"\n"
      "        mkdir -p $1/sub/deeper $1/other\n"
      "        printf 'one\\\\n' > $1/a.txt\n"
      "        printf 'deep\\\\n' > $1/sub/deeper/d.txt\n"
      "        printf 'same\\\\n' > $1/other/d.txt\n"
      "        printf '#!/bin/sh\\\\necho run\\\\n' > $1/sub/run.sh && chmod +x $1/sub/run.sh\n"
      "        seq 1 20000 > $1/other/big.txt\n"
      "    \"\"\")\n"
      "    return [DefaultInfo(files = depset([out]))]\n"
      "make_dir = rule(implementation = _impl)\n");
  const std::string bazel =
      "cd " + shell_quote((dir / "ws").string()) +
      " && bazel --batch --output_user_root=" + shell_quote((dir / "bazel-root").string());
  const auto built = run_shell(bazel + " build --remote_cache=grpc://127.0.0.1:" +
                               std::to_string(server.grpc_port()) + " //tree:out 2>&1");
  ASSERT_EQ(built.exit_code, 0) << built.out << server.log();
  const auto bazel_out = dir / "ws/bazel-bin/tree/out";
  ASSERT_TRUE(std::filesystem::exists(bazel_out / "sub/run.sh")) << built.out;

  const auto trees = output_trees(server.store());
  ASSERT_EQ(trees.size(), 1u) << "expected the one output directory's Tree";
  const std::string tree = *trees.begin();
  const std::string forge = shell_quote(forge_binary().string());
  // From the store Bazel populated, and over HTTP from the server into an empty store.
  const auto local = run_shell(forge + " cas download --tree " + tree + " " +
                               shell_quote((dir / "local").string()) + " --dir " +
                               shell_quote(server.store().string()));
  ASSERT_EQ(local.exit_code, 0) << local.err;
  const auto remote = run_shell(
      forge + " cas download --tree " + tree + " " + shell_quote((dir / "remote").string()) +
      " --dir " + shell_quote((dir / "empty-store").string()) + " --remote " + server.url());
  ASSERT_EQ(remote.exit_code, 0) << remote.err << server.log();
  EXPECT_NE(remote.out.find("\"files\":5"), std::string::npos) << remote.out;
  for (const char* copy : {"local", "remote"}) {
    const auto diff = run_shell("diff -r " + shell_quote(bazel_out.string()) + " " +
                                shell_quote((dir / copy).string()));
    EXPECT_EQ(diff.exit_code, 0) << copy << ": " << diff.out << diff.err;
    EXPECT_EQ(find(dir / copy, "-printf '%p %y\\n'"), find(bazel_out, "-printf '%p %y\\n'"));
    // Bazel makes every output file 0555 on disk; its Tree keeps what the action made
    // executable, which is what the download restores.
    EXPECT_EQ(find(dir / copy, "-type f -perm -u+x"), "./sub/run.sh\n") << copy;
  }
  // Without --tree the Tree is not a Directory: refused, nothing written.
  const auto wrong =
      run_shell(forge + " cas download " + tree + " " + shell_quote((dir / "wrong").string()) +
                " --dir " + shell_quote(server.store().string()));
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir / "wrong"));
  EXPECT_EQ(server.stop(), 0) << server.log();
}

}  // namespace
}  // namespace forge::test
