#pragma once
// The agent's socket protocol, version 2: newline-delimited JSON, one request per line, one
// response line per request, in order.
//
//   request   {"v": 2, "id": <any JSON, echoed>, "method": "<name>", "params": {...}}
//   response  {"v": 2, "id": <echo>, "ok": true,  "result": {...}}
//             {"v": 2, "id": <echo>, "ok": false, "error": {"category": "Validation",
//                                                          "message": "...", "hint": "..."}}
// Versions: 1 had since, hash, find_missing, get, put, status; 2 added cmake.affected and
// ninja.settle. A request may say "v": 1 or 2 (version 2 only added methods, so a version-1
// client keeps working); responses carry the agent's version.
// A line that is not a JSON object, lacks "method", has a "v" outside 1..2, names an unknown
// method or is longer than k_max_request_line is a protocol error: the agent answers it with
// an error response and closes the connection. An error while serving a well-formed request
// (a missing blob, an unknown workspace, a method this agent was started without) is an
// error response; the connection stays open.
// Methods and their params/results: README.md, "Agent socket protocol".
// Pure functions; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "forge/core/support/error.h"

namespace forge::agent {

inline constexpr int k_protocol_version = 2;
// The oldest request version still accepted: every version since only added methods.
inline constexpr int k_oldest_protocol_version = 1;
static_assert(k_oldest_protocol_version <= k_protocol_version);
// 1 MiB: a `hash` request for ~10k long paths fits; a line past it is refused before it is
// buffered further, so a client cannot grow the agent's memory.
inline constexpr std::size_t k_max_request_line = 1 << 20;

struct Request {
  nlohmann::json id;  // null when the client sent none
  std::string method;
  nlohmann::json params;  // an object (empty when absent)
};

// Parses one line (without its newline). Validation error on a protocol error; `id` is set
// to the request's id when it could be read (so the error response can echo it).
Result<Request> parse_request(std::string_view line, nlohmann::json* id = nullptr);
bool is_known_method(std::string_view method);

std::string ok_response(const nlohmann::json& id, nlohmann::json result);
std::string error_response(const nlohmann::json& id, const Error& error);
// A request line, for clients (and tests).
std::string request_line(const nlohmann::json& id, std::string_view method,
                         nlohmann::json params = nlohmann::json::object());

}  // namespace forge::agent
