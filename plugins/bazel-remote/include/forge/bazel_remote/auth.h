#pragma once
// Authenticator: who may read and who may write, shared by the HTTP and gRPC front ends.
//
// Credentials come from an `Authorization` header (HTTP) or metadata entry (gRPC):
//   Basic base64(user:password)   checked against an htpasswd file. Supported hashes: bcrypt
//                                 (`htpasswd -B`: $2y$/$2b$), SHA-crypt ($5$, $6$), MD5-crypt
//                                 ($1$) via crypt(3), and {SHA} (`htpasswd -s`). Apache's
//                                 $apr1$ and plain text are refused when the file is loaded.
//   Bearer TOKEN                  checked against a tokens file, one token per line
//                                 (blank lines and lines starting with # ignored).
// Modes:
//   off          everyone may read and write (no file given)
//   all          every request needs valid credentials
//   write_only   reads are anonymous, writes need credentials ("anonymous read,
//                authenticated write": CI writes, developers read)
// A successful check is remembered (bcrypt costs ~50 ms by design); files are read once.
// Thread-safe after load().

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "forge/core/support/error.h"

namespace forge::bazel_remote {

enum class AuthMode { off, all, write_only };

struct AuthOptions {
  std::optional<std::filesystem::path> htpasswd_file;
  std::optional<std::filesystem::path> tokens_file;
  bool anonymous_read = false;  // with a file: write_only instead of all
};

enum class AuthResult { allowed, missing_credentials, bad_credentials };

class Authenticator {
 public:
  // Configuration error naming the file and line for an unreadable file, a malformed line
  // or an unsupported hash.
  static Result<std::shared_ptr<Authenticator>> load(const AuthOptions& options);

  AuthMode mode() const { return m_mode; }
  // `authorization` is the header (or gRPC metadata) value, empty when absent; surrounding
  // spaces and tabs are ignored, everything else counts: a token or password is compared over
  // its full length (constant time), so a NUL inside a password never authenticates.
  AuthResult check(std::string_view authorization, bool write) const;

 private:
  Authenticator() = default;
  bool verify(std::string_view authorization) const;
  AuthMode m_mode = AuthMode::off;
  std::unordered_map<std::string, std::string> m_users;  // user -> hash
  std::unordered_set<std::string> m_tokens;
  mutable std::mutex m_mutex;
  mutable std::unordered_set<std::string> m_verified;  // headers already checked good
};

// Base64 (RFC 4648) decoding; nullopt for invalid input. Exposed for tests.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace forge::bazel_remote
