#include "forge/agent/client.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cstring>

#include <fmt/format.h>

#include "forge/agent/agent_config.h"
#include "forge/agent/protocol.h"
#include "forge/agent/wire_json.h"

namespace forge::agent {

std::filesystem::path client_socket_path() {
  const char* set = std::getenv("FORGE_AGENT_SOCKET");
  return set != nullptr && set[0] != '\0' ? std::filesystem::path(set) : default_socket_path();
}

Result<Client> Client::connect(const std::filesystem::path& socket,
                               std::chrono::milliseconds timeout) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket.native().size() >= sizeof(address.sun_path)) {
    return fail(Error(ErrorCategory::configuration, "agent socket path too long")
                    .with_file(socket.string()));
  }
  std::memcpy(address.sun_path, socket.c_str(), socket.native().size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail(Error::from_errno(errno, "socket", socket.string()));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return fail(Error::from_errno(errno, "connect", socket.string()));
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  return Client(std::move(fd));
}

Result<void> Client::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(m_fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno(errno, "send", "agent socket"));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok();
}

Result<std::string> Client::read_line() {
  char chunk[64 * 1024];
  for (;;) {
    const auto newline = m_buffer.find('\n');
    if (newline != std::string::npos) {
      std::string line = m_buffer.substr(0, newline);
      m_buffer.erase(0, newline + 1);
      return line;
    }
    const ssize_t n = ::recv(m_fd.get(), chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno(errno, "recv", "agent socket"));
    if (n == 0) return std::string();
    m_buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

Result<nlohmann::json> Client::call(std::string_view method, nlohmann::json params) {
  FORGE_TRY_VOID(send_raw(request_line(m_next_id++, method, std::move(params))));
  FORGE_TRY(const std::string line, read_line());
  if (line.empty()) {
    return fail(Error(ErrorCategory::network, "the agent closed the connection")
                    .with_suggestion("check the agent's log"));
  }
  auto response = nlohmann::json::parse(line, nullptr, false);
  if (response.is_discarded() || !response.is_object()) {
    return fail(Error(ErrorCategory::network, "the agent answered something that is not JSON"));
  }
  return response;
}

Result<nlohmann::json> Client::result(std::string_view method, nlohmann::json params) {
  FORGE_TRY(auto response, call(method, std::move(params)));
  if (response.value("ok", false)) return response["result"];
  const auto& error = response["error"];
  return fail(Error(ErrorCategory::unknown,
                    fmt::format("agent: {}", error.value("message", std::string("error"))))
                  .with_suggestion(error.value("hint", std::string("check the agent's log"))));
}

Result<scan::ChangeSet> Client::since(const std::filesystem::path& root, std::string_view cursor) {
  nlohmann::json params{{"workspace", root.string()}};
  if (!cursor.empty()) params["cursor"] = std::string(cursor);
  FORGE_TRY(const auto answer, result("since", std::move(params)));
  scan::ChangeSet changes;
  changes.cursor = answer.value("cursor", std::string());
  changes.fresh_instance = answer.value("fresh_instance", false);
  const auto list = answer.find("changes");
  if (list == answer.end() || !list->is_array()) {
    return fail(Error(ErrorCategory::validation, "agent: `since` answered without \"changes\""));
  }
  for (const auto& entry : *list) {
    FORGE_TRY(auto change, change_from_json(entry));
    changes.changes.push_back(std::move(change));
  }
  return changes;
}

Result<std::vector<Result<io::HashResult>>> Client::hash(
    std::span<const std::filesystem::path> paths, hash::AlgorithmSet algorithms) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& path : paths) list.push_back(path.string());
  const char* algo = algorithms.sha256 && algorithms.xxh3 ? "both"
                     : algorithms.sha256                  ? "sha256"
                                                          : "xxh3";
  FORGE_TRY(const auto answer, result("hash", {{"paths", std::move(list)}, {"algo", algo}}));
  const auto results = answer.find("results");
  if (results == answer.end() || !results->is_array() || results->size() != paths.size()) {
    return fail(
        Error(ErrorCategory::validation, "agent: `hash` answered the wrong number of results"));
  }
  std::vector<Result<io::HashResult>> out;
  for (const auto& entry : *results) {
    if (entry.contains("error")) {
      out.emplace_back(fail(error_from_json(entry["error"])));
      continue;
    }
    io::HashResult hashed;
    hashed.size = entry.value("size", std::uint64_t{0});
    if (algorithms.sha256) {
      FORGE_TRY(hashed.digests.sha256,
                hash::Digest::parse(hash::Algorithm::sha256, entry.value("sha256", std::string())));
    }
    if (algorithms.xxh3) {
      FORGE_TRY(hashed.digests.xxh3,
                hash::Digest::parse(hash::Algorithm::xxh3_128, entry.value("xxh3", std::string())));
    }
    out.emplace_back(std::move(hashed));
  }
  return out;
}

}  // namespace forge::agent
