#include "file_common.h"

#include <fmt/format.h>

namespace forge::io::detail {
namespace {

Error changed_while_reading(const std::filesystem::path& path, std::string_view what) {
  return Error(ErrorCategory::file_system,
               fmt::format("'{}' changed while reading ({})", display_path(path), what))
      .with_file(display_path(path))
      .with_operation("read")
      .with_suggestion(
          "the file was being written during hashing: hash it again once the writer is done");
}

}  // namespace

std::string display_path(const std::filesystem::path& path) {
  const std::u8string text = path.generic_u8string();
  return std::string(text.begin(), text.end());
}

Error not_regular(const std::filesystem::path& path, std::string_view kind) {
  return Error(ErrorCategory::file_system,
               fmt::format("'{}' is {}, not a regular file: not read", display_path(path), kind))
      .with_file(display_path(path))
      .with_operation("read")
      .with_suggestion("only regular files are hashed or read; exclude this path");
}

Result<void> check_unchanged(const std::filesystem::path& path, const FileStat& before,
                             const FileStat& after, std::uint64_t bytes_read) {
  if (bytes_read != before.size) {
    return fail(changed_while_reading(
        path, fmt::format("{} bytes at open, {} bytes read", before.size, bytes_read)));
  }
  if (after.size != before.size || after.mtime_ns != before.mtime_ns) {
    return fail(changed_while_reading(path, "size or mtime changed"));
  }
  return ok();
}

std::filesystem::path directory_of(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

std::filesystem::path temp_path_beside(const std::filesystem::path& path, std::uint64_t random) {
  std::filesystem::path name = u8".";
  name += path.filename();
  name += fmt::format(".forge-tmp.{:016x}", random);
  return directory_of(path) / name;
}

}  // namespace forge::io::detail
