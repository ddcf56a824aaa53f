#include "forge/ninja/build_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "forge/core/support/unique_fd.h"

namespace forge::ninja {
namespace {

Error log_error(std::string_view name, std::string message) {
  return Error(ErrorCategory::validation, fmt::format("{}: {}", name, message))
      .with_file(name)
      .with_operation("ninja.read_log")
      .with_suggestion(
          "Forge leaves this build to plain ninja; delete the file to start a fresh log if "
          "ninja itself cannot read it");
}

template <typename T>
bool parse_number(std::string_view text, T& value, int base = 10) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<BuildLog> parse_build_log(std::string_view text, std::string_view name) {
  BuildLog log;
  constexpr std::string_view k_prefix = "# ninja log v";
  const auto header_end = text.find('\n');
  if (!text.starts_with(k_prefix) || header_end == std::string_view::npos) {
    return fail(log_error(name, "not a ninja build log (no '# ninja log vN' header)"));
  }
  if (!parse_number(text.substr(k_prefix.size(), header_end - k_prefix.size()), log.version)) {
    return fail(log_error(name, "unreadable version in the '# ninja log vN' header"));
  }
  if (log.version < k_build_log_oldest_version || log.version > k_build_log_newest_version) {
    return fail(log_error(
        name, fmt::format("log version {} is not supported (Forge reads v{}-v{})", log.version,
                          k_build_log_oldest_version, k_build_log_newest_version)));
  }
  std::size_t pos = header_end + 1;
  std::size_t line_number = 1;
  while (pos < text.size()) {
    ++line_number;
    const auto end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      return fail(log_error(name, fmt::format("line {} is cut off (no newline)", line_number)));
    }
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    std::string_view fields[5];
    std::size_t start = 0;
    std::size_t count = 0;
    for (; count < 4; ++count) {
      const auto tab = line.find('\t', start);
      if (tab == std::string_view::npos) break;
      fields[count] = line.substr(start, tab - start);
      start = tab + 1;
    }
    if (count != 4) {
      return fail(log_error(name, fmt::format("line {} has fewer than 5 fields", line_number)));
    }
    fields[4] = line.substr(start);
    LogEntry entry;
    entry.output = std::string(fields[3]);
    if (!parse_number(fields[0], entry.start_ms) || !parse_number(fields[1], entry.end_ms) ||
        !parse_number(fields[2], entry.mtime) || entry.output.empty() ||
        !parse_number(fields[4], entry.command_hash, 16)) {
      return fail(log_error(name, fmt::format("line {} does not parse", line_number)));
    }
    ++log.lines;
    log.entries[entry.output] = std::move(entry);
  }
  return log;
}

Result<BuildLog> read_build_log(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(Error::from_errno(errno == 0 ? ENOENT : errno, "ninja.read_log", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_build_log(text.str(), path.string());
}

std::string format_log_entry(const LogEntry& entry) {
  return fmt::format("{}\t{}\t{}\t{}\t{:x}\n", entry.start_ms, entry.end_ms, entry.mtime,
                     entry.output, entry.command_hash);
}

Result<void> append_build_log(const std::filesystem::path& path,
                              std::span<const LogEntry> entries) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return fail(Error::from_errno(errno, "ninja.append_log", path.string()));
  std::string text;
  if (::lseek(fd.get(), 0, SEEK_END) == 0) {
    text = fmt::format("# ninja log v{}\n", k_build_log_write_version);
  }
  for (const LogEntry& entry : entries) text += format_log_entry(entry);
  std::string_view rest = text;
  while (!rest.empty()) {
    const ssize_t written = ::write(fd.get(), rest.data(), rest.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return fail(Error::from_errno(errno, "ninja.append_log", path.string()));
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  if (const int error = fd.close(); error != 0) {
    return fail(Error::from_errno(error, "ninja.append_log", path.string()));
  }
  return ok();
}

}  // namespace forge::ninja
