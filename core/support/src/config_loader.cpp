#include "forge/core/support/config_loader.h"

#include "forge/core/support/byte_size.h"
#include "forge/core/support/config_file.h"

#ifdef _WIN32
#include <io.h>
#else
#include <sys/resource.h>
#include <unistd.h>
#endif

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

enum class Kind {
  unsigned_int,
  choice,
  existing_dir,
  creatable_dir,
  file_in_dir,
  address,
  byte_size,  // an integer or a string parse_byte_size() accepts ("10G")
  url,        // a string starting with one of `choices` (the schemes, "s3://")
  text,       // a non-empty string without NUL bytes
  boolean,
  path_prefix,  // "off", or a path that starts and ends with '/' (parse_raw_prefix's rule)
};

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

bool writable(const std::filesystem::path& directory) {
#ifdef _WIN32
  return ::_waccess(directory.c_str(), 2) == 0;  // 2: write access (the CRT's W_OK)
#else
  return ::access(directory.c_str(), W_OK) == 0;
#endif
}

std::uint64_t nofile_hard_limit() {
#ifdef _WIN32
  return 1u << 24;  // Windows has no descriptor rlimit; a process may hold ~16M handles
#else
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_max == RLIM_INFINITY) return 1u << 20;
  return limit.rlim_max;
#endif
}

// A byte_size value check_field() accepted.
std::uint64_t byte_size(const json& v) {
  if (v.is_number_integer()) return v.get<std::uint64_t>();
  return parse_byte_size(v.get_ref<const std::string&>(), "").value_or(0);
}

std::vector<FieldSpec> make_specs() {
  auto u64 = [](const json& v) { return v.get<std::uint64_t>(); };
  auto text = [](const json& v) { return v.get<std::string>(); };
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
      {"server.raw_prefix",
       Kind::path_prefix,
       0,
       0,
       {},
       false,
       [=](ForgeConfig& c, const json& v) { c.server.raw_prefix = text(v); }},
      {"server.instances",
       Kind::choice,
       0,
       0,
       {"shared", "isolated"},
       false,
       [=](ForgeConfig& c, const json& v) { c.server.instances = text(v); }},
      {"server.read_only",
       Kind::boolean,
       0,
       0,
       {},
       false,
       [](ForgeConfig& c, const json& v) { c.server.read_only = v.get<bool>(); }},
      {"cache.max_size",
       Kind::byte_size,
       0,
       0,
       {},
       false,
       [](ForgeConfig& c, const json& v) { c.cache.max_size = byte_size(v); }},
      {"cache.max_blob_size",
       Kind::byte_size,
       1,
       0,
       {},
       false,
       [](ForgeConfig& c, const json& v) { c.cache.max_blob_size = byte_size(v); }},
      {"cache.upstream",
       Kind::url,
       0,
       0,
       {"http://", "https://", "s3://"},
       false,
       [=](ForgeConfig& c, const json& v) { c.cache.upstream = text(v); }},
      {"cache.upstream_write",
       Kind::choice,
       0,
       0,
       {"behind", "through"},
       false,
       [=](ForgeConfig& c, const json& v) { c.cache.upstream_write = text(v); }},
      {"cache.s3_endpoint",
       Kind::url,
       0,
       0,
       {"http://", "https://"},
       false,
       [=](ForgeConfig& c, const json& v) { c.cache.s3_endpoint = text(v); }},
      {"cache.s3_region",
       Kind::text,
       0,
       0,
       {},
       false,
       [=](ForgeConfig& c, const json& v) { c.cache.s3_region = text(v); }},
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
      if (!std::filesystem::is_directory(parent, ec) || !writable(parent)) {
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
    case Kind::byte_size: {
      const std::string expected = fmt::format(
          "a byte count of at least {}: an integer or a string such as \"10G\"", spec.min);
      std::uint64_t bytes = 0;
      if (value.is_number_unsigned() ||
          (value.is_number_integer() && value.get<std::int64_t>() >= 0)) {
        bytes = value.get<std::uint64_t>();
      } else if (auto parsed =
                     parse_byte_size(value.is_string() ? value.get<std::string>() : "", spec.path);
                 value.is_string() && parsed) {
        bytes = *parsed;
      } else {
        issue(fmt::format("{} is not a size", quote_json(value)), expected,
              "write a byte count with an optional K, M, G or T suffix, e.g. \"10G\"");
        return;
      }
      if (static_cast<double>(bytes) < spec.min) {
        issue(fmt::format("{} is too small", quote_json(value)), expected,
              fmt::format("use at least {} bytes", spec.min));
      }
      return;
    }
    case Kind::url: {
      std::string schemes;
      for (const auto& scheme : spec.choices)
        schemes += scheme + (&scheme == &spec.choices.back() ? "" : ", ");
      const bool string = value.is_string();
      const std::string_view url =
          string ? std::string_view(value.get_ref<const std::string&>()) : std::string_view();
      const bool known = std::any_of(spec.choices.begin(), spec.choices.end(), [&](auto& scheme) {
        return url.starts_with(scheme) && url.size() > scheme.size();
      });
      if (!string || !known) {
        issue(fmt::format("{} is not a URL with a supported scheme", quote_json(value)),
              fmt::format("a URL starting with one of: {}", schemes),
              spec.path == "cache.upstream"
                  ? "write http://HOST[:PORT][/PREFIX], https://... or s3://BUCKET[/PREFIX]"
                  : "write http://HOST[:PORT] or https://HOST[:PORT]");
      } else if (url.size() > 2048 ||
                 url.find_first_of(std::string_view(" \t\r\n\0", 5)) != std::string_view::npos) {
        issue(fmt::format("{} contains whitespace or is longer than 2048 bytes", quote_json(value)),
              "a URL without spaces", "percent-encode the spaces, or fix the URL");
      }
      return;
    }
    case Kind::text: {
      if (!value.is_string() || value.get_ref<const std::string&>().empty() ||
          value.get_ref<const std::string&>().find('\0') != std::string::npos) {
        issue(fmt::format("{} is not a non-empty string", quote_json(value)),
              "a non-empty string without NUL bytes",
              "write it as a JSON string, e.g. \"eu-west-1\"");
      }
      return;
    }
    case Kind::boolean: {
      if (!value.is_boolean()) {
        issue(fmt::format("{} is not a boolean", quote_json(value)), "true or false",
              "write true or false without quotes");
      }
      return;
    }
    case Kind::path_prefix: {
      // The rule of bazel_remote::parse_raw_prefix(), which `forge serve` applies too.
      const bool string = value.is_string();
      const std::string_view text =
          string ? std::string_view(value.get_ref<const std::string&>()) : std::string_view();
      if (!string ||
          (text != "off" &&
           (text.size() > 256 || !text.starts_with('/') || !text.ends_with('/') ||
            text.find_first_of(std::string_view("?# \t\r\n\0", 7)) != std::string_view::npos))) {
        issue(fmt::format("{} is not a path prefix", quote_json(value)),
              R"("/", a path of at most 256 bytes that starts and ends with '/', or "off")",
              "use \"/\" (every path), a prefix such as \"/ccache/\" (no '?', '#' or spaces), or "
              "\"off\"");
      }
      return;
    }
    default: return;
  }
}

