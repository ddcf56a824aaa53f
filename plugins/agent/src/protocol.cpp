#include "forge/agent/protocol.h"

#include <array>

#include <fmt/format.h>

namespace forge::agent {
namespace {

constexpr std::array<std::string_view, 8> k_methods{
    "since", "hash",   "find_missing",   "get",
    "put",   "status", "cmake.affected", "ninja.settle"};  // version 2

Error protocol_error(std::string message) {
  return Error(ErrorCategory::validation, std::move(message))
      .with_suggestion(fmt::format(
          "send one JSON object per line: {{\"v\": {}, \"id\": 1, \"method\": \"status\", "
          "\"params\": {{}}}} (methods: since, hash, find_missing, get, put, status, "
          "cmake.affected, ninja.settle)",
          k_protocol_version));
}

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

bool is_known_method(std::string_view method) {
  for (const auto known : k_methods) {
    if (known == method) return true;
  }
  return false;
}

Result<Request> parse_request(std::string_view line, nlohmann::json* id) {
  if (line.size() > k_max_request_line) {
    return fail(
        protocol_error(fmt::format("request line longer than {} bytes", k_max_request_line)));
  }
  nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return fail(protocol_error("request is not a JSON object"));
  }
  Request request;
  if (parsed.contains("id")) request.id = parsed["id"];
  if (id != nullptr) *id = request.id;
  const auto version = parsed.find("v");
  if (version == parsed.end() || !version->is_number_integer() ||
      version->get<int>() < k_oldest_protocol_version || version->get<int>() > k_protocol_version) {
    return fail(protocol_error(
        fmt::format("request has no \"v\" between {} and {} (this agent speaks version {})",
                    k_oldest_protocol_version, k_protocol_version, k_protocol_version)));
  }
  const auto method = parsed.find("method");
  if (method == parsed.end() || !method->is_string()) {
    return fail(protocol_error("request has no \"method\" string"));
  }
  request.method = method->get<std::string>();
  if (!is_known_method(request.method)) {
    return fail(protocol_error(fmt::format("unknown method '{}'", request.method)));
  }
  const auto params = parsed.find("params");
  if (params != parsed.end() && !params->is_object() && !params->is_null()) {
    return fail(protocol_error("\"params\" is not an object"));
  }
  request.params =
      params != parsed.end() && params->is_object() ? *params : nlohmann::json::object();
  return request;
}

std::string ok_response(const nlohmann::json& id, nlohmann::json result) {
  return dump({{"v", k_protocol_version}, {"id", id}, {"ok", true}, {"result", std::move(result)}});
}

std::string error_response(const nlohmann::json& id, const Error& error) {
  const auto hints = error.suggestions();
  return dump({{"v", k_protocol_version},
               {"id", id},
               {"ok", false},
               {"error",
                {{"category", to_string(error.category())},
                 {"code", error.code()},
                 {"message", error.message()},
                 {"hint", hints.empty() ? std::string() : hints.front()}}}});
}

std::string request_line(const nlohmann::json& id, std::string_view method, nlohmann::json params) {
  return dump({{"v", k_protocol_version},
               {"id", id},
               {"method", std::string(method)},
               {"params", std::move(params)}});
}

}  // namespace forge::agent
