// `forge cache` through the real binary.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge {
namespace {

using test::shell_quote;

TEST(CacheCommandTest, PutPrintsTheDigestAndGetReturnsTheBytes) {
  test::TempDir dir;
  const auto file = dir.write_file("in.txt", "cached output\n");
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string store = " --dir " + shell_quote((dir / "store").string());
  const auto put = test::run_shell(forge + " cache put " + shell_quote(file.string()) + store);
  ASSERT_EQ(put.exit_code, 0) << put.err;
  const auto sha = test::run_shell("sha256sum " + shell_quote(file.string()));
  const std::string digest = put.out.substr(0, put.out.find(' '));
  EXPECT_EQ(digest, sha.out.substr(0, 64) + "/14");
  const auto get = test::run_shell(forge + " cache get " + digest + store);
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "cached output\n");
  const auto stat = test::run_shell(forge + " cache stat" + store);
  EXPECT_EQ(nlohmann::json::parse(stat.out)["entries"], 1);
}

// Issue 16 item 2 (regression: get wrote the flipped byte and exited 0).
TEST(CacheCommandTest, GetRefusesABlobCorruptedOnDiskAndWritesNothing) {
  test::TempDir dir;
  const auto file = dir.write_file("in.txt", "the bytes a build relies on\n");
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string store = " --dir " + shell_quote((dir / "store").string());
  const auto put = test::run_shell(forge + " cache put " + shell_quote(file.string()) + store);
  ASSERT_EQ(put.exit_code, 0) << put.err;
  const std::string digest = put.out.substr(0, put.out.find(' '));
  const auto blob = dir / "store" / "cas" / digest.substr(0, 2) / digest.substr(0, 64);
  {
    std::fstream bytes(blob, std::ios::in | std::ios::out | std::ios::binary);
    bytes.seekp(3);
    bytes.put('X');  // one flipped byte, same size
  }
  const auto output = dir / "out.txt";
  const auto to_file = test::run_shell(forge + " cache get " + digest + " -o " +
                                       shell_quote(output.string()) + store);
  EXPECT_EQ(to_file.exit_code, 1);
  EXPECT_NE(to_file.err.find("corrupt"), std::string::npos) << to_file.err;
  EXPECT_FALSE(std::filesystem::exists(output));
  // Quarantined: the blob is now a plain miss, and stdout got nothing either time.
  const auto again = test::run_shell(forge + " cache get " + digest + store);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(again.out.empty());
  EXPECT_NE(again.err.find("not in"), std::string::npos) << again.err;
  EXPECT_FALSE(std::filesystem::exists(blob));
  EXPECT_FALSE(std::filesystem::is_empty(dir / "store" / "quarantine"));
  // A put stores a good copy again.
  ASSERT_EQ(test::run_shell(forge + " cache put " + shell_quote(file.string()) + store).exit_code,
            0);
  const auto good = test::run_shell(forge + " cache get " + digest + store);
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_EQ(good.out, "the bytes a build relies on\n");
}

// Issue 16 item 5 (regression: a truncated index crashed `forge cache stat` with SIGBUS).
// The store index is derived data: it is moved aside and rebuilt from cas/.
TEST(CacheCommandTest, StatOnATruncatedIndexRebuildsItInsteadOfCrashing) {
  test::TempDir dir;
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string store = " --dir " + shell_quote((dir / "store").string());
  std::string files;
  for (int i = 0; i < 300; ++i) {
    files += " " + shell_quote(
                       dir.write_file("f" + std::to_string(i), std::string(100 + i, 'q')).string());
  }
  ASSERT_EQ(test::run_shell(forge + " cache put" + files + store).exit_code, 0);
  const auto data = dir / "store" / "index" / "data.mdb";
  std::filesystem::resize_file(data, std::filesystem::file_size(data) / 3);
  const auto stat = test::run_shell(forge + " cache stat" + store);
  ASSERT_EQ(stat.exit_code, 0) << stat.err;
  EXPECT_EQ(nlohmann::json::parse(stat.out)["entries"], 300);
}

TEST(CacheCommandTest, MissingAndMalformedDigestsFailClearly) {
  test::TempDir dir;
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string store = " --dir " + shell_quote((dir / "store").string());
  const auto missing = test::run_shell(
      forge + " cache get 0000000000000000000000000000000000000000000000000000000000000000/5" +
      store);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not in"), std::string::npos);
  const auto malformed = test::run_shell(forge + " cache get nothex/5" + store);
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("malformed"), std::string::npos);
}

