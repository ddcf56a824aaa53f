#include "forge/bazel_remote/auth.h"

#include <crypt.h>

#include <gtest/gtest.h>

#include "forge/test/temp_dir.h"

namespace forge::bazel_remote {
namespace {

std::string basic(const std::string& user_password) {
  // Encoded by the openssl CLI's rules; checked against base64_decode below.
  static constexpr char k_alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  const auto* data = reinterpret_cast<const unsigned char*>(user_password.data());
  for (std::size_t i = 0; i < user_password.size(); i += 3) {
    std::uint32_t n = std::uint32_t(data[i]) << 16;
    if (i + 1 < user_password.size()) n |= std::uint32_t(data[i + 1]) << 8;
    if (i + 2 < user_password.size()) n |= data[i + 2];
    out += k_alphabet[(n >> 18) & 63];
    out += k_alphabet[(n >> 12) & 63];
    out += i + 1 < user_password.size() ? k_alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < user_password.size() ? k_alphabet[n & 63] : '=';
  }
  return "Basic " + out;
}

std::string sha512_crypt(const std::string& password) {
  crypt_data data{};
  return crypt_r(password.c_str(), "$6$forgesalt$", &data);
}

TEST(Base64Test, DecodesAndRejects) {
  EXPECT_EQ(base64_decode("dXNlcjpwYXNz").value(), "user:pass");
  EXPECT_EQ(base64_decode("YQ==").value(), "a");
  EXPECT_EQ(base64_decode("").value(), "");
  EXPECT_FALSE(base64_decode("not base64!"));
  EXPECT_FALSE(base64_decode("Y"));
}

TEST(AuthenticatorTest, NoFilesMeansOff) {
  auto auth = Authenticator::load({}).value();
  EXPECT_EQ(auth->mode(), AuthMode::off);
  EXPECT_EQ(auth->check("", true), AuthResult::allowed);
}

TEST(AuthenticatorTest, HtpasswdBasicWithShaCryptAndSha1) {
  test::TempDir dir;
  // "{SHA}" + base64(sha1("secret")), as `htpasswd -s` writes it.
  dir.write_file("htpasswd", "# users\nalice:" + sha512_crypt("wonderland") +
                                 "\nbob:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n");
  auto auth = Authenticator::load({.htpasswd_file = dir / "htpasswd"}).value();
  EXPECT_EQ(auth->mode(), AuthMode::all);
  EXPECT_EQ(auth->check(basic("alice:wonderland"), false), AuthResult::allowed);
  EXPECT_EQ(auth->check(basic("alice:wonderland"), true), AuthResult::allowed);  // cached path
  EXPECT_EQ(auth->check(basic("bob:secret"), true), AuthResult::allowed);
  EXPECT_EQ(auth->check(basic("alice:wrong"), false), AuthResult::bad_credentials);
  EXPECT_EQ(auth->check(basic("mallory:wonderland"), false), AuthResult::bad_credentials);
  EXPECT_EQ(auth->check("", false), AuthResult::missing_credentials);
  EXPECT_EQ(auth->check("Basic %%%", false), AuthResult::bad_credentials);
}

TEST(AuthenticatorTest, BearerTokensAndAnonymousRead) {
  test::TempDir dir;
  dir.write_file("tokens", "# CI\n0123456789abcdef0123\n\n");
  auto auth = Authenticator::load({.tokens_file = dir / "tokens", .anonymous_read = true}).value();
  EXPECT_EQ(auth->mode(), AuthMode::write_only);
  EXPECT_EQ(auth->check("", false), AuthResult::allowed);
  EXPECT_EQ(auth->check("", true), AuthResult::missing_credentials);
  EXPECT_EQ(auth->check("Bearer 0123456789abcdef0123", true), AuthResult::allowed);
  EXPECT_EQ(auth->check("bearer 0123456789abcdef0123", true), AuthResult::allowed);
  EXPECT_EQ(auth->check("Bearer 0123456789abcdef012", true), AuthResult::bad_credentials);
}

// Regression (issue 16 item 16): crypt() stopped at a NUL, so "wonderland\0junk" passed.
TEST(AuthenticatorTest, APasswordWithANulInsideNeverAuthenticates) {
  test::TempDir dir;
  dir.write_file("htpasswd", "alice:" + sha512_crypt("wonderland") +
                                 "\nbob:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n");
  auto auth = Authenticator::load({.htpasswd_file = dir / "htpasswd"}).value();
  using namespace std::string_literals;
  EXPECT_EQ(auth->check(basic("alice:wonderland\0junk"s), false), AuthResult::bad_credentials);
  EXPECT_EQ(auth->check(basic("alice:wonderland\0"s), false), AuthResult::bad_credentials);
  EXPECT_EQ(auth->check(basic("bob:secret\0"s), false), AuthResult::bad_credentials);
  EXPECT_EQ(auth->check(basic("alice:wonderland"), false), AuthResult::allowed);
}

// Regression (issue 16 item 16): HTTP (Beast strips the header's trailing spaces) accepted
// "Bearer TOKEN  ", gRPC (metadata kept as sent) refused it. Both call check(): one rule.
TEST(AuthenticatorTest, SurroundingWhitespaceIsIgnoredButTheTokenItselfMustMatchExactly) {
  test::TempDir dir;
  dir.write_file("tokens", "0123456789abcdef0123\n");
  auto auth = Authenticator::load({.tokens_file = dir / "tokens"}).value();
  EXPECT_EQ(auth->check("Bearer 0123456789abcdef0123  ", true), AuthResult::allowed);
  EXPECT_EQ(auth->check(" \tBearer 0123456789abcdef0123\t", true), AuthResult::allowed);
  EXPECT_EQ(auth->check("Bearer 0123456789abcdef0123 x", true), AuthResult::bad_credentials);
  using namespace std::string_literals;
  EXPECT_EQ(auth->check("Bearer 0123456789abcdef0123\0"s, true), AuthResult::bad_credentials);
  EXPECT_EQ(auth->check("Bearer 0123456789abcdef012", true), AuthResult::bad_credentials);
}

TEST(AuthenticatorTest, BadFilesAreConfigurationErrorsNamingTheLine) {
  test::TempDir dir;
  dir.write_file("apr1", "carol:$apr1$abc$def\n");
  auto apr1 = Authenticator::load({.htpasswd_file = dir / "apr1"});
  ASSERT_FALSE(apr1);
  EXPECT_EQ(apr1.error().category(), ErrorCategory::configuration);
  EXPECT_NE(apr1.error().message().find("apr1:1"), std::string::npos) << apr1.error().message();
  EXPECT_NE(apr1.error().suggestions().at(0).find("htpasswd -B"), std::string::npos);
  dir.write_file("malformed", "\n\njust-a-name\n");
  auto malformed = Authenticator::load({.htpasswd_file = dir / "malformed"});
  ASSERT_FALSE(malformed);
  EXPECT_NE(malformed.error().message().find("malformed:3"), std::string::npos);
  auto missing = Authenticator::load({.tokens_file = dir / "absent"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("absent"), std::string::npos);
  dir.write_file("short", "abc\n");
  EXPECT_FALSE(Authenticator::load({.tokens_file = dir / "short"}));
  EXPECT_FALSE(Authenticator::load({.anonymous_read = true})) << "anonymous read of what?";
}

}  // namespace
}  // namespace forge::bazel_remote
