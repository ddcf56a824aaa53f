#pragma once
// Client: one connection to a running agent (the CLI's `--since`/`hash` fast path, tests).
// connect() fails fast (no retry, no wait) when no agent answers, so callers fall back to
// doing the work themselves at the cost of one failed connect(). Every call blocks up to
// the timeout given to connect(). Not thread-safe; one per thread.

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "forge/core/io/platform_io.h"
#include "forge/core/scan/scanner.h"
#include "forge/core/support/error.h"
#include "forge/core/support/unique_fd.h"

namespace forge::agent {

// The socket a client tries: $FORGE_AGENT_SOCKET when set, else default_socket_path().
std::filesystem::path client_socket_path();

class Client {
 public:
  static Result<Client> connect(const std::filesystem::path& socket,
                                std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Sends a request and returns the whole response object ({"ok": ..., ...}); a response
  // with "ok": false is returned as is (the caller decides). Network error on EOF/timeout.
  Result<nlohmann::json> call(std::string_view method,
                              nlohmann::json params = nlohmann::json::object());
  // The "result" of an "ok": true response, or the response's error as an Error.
  Result<nlohmann::json> result(std::string_view method,
                                nlohmann::json params = nlohmann::json::object());
  // `since` on a watched workspace, as a ChangeSet (entries/hashed stay 0).
  Result<scan::ChangeSet> since(const std::filesystem::path& root, std::string_view cursor);
  // `hash` of absolute paths: one result per path (HashResult::stat is not filled in).
  Result<std::vector<Result<io::HashResult>>> hash(std::span<const std::filesystem::path> paths,
                                                   hash::AlgorithmSet algorithms);
  // Raw access for protocol tests: send bytes as they are; read one line ("" at EOF).
  Result<void> send_raw(std::string_view bytes);
  Result<std::string> read_line();

 private:
  explicit Client(UniqueFd fd) : m_fd(std::move(fd)) {}
  UniqueFd m_fd;
  std::string m_buffer;
  std::uint64_t m_next_id = 1;
};

}  // namespace forge::agent
