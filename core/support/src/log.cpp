#include "forge/core/support/log.h"

#include <cstdlib>
#include <mutex>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "forge/core/support/metrics.h"

namespace forge::support {
namespace {

// log() hands structured records to the formatters as this marker followed by a JSON
// object {"message": ..., "fields": {...}}; plain spdlog calls arrive as plain text.
constexpr char k_structured_marker = '\x1e';

std::atomic<std::int64_t> g_slow_threshold_ns{1'000'000'000};

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

struct Record {
  std::string message;
  nlohmann::json fields = nlohmann::json::object();
};

Record decode(const spdlog::details::log_msg& msg) {
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  if (!payload.empty() && payload.front() == k_structured_marker) {
    auto parsed = nlohmann::json::parse(payload.substr(1), nullptr, false);
    if (parsed.is_object()) {
      return Record{parsed.value("message", std::string()),
                    parsed.value("fields", nlohmann::json::object())};
    }
  }
  return Record{std::string(payload)};
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const Record record = decode(msg);
    const std::string line = format_json_line(msg.time, msg.level, record.message, record.fields);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

class HumanFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const Record record = decode(msg);
    std::string line =
        fmt::format("{:%H:%M:%S} {:<5} {}", fmt::localtime(spdlog::log_clock::to_time_t(msg.time)),
                    level_name(msg.level), record.message);
    for (const auto& [key, value] : record.fields.items()) {
      line +=
          fmt::format(" {}={}", key, value.is_string() ? value.get<std::string>() : value.dump());
    }
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<HumanFormatter>();
  }
};

}  // namespace

Result<spdlog::level::level_enum> parse_log_level(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn" || name == "warning") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "off") return spdlog::level::off;
  return fail(Error(ErrorCategory::configuration, fmt::format("unknown log level '{}'", name))
                  .with_suggestion("use one of: trace, debug, info, warn, error, off"));
}

LoggingConfig with_environment(LoggingConfig config) {
  if (const char* env = std::getenv("FORGE_LOG"); env != nullptr && parse_log_level(env)) {
    config.level = env;
  }
  return config;
}

std::string format_json_line(std::chrono::system_clock::time_point time,
                             spdlog::level::level_enum level, std::string_view message,
                             const nlohmann::json& fields) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(ms);
  std::string timestamp = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z",
                                      fmt::gmtime(static_cast<std::time_t>(seconds.count())),
                                      static_cast<int>(ms.count() % 1000));
  nlohmann::ordered_json line;
  line["timestamp"] = std::move(timestamp);
  line["level"] = level_name(level);
  line["message"] = message;
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) {
      if (key != "timestamp" && key != "level" && key != "message") line[key] = value;
    }
  }
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<void> init_logging(const LoggingConfig& config) {
  FORGE_TRY(const auto level, parse_log_level(config.level));
  std::vector<spdlog::sink_ptr> sinks;
  if (config.to_stderr) sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (!config.file.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          config.file.string(), config.max_file_size, config.max_files));
    } catch (const spdlog::spdlog_ex& error) {
      return fail(
          Error(ErrorCategory::file_system,
                fmt::format("cannot open log file '{}': {}", config.file.string(), error.what()))
              .with_file(config.file.string())
              .with_suggestion("choose a writable logging.file or leave it empty for stderr"));
    }
  }
  auto logger = std::make_shared<spdlog::logger>("forge", sinks.begin(), sinks.end());
  if (config.format == LogFormat::json) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_formatter(std::make_unique<HumanFormatter>());
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);  // what matters reaches the file before a crash
  spdlog::set_default_logger(logger);
  g_slow_threshold_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(config.slow_operation_threshold).count();
  return ok();
}

bool log_enabled(spdlog::level::level_enum level) {
  const auto* logger = spdlog::default_logger_raw();
  return logger != nullptr && logger->should_log(level);
}

void log(spdlog::level::level_enum level, std::string_view message, const nlohmann::json& fields) {
  if (!log_enabled(level)) return;
  auto logger = spdlog::default_logger_raw();
  const nlohmann::json record{{"message", message}, {"fields", fields}};
  logger->log(level, "{}{}", k_structured_marker,
              record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void log_error(const Error& error, spdlog::level::level_enum level) {
  const auto& context = error.context();
  nlohmann::json fields{{"category", to_string(error.category())},
                        {"code", error.code()},
                        {"retryable", error.is_retryable()},
                        {"suggestions", error.suggestions()}};
  if (!context.file.empty()) fields["path"] = context.file;
  if (!context.operation.empty()) fields["operation"] = context.operation;
  if (!context.backend.empty()) fields["backend"] = context.backend;
  if (context.retry_count > 0) fields["retry_count"] = context.retry_count;
  fields["platform"] = context.platform;
  Metrics::global().counter("errors_total").add();
  log(level, error.message(), fields);
}

OperationTimer::OperationTimer(std::string operation, nlohmann::json fields)
    : OperationTimer(std::move(operation), std::chrono::nanoseconds(g_slow_threshold_ns.load()),
                     std::move(fields)) {}

OperationTimer::OperationTimer(std::string operation, std::chrono::nanoseconds threshold,
                               nlohmann::json fields)
    : m_operation(std::move(operation)),
      m_threshold(threshold),
      m_fields(std::move(fields)),
      m_start(std::chrono::steady_clock::now()) {}

OperationTimer::~OperationTimer() {
  finish();
}

std::chrono::nanoseconds OperationTimer::finish() {
  if (m_finished) return m_duration;
  m_finished = true;
  m_duration = std::chrono::steady_clock::now() - m_start;
  Metrics::global().histogram(m_operation + "_duration").record(m_duration);
  Metrics::global().counter("operations_total").add();
  if (m_duration > m_threshold) {
    nlohmann::json fields = m_fields;
    fields["operation"] = m_operation;
    fields["duration_us"] =
        std::chrono::duration_cast<std::chrono::microseconds>(m_duration).count();
    fields["threshold_us"] =
        std::chrono::duration_cast<std::chrono::microseconds>(m_threshold).count();
    log(spdlog::level::warn,
        fmt::format("slow operation: {} took {:.3f} ms", m_operation, m_duration.count() / 1e6),
        fields);
  }
  return m_duration;
}

}  // namespace forge::support
