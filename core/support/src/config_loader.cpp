#include "forge/core/support/config_loader.h"

#include "forge/core/support/config_file.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

namespace forge::support {
namespace {

using nlohmann::json;

enum class Kind { unsigned_int, choice, existing_dir, creatable_dir, file_in_dir, address };

struct FieldSpec {
  std::string path;
  Kind kind;
  double min = 0;
  double max = 0;
  std::vector<std::string> choices;
  bool power_of_two = false;
  std::function<void(ForgeConfig&, const json&)> apply;
};

std::filesystem::path expand_home(const std::string& text) {
  if (text == "~" || text.starts_with("~/")) {
    if (const char* home = std::getenv("HOME")) return std::string(home) + text.substr(1);
  }
  return text;
}

std::uint64_t nofile_hard_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_max == RLIM_INFINITY) return 1u << 20;
  return limit.rlim_max;
}

std::vector<FieldSpec> make_specs() {
  auto u64 = [](const json& v) { return v.get<std::uint64_t>(); };
  return {
      {"project_root",
       Kind::existing_dir,
       0,
       0,
       {},
       false,
       [](ForgeConfig& c, const json& v) { c.project_root = expand_home(v.get<std::string>()); }},
      {"store_dir",
       Kind::creatable_dir,
       0,
       0,
       {},
       false,
       [](ForgeConfig& c, const json& v) { c.store_dir = expand_home(v.get<std::string>()); }},
      {"io.max_file_handles",
       Kind::unsigned_int,
       1,
       static_cast<double>(nofile_hard_limit()),
       {},
       false,
       [=](ForgeConfig& c, const json& v) { c.io.max_file_handles = u64(v); }},
      {"io.io_uring_queue_depth",
       Kind::unsigned_int,
       1,
       32768,
       {},
       true,
       [=](ForgeConfig& c, const json& v) {
         c.io.io_uring_queue_depth = static_cast<std::uint32_t>(u64(v));
       }},
      {"io.backend",
       Kind::choice,
       0,
       0,
       {"auto", "uring", "fallback"},
       false,
       [](ForgeConfig& c, const json& v) { c.io.backend = v.get<std::string>(); }},
      {"logging.level",
       Kind::choice,
       0,
       0,
       {"trace", "debug", "info", "warn", "error", "off"},
       false,
       [](ForgeConfig& c, const json& v) { c.logging.level = v.get<std::string>(); }},
      {"logging.format",
       Kind::choice,
       0,
       0,
       {"json", "human"},
       false,
       [](ForgeConfig& c, const json& v) {
         c.logging.format = v.get<std::string>() == "json" ? LogFormat::json : LogFormat::human;
       }},
      {"logging.file",
       Kind::file_in_dir,
       0,
       0,
       {},
       false,
       [](ForgeConfig& c, const json& v) { c.logging.file = expand_home(v.get<std::string>()); }},
      {"logging.max_file_size",
       Kind::unsigned_int,
       4096,
       1ull << 40,
       {},
       false,
       [=](ForgeConfig& c, const json& v) { c.logging.max_file_size = u64(v); }},
      {"logging.max_files",
       Kind::unsigned_int,
       1,
       1000,
       {},
       false,
       [=](ForgeConfig& c, const json& v) { c.logging.max_files = u64(v); }},
      {"server.http_listen",
       Kind::address,
       0,
       0,
       {},
       false,
       [](ForgeConfig& c, const json& v) { c.server.http_listen = {v.get<std::string>()}; }},
      {"server.grpc_listen",
       Kind::address,
       0,
       0,
       {},
       false,
       [](ForgeConfig& c, const json& v) { c.server.grpc_listen = {v.get<std::string>()}; }},
  };
}

const std::vector<FieldSpec>& specs() {
  static const std::vector<FieldSpec> k_specs = make_specs();
  return k_specs;
}

}  // namespace

const json* find_key(const json& document, std::string_view dotted) {
  const json* node = &document;
  std::size_t start = 0;
  while (start <= dotted.size()) {
    const std::size_t end = std::min(dotted.find('.', start), dotted.size());
    const std::string key(dotted.substr(start, end - start));
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
    start = end + 1;
  }
  return node;
}

std::vector<std::string> config_keys() {
  std::vector<std::string> keys;
  for (const auto& spec : specs()) keys.push_back(spec.path);
  return keys;
}

