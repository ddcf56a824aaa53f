#include "forge/core/support/error.h"

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace forge {
namespace {

bool is_valid_category(ErrorCategory category) {
  return std::find(std::begin(k_all_error_categories), std::end(k_all_error_categories),
                   category) != std::end(k_all_error_categories);
}

TEST(ErrorTest, EmfileIsFileSystemAndSuggestsUlimitAndMaxFileHandles) {
  const Error error = Error::from_errno(EMFILE, "open", "/tmp/x");
  EXPECT_EQ(error.category(), ErrorCategory::file_system);
  EXPECT_EQ(error.code(), EMFILE);
  EXPECT_EQ(error.context().file, "/tmp/x");
  EXPECT_EQ(error.context().operation, "open");
  const auto suggestions = error.suggestions();
  ASSERT_FALSE(suggestions.empty());
  EXPECT_NE(suggestions.front().find("ulimit -n"), std::string::npos);
  EXPECT_NE(suggestions.front().find("max_file_handles"), std::string::npos);
  EXPECT_FALSE(error.is_retryable());
}

TEST(ErrorTest, TemporaryOsFailuresAreRetryable) {
  for (int code : {EAGAIN, EINTR, EBUSY}) {
    EXPECT_TRUE(Error::from_errno(code, "read").is_retryable()) << code;
  }
  EXPECT_FALSE(Error::from_errno(ENOENT, "open").is_retryable());
  EXPECT_FALSE(Error::from_errno(EACCES, "open").is_retryable());
}

TEST(ErrorTest, NetworkAndTimeoutAreRetryableValidationIsNot) {
  EXPECT_TRUE(Error(ErrorCategory::network, "reset").is_retryable());
  EXPECT_TRUE(Error(ErrorCategory::timeout, "slow").is_retryable());
  EXPECT_FALSE(Error(ErrorCategory::validation, "bad digest").is_retryable());
  EXPECT_FALSE(Error(ErrorCategory::configuration, "bad key").is_retryable());
}

TEST(ErrorTest, ErrnoMapsToExpectedCategories) {
  EXPECT_EQ(category_for_errno(ECONNREFUSED), ErrorCategory::network);
  EXPECT_EQ(category_for_errno(ETIMEDOUT), ErrorCategory::timeout);
  EXPECT_EQ(category_for_errno(EINVAL), ErrorCategory::validation);
  EXPECT_EQ(category_for_errno(ENOSYS), ErrorCategory::dependency);
  EXPECT_EQ(category_for_errno(ENOSPC), ErrorCategory::file_system);
  EXPECT_EQ(category_for_errno(123456), ErrorCategory::unknown);
}

TEST(ErrorTest, ErrorCodeGoesThroughTheSameMapping) {
  const auto code = std::make_error_code(std::errc::no_space_on_device);
  const Error error = Error::from_error_code(code, "write", "/x");
  EXPECT_EQ(error.category(), ErrorCategory::file_system);
  EXPECT_EQ(error.code(), ENOSPC);
  EXPECT_EQ(category_for_error_code(std::make_error_code(std::errc::connection_refused)),
            ErrorCategory::network);
}

TEST(ErrorTest, BuildersFillContextAndExtraSuggestionsComeFirst) {
  Error error = Error(ErrorCategory::configuration, "missing config")
                    .with_file("/etc/forge.json")
                    .with_backend("io_uring")
                    .with_retry_count(3)
                    .with_suggestion("create it with `forge config init`");
  EXPECT_EQ(error.context().file, "/etc/forge.json");
  EXPECT_EQ(error.context().backend, "io_uring");
  EXPECT_EQ(error.context().retry_count, 3u);
  EXPECT_EQ(error.suggestions().front(), "create it with `forge config init`");
  EXPECT_EQ(error.context().platform, "Linux");
}

TEST(ErrorTest, TryMacrosPropagateErrors) {
  auto failing = []() -> Result<int> { return fail(Error::from_errno(ENOENT, "stat")); };
  auto caller = [&]() -> Result<int> {
    FORGE_TRY(int value, failing());
    return value + 1;
  };
  const auto result = caller();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ENOENT);
}

// Feature: platform-native-io-hardening, Property 9: For any error produced by the system,
// the error categorization function SHALL assign exactly one category from {Network,
// FileSystem, Configuration, Validation, Dependency, Timeout, Unknown}.
RC_GTEST_PROP(ErrorProperty, Property9_EveryErrnoGetsExactlyOneValidCategory, ()) {
  const int code = *rc::gen::inRange(-10, 4096);
  const ErrorCategory category = category_for_errno(code);
  RC_ASSERT(is_valid_category(category));
  // Deterministic: the same input always gives the same single category.
  RC_ASSERT(category_for_errno(code) == category);
  const Error error = Error::from_errno(code, "op");
  RC_ASSERT(error.category() == category);
  RC_ASSERT(category_for_error_code(std::error_code(code, std::generic_category())) ==
            (code == 0 ? ErrorCategory::unknown : category));
}

// Feature: platform-native-io-hardening, Property 11: For any error logged by the system,
// the error record SHALL contain a non-empty message, a valid category, a timestamp, and
// context-specific suggestions (non-empty list).
RC_GTEST_PROP(ErrorProperty, Property11_EveryErrorHasMessageCategoryTimestampSuggestions, ()) {
  const bool from_os = *rc::gen::arbitrary<bool>();
  const auto before = std::chrono::system_clock::now();
  Error error =
      from_os ? Error::from_errno(*rc::gen::inRange(0, 200), *rc::gen::arbitrary<std::string>(),
                                  *rc::gen::arbitrary<std::string>())
              : Error(*rc::gen::element(ErrorCategory::network, ErrorCategory::file_system,
                                        ErrorCategory::configuration, ErrorCategory::validation,
                                        ErrorCategory::dependency, ErrorCategory::timeout,
                                        ErrorCategory::unknown),
                      *rc::gen::arbitrary<std::string>());
  RC_ASSERT(!error.message().empty());
  RC_ASSERT(is_valid_category(error.category()));
  RC_ASSERT(error.context().timestamp >= before);
  RC_ASSERT(error.context().timestamp <= std::chrono::system_clock::now());
  const auto suggestions = error.suggestions();
  RC_ASSERT(!suggestions.empty());
  for (const auto& suggestion : suggestions) RC_ASSERT(!suggestion.empty());
  RC_ASSERT(!error.to_string().empty());
}

}  // namespace
}  // namespace forge
