// forge_log_set_sink / forge_log_set_level: the library's log (spdlog's default logger, as
// forge::support::log uses it) routed to a C callback (see forge.h).
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "c_status.h"

namespace {

using forge::capi::fail_with;
using forge::capi::guarded;

// forge::support::log() sends a structured record as this byte followed by the JSON object
// {"message": ..., "fields": {...}}; plain spdlog calls arrive as plain text.
constexpr char k_structured_marker = '\x1e';

forge_log_level to_c(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return FORGE_LOG_TRACE;
    case spdlog::level::debug: return FORGE_LOG_DEBUG;
    case spdlog::level::info: return FORGE_LOG_INFO;
    case spdlog::level::warn: return FORGE_LOG_WARN;
    case spdlog::level::err:
    case spdlog::level::critical: return FORGE_LOG_ERROR;
    default: return FORGE_LOG_OFF;
  }
}

// base_sink's mutex serialises calls, so the callback never runs twice at once.
class CallbackSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  CallbackSink(forge_log_fn sink, void* user) : m_sink(sink), m_user(user) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string message(payload);
    std::string fields = "{}";
    if (!payload.empty() && payload.front() == k_structured_marker) {
      auto parsed = nlohmann::json::parse(payload.substr(1), nullptr, false);
      if (parsed.is_object()) {
        message = parsed.value("message", std::string());
        fields = parsed.value("fields", nlohmann::json::object()).dump();
      }
    }
    m_sink(m_user, to_c(msg.level), message.c_str(), fields.c_str());
  }
  void flush_() override {}

 private:
  forge_log_fn m_sink;
  void* m_user;
};

std::mutex g_log_mutex;  // serialises replacing the default logger
spdlog::level::level_enum g_level = spdlog::level::info;

}  // namespace

extern "C" {

forge_status forge_log_set_sink(forge_log_fn sink, void* user) {
  return guarded(nullptr, [&] {
    std::lock_guard lock(g_log_mutex);
    std::shared_ptr<spdlog::logger> logger;
    if (sink != nullptr) {
      logger =
          std::make_shared<spdlog::logger>("forge", std::make_shared<CallbackSink>(sink, user));
    } else {
      logger = std::make_shared<spdlog::logger>("forge",
                                                std::make_shared<spdlog::sinks::stderr_sink_mt>());
    }
    logger->set_level(g_level);
    spdlog::set_default_logger(std::move(logger));
    return FORGE_OK;
  });
}

forge_status forge_log_set_level(forge_log_level level) {
  spdlog::level::level_enum mapped = spdlog::level::off;
  switch (level) {
    case FORGE_LOG_TRACE: mapped = spdlog::level::trace; break;
    case FORGE_LOG_DEBUG: mapped = spdlog::level::debug; break;
    case FORGE_LOG_INFO: mapped = spdlog::level::info; break;
    case FORGE_LOG_WARN: mapped = spdlog::level::warn; break;
    case FORGE_LOG_ERROR: mapped = spdlog::level::err; break;
    case FORGE_LOG_OFF: mapped = spdlog::level::off; break;
    default:
      return fail_with(FORGE_E_CONFIGURATION,
                       "forge_log_set_level: unknown level " +
                           std::to_string(static_cast<int>(level)) +
                           "; use FORGE_LOG_TRACE ... FORGE_LOG_ERROR or FORGE_LOG_OFF");
  }
  return guarded(nullptr, [&] {
    std::lock_guard lock(g_log_mutex);
    g_level = mapped;
    spdlog::default_logger()->set_level(mapped);
    return FORGE_OK;
  });
}

}  // extern "C"