TEST(CacheCommandTest, GcTrimsToMaxSizeAndVerifyRepairs) {
  test::TempDir dir;
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string store = " --dir " + shell_quote((dir / "store").string());
  std::vector<std::string> digests;
  for (int i = 0; i < 4; ++i) {
    const auto file = dir.write_file("f" + std::to_string(i), std::string(1000, 'a' + i));
    const auto put = test::run_shell(forge + " cache put " + shell_quote(file.string()) + store);
    ASSERT_EQ(put.exit_code, 0) << put.err;
    digests.push_back(put.out.substr(0, put.out.find(' ')));
  }
  const auto gc = test::run_shell(forge + " cache gc --max-size 2K" + store);
  ASSERT_EQ(gc.exit_code, 0) << gc.err;
  const auto report = nlohmann::json::parse(gc.out);
  EXPECT_EQ(report["evicted"], 2);
  EXPECT_EQ(report["bytes"], 2000);
  EXPECT_EQ(test::run_shell(forge + " cache get " + digests[0] + store).exit_code, 1)
      << "the oldest blob goes first";
  EXPECT_EQ(test::run_shell(forge + " cache get " + digests[3] + store).exit_code, 0);

  // Corrupt the newest blob on disk: verify quarantines it and exits 1.
  const std::string hex = digests[3].substr(0, 64);
  const auto blob = dir / "store" / "cas" / hex.substr(0, 2) / hex;
  std::filesystem::permissions(blob, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  dir.write_file("store/cas/" + hex.substr(0, 2) + "/" + hex, "rotten");
  const auto verify = test::run_shell(forge + " cache verify" + store);
  EXPECT_EQ(verify.exit_code, 1) << verify.err;
  const auto verified = nlohmann::json::parse(verify.out);
  EXPECT_EQ(verified["quarantined"], 1);
  EXPECT_EQ(verified["entries"], 1);
  EXPECT_EQ(test::run_shell(forge + " cache verify" + store).exit_code, 0) << "repaired";
}

// Issue 13: gc used to ignore cache.max_size and insist on --max-size.
TEST(CacheCommandTest, GcTakesMaxSizeFromTheConfigAndTheFlagOverridesIt) {
  test::TempDir dir;
  const auto config = dir.write_file("forge.json", R"({"cache": {"max_size": "3K"}})");
  const std::string forge =
      shell_quote(test::forge_binary().string()) + " --config " + shell_quote(config.string());
  const std::string store = " --dir " + shell_quote((dir / "store").string());
  for (int i = 0; i < 4; ++i) {
    const auto file = dir.write_file("f" + std::to_string(i), std::string(1000, 'a' + i));
    ASSERT_EQ(test::run_shell(forge + " cache put " + shell_quote(file.string()) + store).exit_code,
              0);
  }
  const auto from_config = test::run_shell(forge + " cache gc" + store);
  ASSERT_EQ(from_config.exit_code, 0) << from_config.err;
  EXPECT_EQ(nlohmann::json::parse(from_config.out)["evicted"], 1);
  EXPECT_EQ(nlohmann::json::parse(from_config.out)["bytes"], 3000);
  const auto flag = test::run_shell(forge + " cache gc --max-size 1K" + store);
  ASSERT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_EQ(nlohmann::json::parse(flag.out)["evicted"], 2);
  EXPECT_EQ(nlohmann::json::parse(flag.out)["bytes"], 1000);
}

TEST(CacheCommandTest, GcNeedsAValidMaxSize) {
  test::TempDir dir;
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string store = " --dir " + shell_quote((dir / "store").string());
  const auto empty_config = dir.write_file("forge.json", "{}");
  const auto missing = test::run_shell(forge + " --config " + shell_quote(empty_config.string()) +
                                       " cache gc" + store);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--max-size"), std::string::npos);
  const auto junk = test::run_shell(forge + " cache gc --max-size lots" + store);
  EXPECT_EQ(junk.exit_code, 2);
  EXPECT_NE(junk.err.find("'lots' is not a size"), std::string::npos);
}

// A real full disk: a 1 MiB tmpfs mounted inside a user + mount namespace (no root needed).
TEST(CacheCommandTest, DiskFullIsAClearErrorLeavesNothingIndexedAndTheStoreRecovers) {
  test::TempDir dir;
  if (test::run_shell("unshare -Urm true").exit_code != 0) {
    GTEST_SKIP() << "user namespaces are not available: cannot mount a small tmpfs";
  }
  dir.write_file("big", std::string(2 << 20, 'x'));
  dir.write_file("small", "fits easily\n");
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string mnt = shell_quote((dir / "mnt").string());
  const std::string store = " --dir " + mnt + "/store";
  const std::string script =
      "set -u; mkdir -p " + mnt + " && mount -t tmpfs -o size=1m tmpfs " + mnt + " || exit 90\n" +
      forge + " cache put " + shell_quote((dir / "big").string()) + store + "; echo big=$?\n" +
      "echo tmp=$(ls " + mnt + "/store/tmp | wc -l)\n" + forge + " cache stat" + store + "\n" +
      forge + " cache put " + shell_quote((dir / "small").string()) + store +
      " >/dev/null; echo small=$?\n" + forge + " cache stat" + store + "\n";
  const auto run = test::run_shell("unshare -Urm sh -c " + shell_quote(script));
  if (run.exit_code == 90) GTEST_SKIP() << "cannot mount tmpfs here: " << run.err;
  EXPECT_NE(run.out.find("big=1"), std::string::npos) << run.out << run.err;
  EXPECT_NE(run.err.find("No space left on device"), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("tmp=0"), std::string::npos) << "the failed temp must be removed";
  EXPECT_NE(run.out.find("\"entries\":0"), std::string::npos) << "nothing indexed: " << run.out;
  EXPECT_NE(run.out.find("small=0"), std::string::npos) << "store must keep working: " << run.err;
  EXPECT_NE(run.out.find("\"entries\":1"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace forge
