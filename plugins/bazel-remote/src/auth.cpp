#include "forge/bazel_remote/auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <fstream>

#include <fmt/format.h>

namespace forge::bazel_remote {
namespace {

Error config_error(const std::filesystem::path& file, std::size_t line, std::string problem,
                   std::string suggestion) {
  return Error(ErrorCategory::configuration,
               line == 0 ? fmt::format("{}: {}", file.string(), problem)
                         : fmt::format("{}:{}: {}", file.string(), line, problem))
      .with_suggestion(std::move(suggestion));
}

std::string base64_encode(const unsigned char* data, std::size_t size) {
  static constexpr char k_alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < size; i += 3) {
    const std::uint32_t n = (std::uint32_t(data[i]) << 16) |
                            (i + 1 < size ? std::uint32_t(data[i + 1]) << 8 : 0) |
                            (i + 2 < size ? std::uint32_t(data[i + 2]) : 0);
    out.push_back(k_alphabet[(n >> 18) & 63]);
    out.push_back(k_alphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < size ? k_alphabet[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < size ? k_alphabet[n & 63] : '=');
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool password_matches(const std::string& hash, const std::string& password) {
  if (hash.rfind("{SHA}", 0) == 0) {
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(password.data()), password.size(), digest);
    return constant_time_equal(hash.substr(5), base64_encode(digest, sizeof digest));
  }
  // crypt() reads a C string: a password with a NUL inside would be checked only up to it
  // ("secret\0anything" as "secret"). No htpasswd password holds a NUL, so none matches.
  if (password.find('\0') != std::string::npos) return false;
  crypt_data data{};
  const char* computed = crypt_r(password.c_str(), hash.c_str(), &data);
  return computed != nullptr && computed[0] != '*' && constant_time_equal(computed, hash);
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = value(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a dangling sextet is not valid base64
  return out;
}

Result<std::shared_ptr<Authenticator>> Authenticator::load(const AuthOptions& options) {
  auto auth = std::shared_ptr<Authenticator>(new Authenticator());
  if (!options.htpasswd_file && !options.tokens_file) {
    if (options.anonymous_read) {
      return fail(Error(ErrorCategory::configuration,
                        "anonymous read needs credentials for writes, but none were given")
                      .with_suggestion("add --htpasswd FILE or --tokens FILE"));
    }
    return auth;
  }
  auth->m_mode = options.anonymous_read ? AuthMode::write_only : AuthMode::all;
  if (options.htpasswd_file) {
    std::ifstream in(*options.htpasswd_file);
    if (!in) {
      return fail(config_error(*options.htpasswd_file, 0, "cannot be read",
                               "check the path and its permissions"));
    }
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      const auto colon = line.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == line.size()) {
        return fail(config_error(*options.htpasswd_file, number, "expected user:hash",
                                 "create entries with `htpasswd -B FILE USER`"));
      }
      const std::string hash = line.substr(colon + 1);
      const bool supported = hash.rfind("{SHA}", 0) == 0 || hash.rfind("$2y$", 0) == 0 ||
                             hash.rfind("$2b$", 0) == 0 || hash.rfind("$2a$", 0) == 0 ||
                             hash.rfind("$5$", 0) == 0 || hash.rfind("$6$", 0) == 0 ||
                             hash.rfind("$1$", 0) == 0;
      if (!supported) {
        return fail(config_error(
            *options.htpasswd_file, number,
            fmt::format("user '{}': unsupported password hash (apr1-MD5 or plain text?)",
                        line.substr(0, colon)),
            "re-create the entry with bcrypt: `htpasswd -B FILE USER`"));
      }
      auth->m_users[line.substr(0, colon)] = hash;
    }
  }
  if (options.tokens_file) {
    std::ifstream in(*options.tokens_file);
    if (!in) {
      return fail(config_error(*options.tokens_file, 0, "cannot be read",
                               "check the path and its permissions"));
    }
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      if (line.size() < 16) {
        return fail(config_error(*options.tokens_file, number, "token shorter than 16 characters",
                                 "generate one with `openssl rand -hex 32`"));
      }
      auth->m_tokens.insert(line);
    }
  }
  if (auth->m_users.empty() && auth->m_tokens.empty()) {
    return fail(Error(ErrorCategory::configuration,
                      "authentication is on but the credential files hold no entries")
                    .with_suggestion("add users with `htpasswd -B` or tokens, one per line"));
  }
  return auth;
}

bool Authenticator::verify(std::string_view authorization) const {
  {
    std::lock_guard lock(m_mutex);
    if (m_verified.count(std::string(authorization)) != 0) return true;
  }
  bool good = false;
  if (starts_with_ci(authorization, "bearer ")) {
    const std::string token(authorization.substr(7));
    for (const auto& known : m_tokens) good = good || constant_time_equal(known, token);
  } else if (starts_with_ci(authorization, "basic ")) {
    const auto decoded = base64_decode(authorization.substr(6));
    const auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon != std::string::npos) {
      const auto user = m_users.find(decoded->substr(0, colon));
      good = user != m_users.end() && password_matches(user->second, decoded->substr(colon + 1));
    }
  }
  if (good) {
    std::lock_guard lock(m_mutex);
    if (m_verified.size() > 10'000) m_verified.clear();  // bounded
    m_verified.emplace(authorization);
  }
  return good;
}

AuthResult Authenticator::check(std::string_view authorization, bool write) const {
  if (m_mode == AuthMode::off) return AuthResult::allowed;
  // Surrounding spaces and tabs are not part of a field value (RFC 9110 5.5). Beast strips
  // them from HTTP headers; gRPC metadata keeps them: trimmed here, both answer alike.
  const auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!authorization.empty() && space(authorization.front())) authorization.remove_prefix(1);
  while (!authorization.empty() && space(authorization.back())) authorization.remove_suffix(1);
  if (m_mode == AuthMode::write_only && !write) return AuthResult::allowed;
  if (authorization.empty()) return AuthResult::missing_credentials;
  return verify(authorization) ? AuthResult::allowed : AuthResult::bad_credentials;
}

}  // namespace forge::bazel_remote
