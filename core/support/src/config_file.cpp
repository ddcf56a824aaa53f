#include "forge/core/support/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _WIN32
#include <io.h>
#endif

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "forge/core/support/unique_fd.h"

namespace forge::support {
namespace {

using nlohmann::json;

// The byte offset where brackets first nest deeper than `limit` (strings skipped), or npos.
std::size_t too_deep_at(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

// "origin:line:column" of a byte offset (both 1-based).
std::string location(std::string_view text, std::string_view origin, std::size_t offset) {
  offset = std::min(offset, text.size());
  const auto before = text.substr(0, offset);
  const std::size_t line =
      1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t line_start = before.rfind('\n');
  const std::size_t column =
      line_start == std::string_view::npos ? offset + 1 : offset - line_start;
  return fmt::format("{}:{}:{}", origin, line, column);
}

// Backs `size` off so that text[0, size) does not end inside a UTF-8 sequence.
std::size_t utf8_boundary(std::string_view text, std::size_t size) {
  while (size > 0 && size < text.size() &&
         (static_cast<unsigned char>(text[size]) & 0xC0) == 0x80) {
    --size;
  }
  return size;
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Appends `value` as JSON until `out` holds more than `limit` bytes; recursion depth is at
// most `limit` (every level appends at least one byte before descending).
void append_bounded(const json& value, std::string& out, std::size_t limit) {
  if (out.size() > limit) return;
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    const std::size_t room = limit - out.size() + 1;
    out += dump(json(text.substr(0, utf8_boundary(text, std::min(text.size(), room)))));
    return;
  }
  if (!value.is_structured()) {
    out += dump(value);  // numbers, booleans, null: short
    return;
  }
  out += value.is_object() ? '{' : '[';
  bool first = true;
  for (auto it = value.begin(); it != value.end() && out.size() <= limit; ++it) {
    if (!first) out += ',';
    first = false;
    if (value.is_object()) out += quote_text(it.key(), limit) + ':';
    append_bounded(*it, out, limit);
  }
  out += value.is_object() ? '}' : ']';
}

}  // namespace

std::string quote_text(std::string_view text, std::size_t limit) {
  const std::size_t kept = utf8_boundary(text, std::min(text.size(), limit));
  std::string quoted = dump(json(std::string(text.substr(0, kept))));
  quoted = quoted.substr(1, quoted.size() - 2);  // the escapes without the quotes
  if (kept < text.size()) quoted += fmt::format("...({} bytes)", text.size());
  return quoted;
}

std::string quote_json(const json& value, std::size_t limit) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() <= limit) return dump(value);
    return fmt::format("\"{}...\" ({} bytes)", quote_text(text.substr(0, limit), limit),
                       text.size());
  }
  std::string out;
  append_bounded(value, out, limit);
  if (out.size() <= limit) return out;
  return out.substr(0, utf8_boundary(out, limit)) + "...";
}

Result<json> parse_config_text(std::string_view text, std::string_view origin) {
  if (const std::size_t at = too_deep_at(text, k_max_config_depth); at != std::string_view::npos) {
    return fail(
        Error(ErrorCategory::configuration,
              fmt::format("{}: nested deeper than {} levels", location(text, origin, at),
                          k_max_config_depth))
            .with_operation("config.parse")
            .with_suggestion("a config is an object of a few sections; remove the nesting"));
  }
  try {
    return json::parse(text);
  } catch (const json::parse_error& error) {
    const std::string_view what = error.what();
    const std::size_t reason = what.find(": ");
    const std::string detail =
        reason == std::string_view::npos ? "" : ": " + quote_text(what.substr(reason + 2), 160);
    return fail(
        Error(ErrorCategory::configuration,
              fmt::format("{}: malformed JSON{}",
                          location(text, origin, error.byte > 0 ? error.byte - 1 : 0), detail))
            .with_operation("config.parse")
            .with_suggestion("fix the JSON syntax at that line and column (no comments or "
                             "trailing commas)"));
  } catch (const json::exception& error) {
    // out_of_range 406: a number beyond a double's range, e.g. 1e400.
    return fail(
        Error(ErrorCategory::configuration,
              fmt::format("{}: a number is too large: {}", origin, quote_text(error.what(), 160)))
            .with_operation("config.parse")
            .with_suggestion("write numbers within +-1.7e308 (integers within 64 bits)"));
  }
}

Result<json> read_config_file(const std::filesystem::path& file) {
  const std::string name = quote_text(file.string(), 4096);
#ifdef _WIN32
  // Binary: no CRLF translation under the JSON parser's byte offsets.
  UniqueFd fd(::_wopen(file.c_str(), _O_RDONLY | _O_BINARY));
#else
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
#endif
  if (!fd) {
    return fail(Error::from_errno(errno, "config.load", file.string())
                    .with_suggestion(fmt::format(
                        "create '{}' (see `forge config show` for every key and its default) or "
                        "pass the right path with --config",
                        name)));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return fail(Error::from_errno(errno, "config.stat", name));
  if (!S_ISREG(info.st_mode)) {
    return fail(Error(ErrorCategory::configuration, fmt::format("{}: not a regular file", name))
                    .with_file(file.string())
                    .with_suggestion("point --config or FORGE_CONFIG at a JSON file"));
  }
  const auto too_large = [&](std::uint64_t size) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("{}: {} bytes, larger than the {} a config file may be", name,
                                  size, k_max_config_file_size))
                    .with_file(file.string())
                    .with_suggestion("a config holds a few settings; check the file is the "
                                     "right one"));
  };
  if (static_cast<std::uint64_t>(info.st_size) > k_max_config_file_size) {
    return too_large(static_cast<std::uint64_t>(info.st_size));
  }
  // Read at most one byte past the limit, whatever the file does meanwhile.
  std::string text(k_max_config_file_size + 1, '\0');
  std::size_t used = 0;
  while (used < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno(errno, "config.read", file.string()));
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used > k_max_config_file_size) return too_large(used);
  text.resize(used);
  FORGE_TRY(json document, parse_config_text(text, name));
  if (!document.is_object()) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("{}: the top level must be a JSON object", name))
                    .with_file(file.string())
                    .with_suggestion("wrap the settings in { ... }"));
  }
  return document;
}

Result<void> apply_override(json& document, std::string_view assignment) {
  const auto equals = assignment.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("override '{}' is not key=value", quote_text(assignment)))
                    .with_suggestion("write --set io.max_file_handles=512"));
  }
  if (!document.is_object()) {
    return fail(Error(ErrorCategory::validation, "overrides apply to a JSON object")
                    .with_suggestion("wrap the settings in { ... }"));
  }
  const std::string key(assignment.substr(0, equals));
  if (static_cast<std::size_t>(std::count(key.begin(), key.end(), '.')) >= k_max_config_depth) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("override key '{}' is nested too deeply", quote_text(key)))
                    .with_suggestion("keys are dotted paths such as io.max_file_handles"));
  }
  const std::string_view text = assignment.substr(equals + 1);
  json value;
  if (auto parsed = parse_config_text(text, "--set"); parsed) {
    value = std::move(*parsed);
  } else {
    value = std::string(text);  // not JSON (or hostile JSON): the validator sees a string
  }
  json* node = &document;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = key.find('.', start);
    const std::string part =
        key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos) {
      (*node)[part] = std::move(value);
      return ok();
    }
    if (!node->contains(part) || !(*node)[part].is_object()) (*node)[part] = json::object();
    node = &(*node)[part];
    start = dot + 1;
  }
}

}  // namespace forge::support
