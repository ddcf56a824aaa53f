#include "forge/core/support/log.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <spdlog/spdlog.h>

#include "forge/test/temp_dir.h"

namespace forge::support {
namespace {

const spdlog::level::level_enum k_levels[] = {spdlog::level::trace, spdlog::level::debug,
                                              spdlog::level::info, spdlog::level::warn,
                                              spdlog::level::err};
const char* const k_level_names[] = {"trace", "debug", "info", "warn", "error"};

LoggingConfig file_only(const std::filesystem::path& file, std::string level = "trace") {
  LoggingConfig config;
  config.file = file;
  config.to_stderr = false;
  config.format = LogFormat::json;
  config.level = std::move(level);
  return config;
}

std::vector<nlohmann::json> read_lines(const std::filesystem::path& file) {
  spdlog::default_logger()->flush();
  std::vector<nlohmann::json> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// Feature: platform-native-io-hardening, Property 16: Structured Logging Format
RC_GTEST_PROP(LogProperty, Property16_EveryEntryIsJsonWithTimestampLevelMessage,
              (const std::string& message, const std::string& path, int duration)) {
  test::TempDir dir;
  RC_ASSERT(init_logging(file_only(dir / "forge.log")).has_value());
  log(spdlog::level::info, message,
      {{"path", path}, {"duration_us", duration}, {"operation", "read"}});
  spdlog::warn("plain spdlog call {}", 7);
  const auto lines = read_lines(dir / "forge.log");
  RC_ASSERT(lines.size() == 2u);
  for (const auto& line : lines) {
    RC_ASSERT(line.contains("timestamp") && line.contains("level") && line.contains("message"));
    const std::string timestamp = line["timestamp"];
    // RFC 3339 UTC with milliseconds: 2026-11-24T15:06:37.123Z
    RC_ASSERT(timestamp.size() == 24u);
    RC_ASSERT(timestamp[10] == 'T' && timestamp[19] == '.' && timestamp.back() == 'Z');
  }
  RC_ASSERT(lines[0]["level"] == "info");
  RC_ASSERT(lines[0]["duration_us"] == duration);
  RC_ASSERT(lines[0]["operation"] == "read");
  RC_ASSERT(lines[1]["message"] == "plain spdlog call 7");
}

// Feature: platform-native-io-hardening, Property 17: Log Level Filtering
RC_GTEST_PROP(LogProperty, Property17_OnlyEntriesAtOrAboveTheLevelAreEmitted, ()) {
  const int threshold = *rc::gen::inRange(0, 5);
  const auto emitted = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 5));
  test::TempDir dir;
  RC_ASSERT(init_logging(file_only(dir / "forge.log", k_level_names[threshold])).has_value());
  std::vector<std::string> expected;
  for (int level : emitted) {
    log(k_levels[level], "entry");
    if (level >= threshold) expected.emplace_back(k_level_names[level]);
  }
  std::vector<std::string> seen;
  for (const auto& line : read_lines(dir / "forge.log")) seen.push_back(line["level"]);
  RC_ASSERT(seen == expected);
}

// Feature: platform-native-io-hardening, Property 19: Slow Operation Warning
RC_GTEST_PROP(LogProperty, Property19_SlowOperationsWarnWithOperationAndDuration, (bool slow)) {
  test::TempDir dir;
  RC_ASSERT(init_logging(file_only(dir / "forge.log", "info")).has_value());
  // Threshold 0: any real duration exceeds it; one hour: none does.
  const auto threshold =
      slow ? std::chrono::nanoseconds(0) : std::chrono::nanoseconds(std::chrono::hours(1));
  std::chrono::nanoseconds took;
  {
    OperationTimer timer("batch_hash", threshold, {{"path", "/tmp/x"}});
    took = timer.finish();
  }
  const auto lines = read_lines(dir / "forge.log");
  if (!slow) {
    RC_ASSERT(lines.empty());
    return;
  }
  RC_ASSERT(lines.size() == 1u);
  RC_ASSERT(lines[0]["level"] == "warn");
  RC_ASSERT(lines[0]["operation"] == "batch_hash");
  RC_ASSERT(lines[0]["duration_us"] ==
            std::chrono::duration_cast<std::chrono::microseconds>(took).count());
  RC_ASSERT(lines[0]["message"].get<std::string>().find("batch_hash") != std::string::npos);
}

// Feature: platform-native-io-hardening, Property 20: Log Rotation
RC_GTEST_PROP(LogProperty, Property20_FilesRotateBeforeExceedingTheLimit, ()) {
  test::TempDir dir;
  LoggingConfig config = file_only(dir / "forge.log");
  config.max_file_size = *rc::gen::inRange<std::size_t>(1024, 8192);
  config.max_files = *rc::gen::inRange<std::size_t>(1, 4);
  RC_ASSERT(init_logging(config).has_value());
  const int entries = *rc::gen::inRange(1, 400);
  for (int i = 0; i < entries; ++i) log(spdlog::level::info, "entry " + std::to_string(i));
  spdlog::default_logger()->flush();
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    RC_ASSERT(entry.file_size() <= config.max_file_size);
  }
  RC_ASSERT(files <= config.max_files + 1);  // the live file plus max_files rotated ones
  const auto lines = read_lines(dir / "forge.log");
  RC_ASSERT(!lines.empty());
  RC_ASSERT(lines.back()["message"] == "entry " + std::to_string(entries - 1));
}

TEST(LogTest, UnknownLevelIsAConfigurationError) {
  auto level = parse_log_level("verbose");
  ASSERT_FALSE(level);
  EXPECT_EQ(level.error().category(), ErrorCategory::configuration);
}

TEST(LogTest, ForgeLogEnvironmentOverridesTheConfigLevel) {
  setenv("FORGE_LOG", "error", 1);
  EXPECT_EQ(with_environment(LoggingConfig{}).level, "error");
  setenv("FORGE_LOG", "bogus", 1);
  EXPECT_EQ(with_environment(LoggingConfig{}).level, "info");
  unsetenv("FORGE_LOG");
}

TEST(LogTest, LogErrorCarriesCategoryPathAndSuggestions) {
  test::TempDir dir;
  ASSERT_TRUE(init_logging(file_only(dir / "forge.log")));
  log_error(Error::from_errno(EMFILE, "open", "/src/a.c"));
  const auto lines = read_lines(dir / "forge.log");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["category"], "FileSystem");
  EXPECT_EQ(lines[0]["path"], "/src/a.c");
  EXPECT_FALSE(lines[0]["suggestions"].empty());
}

TEST(LogTest, CrashHandlerReportsTheSignalAndStillDiesByIt) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    dup2(pipe_fds[1], STDERR_FILENO);
    install_crash_handler();
    raise(SIGSEGV);
    _exit(0);  // not reached
  }
  close(pipe_fds[1]);
  std::string output;
  char buffer[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0) output.append(buffer, n);
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGSEGV);
  EXPECT_NE(output.find("fatal signal 11"), std::string::npos) << output;
}

}  // namespace
}  // namespace forge::support