// Settings that only mean something together with another one.
void check_combinations(const json& document, std::vector<ConfigIssue>& issues) {
  const json* upstream = find_key(document, "cache.upstream");
  const bool s3 = upstream != nullptr && upstream->is_string() &&
                  upstream->get_ref<const std::string&>().starts_with("s3://");
  for (const char* field : {"cache.s3_endpoint", "cache.s3_region"}) {
    if (find_key(document, field) != nullptr && !s3) {
      issues.push_back({field, "is only used with an s3:// upstream, and cache.upstream is not one",
                        "cache.upstream = \"s3://BUCKET[/PREFIX]\"",
                        "set cache.upstream to an s3:// URL, or remove this key"});
    }
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
  check_combinations(document, issues);
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
        {"grpc_listen", first(c.server.grpc_listen)},
        {"raw_prefix", c.server.raw_prefix},
        {"instances", c.server.instances},
        {"read_only", c.server.read_only}}},
      {"cache", {{"upstream_write", c.cache.upstream_write}}},
  };
  // Absent optional settings stay absent (their defaults live in the store and the tier).
  auto& cache = out["cache"];
  if (c.cache.max_size) cache["max_size"] = *c.cache.max_size;
  if (c.cache.max_blob_size) cache["max_blob_size"] = *c.cache.max_blob_size;
  if (!c.cache.upstream.empty()) cache["upstream"] = c.cache.upstream;
  if (!c.cache.s3_endpoint.empty()) cache["s3_endpoint"] = c.cache.s3_endpoint;
  if (!c.cache.s3_region.empty()) cache["s3_region"] = c.cache.s3_region;
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