Result<ListenAddress> parse_listen_address(std::string_view address) {
  const auto bad = [&](std::string_view problem) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("listen address '{}': {}", quote_text(address), problem))
                    .with_suggestion("write \"host:port\" or \"[v6 address]:port\", port "
                                     "0..65535 (0: any free port), e.g. \"127.0.0.1:8080\""));
  };
  if (address.find('\0') != std::string_view::npos) return bad("it contains a NUL byte");
  std::string_view host;
  std::string_view port;
  if (address.starts_with("[")) {
    const auto close = address.find("]:");
    if (close == std::string_view::npos) return bad("an IPv6 address is written [addr]:port");
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos) return bad("the port is missing");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("an IPv6 address must be in brackets");
  }
  if (host.empty()) return bad("the host is missing");
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) {
    return bad(fmt::format("port '{}' is not a number", quote_text(port)));
  }
  const int number = std::stoi(std::string(port));
  if (number > 65535) return bad(fmt::format("port {} is outside 0..65535", number));
  return ListenAddress{std::string(host), static_cast<std::uint16_t>(number)};
}

namespace {

void check_field(const FieldSpec& spec, const json& value, std::vector<ConfigIssue>& issues) {
  auto issue = [&](std::string problem, std::string expected, std::string suggestion) {
    issues.push_back({spec.path, std::move(problem), std::move(expected), std::move(suggestion)});
  };
  switch (spec.kind) {
    case Kind::unsigned_int: {
      const std::string range = fmt::format("an integer in {}..{}{}", spec.min, spec.max,
                                            spec.power_of_two ? ", a power of two" : "");
      if (!value.is_number_integer()) {
        issue(fmt::format("{} is not an integer", quote_json(value)), range,
              "write a plain integer");
        return;
      }
      const double number = value.get<double>();
      if (number < spec.min || number > spec.max) {
        issue(fmt::format("{} is out of range", quote_json(value)), range,
              fmt::format("use a value between {} and {}", spec.min, spec.max));
        return;
      }
      const auto integer = value.get<std::uint64_t>();
      if (spec.power_of_two && (integer & (integer - 1)) != 0) {
        std::uint64_t next = 1;
        while (next < integer) next <<= 1;
        issue(fmt::format("{} is not a power of two", integer), range,
              fmt::format("use {} or {}", next / 2, next));
      }
      return;
    }
    case Kind::choice: {
      std::string expected = "one of: ";
      for (const auto& choice : spec.choices)
        expected += choice + (&choice == &spec.choices.back() ? "" : ", ");
      if (!value.is_string() || std::find(spec.choices.begin(), spec.choices.end(),
                                          value.get<std::string>()) == spec.choices.end()) {
        std::string closest;
        std::size_t best = 3;
        if (value.is_string() && value.get_ref<const std::string&>().size() <= 64) {
          for (const auto& choice : spec.choices) {
            const auto distance = edit_distance(choice, value.get<std::string>());
            if (distance < best) best = distance, closest = choice;
          }
        }
        issue(fmt::format("{} is not a valid choice", quote_json(value)), expected,
              closest.empty() ? "pick one of the listed values"
                              : fmt::format("did you mean \"{}\"?", closest));
      }
      return;
    }
    case Kind::existing_dir:
    case Kind::creatable_dir:
    case Kind::file_in_dir: {
      if (!value.is_string() || value.get<std::string>().empty()) {
        issue(fmt::format("{} is not a path", quote_json(value)), "a non-empty path string",
              "write the path as a JSON string");
        return;
      }
      if (value.get_ref<const std::string&>().find('\0') != std::string::npos) {
        issue(fmt::format("{} contains a NUL byte", quote_json(value)), "a path without NUL bytes",
              "remove the \\u0000 from the path");
        return;
      }
      const auto path = expand_home(value.get<std::string>());
      std::error_code ec;
      if (spec.kind == Kind::existing_dir) {
        if (!std::filesystem::is_directory(path, ec)) {
          issue(
              fmt::format("directory '{}' does not exist", quote_text(path.string())),
              "an existing directory",
              "create it, or fix the path (relative paths are relative to the working directory)");
        }
        return;
      }
      auto parent = spec.kind == Kind::file_in_dir ? path.parent_path() : path;
      if (parent.empty()) parent = ".";
      while (!parent.empty() && !std::filesystem::exists(parent, ec)) {
        if (parent == parent.parent_path()) break;
        parent = parent.parent_path();
      }
      if (!std::filesystem::is_directory(parent, ec) || ::access(parent.c_str(), W_OK) != 0) {
        issue(fmt::format("'{}' cannot be created: '{}' is not a writable directory",
                          quote_text(path.string()), quote_text(parent.string())),
              "a path under a writable directory", "choose a directory you can write to");
      }
      return;
    }
    case Kind::address: {
      if (!value.is_string()) {
        issue(fmt::format("{} is not a string", quote_json(value)), "\"host:port\"",
              "write \"127.0.0.1:8080\"");
      } else if (auto parsed = parse_listen_address(value.get_ref<const std::string&>()); !parsed) {
        issue(parsed.error().message(), "\"host:port\" or \"[v6]:port\", port 0..65535",
              "e.g. \"127.0.0.1:8080\"");
      }
      return;
    }
    default: return;
  }
}

void check_unknown_keys(const json& node, const std::string& prefix,
                        std::vector<ConfigIssue>& issues) {
  if (!node.is_object()) return;
  std::set<std::string> valid;  // the names allowed directly under prefix
  for (const auto& spec : specs()) {
    if (!prefix.empty() && !spec.path.starts_with(prefix + ".")) continue;
    const std::string rest = prefix.empty() ? spec.path : spec.path.substr(prefix.size() + 1);
    valid.insert(rest.substr(0, rest.find('.')));
  }
  for (const auto& [key, value] : node.items()) {
    const std::string path = prefix.empty() ? quote_text(key) : prefix + "." + quote_text(key);
    if (!valid.contains(key)) {
      std::string closest;
      std::size_t best = std::max<std::size_t>(3, key.size() / 3 + 1);
      for (const auto& candidate : valid) {
        if (key.size() > 64) break;  // no key that long is a typo of a real one
        const auto distance = edit_distance(candidate, key);
        if (distance < best) best = distance, closest = candidate;
      }
      issues.push_back(
          {path, "unknown key",
           fmt::format("one of the keys documented in config.h{}",
                       prefix.empty() ? "" : " under " + prefix),
           closest.empty() ? "remove it" : fmt::format("did you mean \"{}\"?", closest)});
      continue;
    }
    const bool is_section = std::none_of(specs().begin(), specs().end(),
                                         [&](const FieldSpec& spec) { return spec.path == path; });
    if (is_section) {
      if (!value.is_object()) {
        issues.push_back({path, fmt::format("{} is not an object", quote_json(value)),
                          "a JSON object", fmt::format("write \"{}\": {{ ... }}", key)});
      } else {
        check_unknown_keys(value, path, issues);
      }
    }
  }
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<ConfigIssue> check_config(const nlohmann::json& document) {
  std::vector<ConfigIssue> issues;
  if (!document.is_object()) {
    issues.push_back(
        {"(top level)", "not a JSON object", "{ ... }", "wrap the settings in { ... }"});
    return issues;
  }
  check_unknown_keys(document, "", issues);
  for (const auto& spec : specs()) {
    const json* value = find_key(document, spec.path);
    if (value != nullptr) check_field(spec, *value, issues);
  }
  std::stable_sort(issues.begin(), issues.end(),
                   [](const ConfigIssue& a, const ConfigIssue& b) { return a.field < b.field; });
  return issues;
}

Error config_error(const std::vector<ConfigIssue>& issues) {
  std::string message =
      fmt::format("{} invalid config field{}:", issues.size(), issues.size() == 1 ? "" : "s");
  constexpr std::size_t k_listed = 10;  // the message stays short; `config check` lists all
  for (std::size_t i = 0; i < issues.size() && i < k_listed; ++i) {
    message += "\n  " + to_string(issues[i]);
  }
  if (issues.size() > k_listed)
    message += fmt::format("\n  ... and {} more", issues.size() - k_listed);
  return Error(ErrorCategory::validation, message, EINVAL)
      .with_operation("config.validate")
      .with_suggestion("fix each field listed; `forge config check FILE` lists every problem");
}

Result<ForgeConfig> config_from_json(const nlohmann::json& document) {
  if (const auto issues = check_config(document); !issues.empty()) {
    return fail(config_error(issues));
  }
  ForgeConfig config;
  for (const auto& spec : specs()) {
    if (const json* value = find_key(document, spec.path)) spec.apply(config, *value);
  }
  return config;
}

namespace {

// ServerConfig holds one address per list (the only form `forge serve` takes).
std::string first(const std::vector<std::string>& addresses) {
  return addresses.empty() ? std::string() : addresses.front();
}

}  // namespace

nlohmann::json config_to_json(const ForgeConfig& c) {
  json out{
      {"project_root", c.project_root.string()},
      {"store_dir", c.store_dir.string()},
      {"io",
       {{"max_file_handles", c.io.max_file_handles},
        {"io_uring_queue_depth", c.io.io_uring_queue_depth},
        {"backend", c.io.backend}}},
      {"logging",
       {{"level", c.logging.level},
        {"format", c.logging.format == LogFormat::json ? "json" : "human"},
        {"file", c.logging.file.string()},
        {"max_file_size", c.logging.max_file_size},
        {"max_files", c.logging.max_files}}},
      {"server",
       {{"http_listen", first(c.server.http_listen)},
        {"grpc_listen", first(c.server.grpc_listen)}}},
  };
  // Empty paths mean "the default": leave them out so the output is itself a valid config.
  if (c.store_dir.empty()) out.erase("store_dir");
  if (c.logging.file.empty()) out["logging"].erase("file");
  return out;
}

std::string to_string(const ConfigIssue& issue) {
  return fmt::format("{}: {} (expected {}); {}", issue.field, issue.problem, issue.expected,
                     issue.suggestion);
}

}  // namespace forge::support
