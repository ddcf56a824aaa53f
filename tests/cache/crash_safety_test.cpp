// Crash safety of CasStore: a real child process streams puts and is SIGKILLed at a random
// moment, many times. After each restart every acknowledged put must read back intact, no
// partial blob may be visible under cas/, and the index totals must match the files on disk.
// Label `stress`; FORGE_STRESS_ITERATIONS raises the number of kills (CI runs the default).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "forge/cache/cas_store.h"
#include "forge/test/temp_dir.h"

namespace forge::cache {
namespace {

// Deterministic content for (round, index): the parent regenerates what the child wrote.
std::string content_for(std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string content(random() % (256 * 1024), '\0');
  for (auto& c : content) c = static_cast<char>(random());
  return content;
}

[[noreturn]] void child_put_forever(const StoreOptions& options, int ack_fd, std::uint64_t round) {
  auto store = CasStore::open(options);
  if (!store) _exit(3);
  // Tell the parent the store is open (its `running` marker exists) before any put, so the
  // kill always lands on an open store however slowly this child started.
  if (::write(ack_fd, "R", 1) != 1) _exit(5);
  for (std::uint64_t i = 0;; ++i) {
    const std::uint64_t seed = round * 1'000'000 + i;
    const std::string content = content_for(seed);
    auto digest = (*store)->put(std::as_bytes(std::span(content)), digest_of(content));
    if (!digest) _exit(4);
    // Acknowledged: only now may the parent rely on it.
    const std::string line = std::to_string(seed) + "\n";
    if (::write(ack_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
  }
}

int iterations() {
  if (const char* text = std::getenv("FORGE_STRESS_ITERATIONS"))
    return std::max(1, std::atoi(text));
  return 15;
}

TEST(CasCrashSafetyTest, KillNineDuringPutsLosesNoAcknowledgedBlob) {
  test::TempDir dir;
  StoreOptions options;
  options.dir = dir / "store";
  options.fsync = true;  // acknowledged means durable
  std::mt19937 random(std::random_device{}());
  std::uint64_t acknowledged_total = 0;
  std::vector<std::uint64_t> acknowledged;
  for (int round = 1; round <= iterations(); ++round) {
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = fork();
    ASSERT_NE(child, -1);
    if (child == 0) {
      ::close(pipe_fds[0]);
      child_put_forever(options, pipe_fds[1], static_cast<std::uint64_t>(round));
    }
    ::close(pipe_fds[1]);
    char ready = 0;
    ASSERT_EQ(::read(pipe_fds[0], &ready, 1), 1) << "round " << round << ": child never opened";
    ASSERT_EQ(ready, 'R');
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + random() % 60));
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child failed on its own with exit " << WEXITSTATUS(status);
    std::string acks;
    char buffer[4096];
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) acks.append(buffer, n);
    ::close(pipe_fds[0]);
    for (std::size_t pos = 0, end; (end = acks.find('\n', pos)) != std::string::npos;
         pos = end + 1) {
      acknowledged.push_back(std::stoull(acks.substr(pos, end - pos)));
    }

    auto store = CasStore::open(options);
    ASSERT_TRUE(store) << store.error().to_string();
    ASSERT_TRUE((*store)->recovery()) << "round " << round << ": crash not detected";
    EXPECT_EQ((*store)->recovery()->quarantined, 0u) << "a partial blob was visible under cas/";
    for (std::uint64_t seed : acknowledged) {
      const std::string content = content_for(seed);
      auto read = (*store)->get(digest_of(content));
      ASSERT_TRUE(read) << read.error().to_string();
      ASSERT_TRUE(*read) << "round " << round << ": acknowledged blob " << seed << " lost";
      ASSERT_EQ(**read, content) << "round " << round << ": blob " << seed << " corrupt";
    }
    std::uint64_t files = 0, bytes = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(options.dir / "cas")) {
      if (!entry.is_regular_file()) continue;
      ++files;
      bytes += entry.file_size();
    }
    const auto stats = (*store)->stats().value();
    EXPECT_EQ(stats.entries, files) << "round " << round;
    EXPECT_EQ(stats.bytes, bytes) << "round " << round;
    EXPECT_TRUE(std::filesystem::is_empty(options.dir / "tmp")) << "stale temps after restart";
    acknowledged_total = acknowledged.size();
  }
  EXPECT_GT(acknowledged_total, 0u) << "the child never acknowledged a put: nothing was tested";
  RecordProperty("acknowledged_puts", static_cast<int>(acknowledged_total));
}

}  // namespace
}  // namespace forge::cache
