#include "forge/core/support/lifecycle.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "forge/core/io/backend_selector.h"
#include "forge/test/temp_dir.h"

namespace forge::support {
namespace {

TEST(LifecycleTest, HooksRunInReverseOrderAndCleanShutdownExitsZero) {
  Lifecycle lifecycle;
  std::vector<std::string> order;
  lifecycle.add_hook("open store", [&] {
    order.push_back("persist state");
    return ok();
  });
  lifecycle.add_hook("start logging", [&] {
    order.push_back("flush logs");
    return ok();
  });
  lifecycle.add_hook("accept", [&] {
    order.push_back("stop accepting");
    return ok();
  });
  lifecycle.request_shutdown("test");
  EXPECT_TRUE(lifecycle.wait_for_shutdown(std::chrono::milliseconds(0)));
  const auto report = lifecycle.shutdown(std::chrono::seconds(5));
  EXPECT_TRUE(report.clean);
  EXPECT_EQ(report.reason, "test");
  EXPECT_EQ(order, (std::vector<std::string>{"stop accepting", "flush logs", "persist state"}));
  EXPECT_EQ(lifecycle.exit_code(), 0);
}

TEST(LifecycleTest, WaitTimesOutWithoutARequest) {
  Lifecycle lifecycle;
  EXPECT_FALSE(lifecycle.wait_for_shutdown(std::chrono::milliseconds(10)));
  EXPECT_FALSE(lifecycle.stop_requested());
  EXPECT_EQ(lifecycle.exit_code(), 1);  // no shutdown ran: not clean
}

TEST(LifecycleTest, LateHookMakesTheShutdownUnclean) {
  Lifecycle lifecycle;
  lifecycle.add_hook("slow", [] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return ok();
  });
  const auto report = lifecycle.shutdown(std::chrono::milliseconds(1));
  EXPECT_FALSE(report.clean);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].category(), ErrorCategory::timeout);
  EXPECT_EQ(lifecycle.exit_code(), 1);
}

// Feature: platform-native-io-hardening, Property 22: Exit Code Correctness
RC_GTEST_PROP(LifecycleProperty, Property22_ExitCodeIsZeroIffEveryHookSucceeded,
              (const std::vector<bool>& hook_succeeds)) {
  Lifecycle lifecycle;
  int ran = 0;
  for (bool succeeds : hook_succeeds) {
    lifecycle.add_hook("hook", [&ran, succeeds]() -> Result<void> {
      ++ran;
      if (succeeds) return ok();
      return fail(Error::from_errno(EIO, "fsync", "/store/index"));
    });
  }
  const auto report = lifecycle.shutdown(std::chrono::minutes(1));
  const bool all_ok =
      std::all_of(hook_succeeds.begin(), hook_succeeds.end(), [](bool b) { return b; });
  RC_ASSERT(ran == static_cast<int>(hook_succeeds.size()));  // failures do not skip hooks
  RC_ASSERT(report.clean == all_ok);
  RC_ASSERT((lifecycle.exit_code() == 0) == all_ok);
}

// Feature: platform-native-io-hardening, Property 21: Graceful Shutdown Completeness
// A real child process writes files until SIGTERM; its hooks stop the writer (which
// finishes the write in flight) and flush a log. Every acknowledged write must be
// complete on disk, no temp file may remain, the log must be flushed, and exit must be 0.
TEST(LifecycleTest, Property21_SigtermFinishesInFlightWritesFlushesAndExitsZero) {
  test::TempDir dir;
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    close(ready[0]);
    Lifecycle lifecycle;
    if (!lifecycle.install_signal_handlers()) _exit(20);
    auto io = io::create_fallback_io({}, nullptr);
    std::ofstream acks(dir / "acks");
    std::ofstream log(dir / "log");
    std::atomic<bool> accepting{true};
    std::thread writer([&] {
      for (int i = 0; accepting; ++i) {
        const std::string data(64 * 1024, static_cast<char>('a' + i % 26));
        const auto path = dir / ("out" + std::to_string(i));
        if (!io->write_all(path, std::as_bytes(std::span(data)), io::Sync::yes)) _exit(21);
        acks << i << '\n' << std::flush;
        if (i == 3) [[maybe_unused]]
          auto n = write(ready[1], "r", 1);
      }
    });
    lifecycle.add_hook("flush log", [&] {
      log << "shutdown complete\n";
      log.flush();
      return ok();
    });
    lifecycle.add_hook("drain writer", [&] {
      accepting = false;
      writer.join();
      return ok();
    });
    lifecycle.wait_for_shutdown();
    lifecycle.shutdown(std::chrono::seconds(10));
    _exit(lifecycle.exit_code());
  }
  close(ready[1]);
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);  // the writer is mid-stream
  close(ready[0]);
  ASSERT_EQ(kill(child, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::ifstream acks(dir / "acks");
  int acknowledged = 0;
  for (int i; acks >> i; ++acknowledged) {
    const std::string content = dir.read_file("out" + std::to_string(i));
    ASSERT_EQ(content, std::string(64 * 1024, static_cast<char>('a' + i % 26))) << i;
  }
  EXPECT_GE(acknowledged, 4);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find("forge-tmp"), std::string::npos);
  }
  EXPECT_EQ(dir.read_file("log"), "shutdown complete\n");
}

}  // namespace
}  // namespace forge::support

namespace forge::support {
namespace {

// Regression: a zero-timeout wait (a polling main loop) must still see a pending signal.
TEST(LifecycleTest, ZeroTimeoutWaitSeesAPendingSignal) {
  Lifecycle lifecycle;
  ASSERT_TRUE(lifecycle.install_signal_handlers());
  ASSERT_EQ(raise(SIGTERM), 0);
  EXPECT_TRUE(lifecycle.wait_for_shutdown(std::chrono::milliseconds(0)));
  EXPECT_EQ(lifecycle.shutdown(std::chrono::seconds(1)).reason, "SIGTERM");
}

}  // namespace
}  // namespace forge::support
