#include "forge/ninja/murmur_hash.h"

#include <gtest/gtest.h>

#include "forge/ninja/build_log.h"
#include "tiny_project.h"

namespace forge::ninja {
namespace {

using MurmurHashTest = test::TinyNinjaProject;

// The test vector is Ninja itself: the hash it logged for a command we know.
TEST_F(MurmurHashTest, MatchesTheHashTheRealNinjaLogs) {
  auto log = read_build_log(m_dir / ".ninja_log");
  ASSERT_TRUE(log) << log.error().to_string();
  const LogEntry* entry = log->find("all.out");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->command_hash, command_hash("cat a.out b.out > all.out"));
  EXPECT_NE(entry->command_hash, command_hash("cat a.out b.out > all.out "));
}

TEST(MurmurHash, EveryTailLengthChangesTheHash) {
  // Lengths 0..16 cover the 8-byte loop and each of the 7 tail cases.
  const std::string text = "0123456789abcdefg";
  std::uint64_t previous = 0;
  for (std::size_t length = 0; length <= text.size(); ++length) {
    const std::uint64_t hash = murmur_hash_64a(std::string_view(text).substr(0, length));
    EXPECT_NE(hash, previous) << length;
    previous = hash;
  }
}

}  // namespace
}  // namespace forge::ninja
