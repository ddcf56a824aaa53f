// The walker's directories on Linux: an fd per directory, names by getdents64, children's
// stats by statx relative to it (one name lookup instead of a path walk).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forge/core/support/path_text.h"
#include "walk_dir.h"

namespace forge::scan::detail {
namespace {

EntryType type_of(unsigned char d_type, int dir_fd, const char* name) {
  switch (d_type) {
    case DT_REG: return EntryType::file;
    case DT_DIR: return EntryType::directory;
    case DT_LNK: return EntryType::symlink;
    case DT_UNKNOWN: {  // some file systems (XFS without ftype) do not fill d_type
      struct stat st {};
      if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return EntryType::other;
      if (S_ISREG(st.st_mode)) return EntryType::file;
      if (S_ISDIR(st.st_mode)) return EntryType::directory;
      if (S_ISLNK(st.st_mode)) return EntryType::symlink;
      return EntryType::other;
    }
    default: return EntryType::other;
  }
}

// A getdents64 call is given at least this much room: several maximal (255-byte) names,
// so a call never fails with EINVAL for want of space for one record.
constexpr std::size_t k_min_read = 4096;

}  // namespace

Result<WalkDir> WalkDir::open(const std::filesystem::path& absolute, bool path_only) {
  WalkDir dir;
  dir.m_absolute = absolute;
  dir.m_fd.reset(::open(absolute.c_str(),
                        (path_only ? O_PATH : O_RDONLY) | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!dir.m_fd) return fail(Error::from_errno(errno, "opendir", path_utf8(absolute)));
  return dir;
}

Result<void> WalkDir::make_listable() {
  UniqueFd listable(openat(m_fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!listable) return fail(Error::from_errno(errno, "opendir", path_utf8(m_absolute)));
  m_fd = std::move(listable);
  return ok();
}

Result<void> WalkDir::read_names(std::vector<char>& buffer, std::vector<DirName>& names) const {
  std::size_t used = 0;
  for (;;) {
    if (buffer.size() - used < k_min_read) buffer.resize(buffer.size() * 2);
    const ssize_t n = ::getdents64(m_fd.get(), buffer.data() + used, buffer.size() - used);
    if (n < 0) return fail(Error::from_errno(errno, "readdir", path_utf8(m_absolute)));
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  for (std::size_t offset = 0; offset < used;) {
    const auto* entry = reinterpret_cast<const dirent64*>(buffer.data() + offset);
    offset += entry->d_reclen;
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.push_back(
        DirName{name, type_of(entry->d_type, m_fd.get(), entry->d_name), entry->d_name, 0});
  }
  return ok();
}

std::optional<io::FileStat> WalkDir::stat(const char* name) const {
  struct statx stx {};
  if (statx(m_fd.get(), name, AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS,
            &stx) != 0) {
    return std::nullopt;
  }
  return io::to_file_stat(stx);
}

std::optional<std::string> WalkDir::read_file(const char* name) const {
  const UniqueFd file(openat(m_fd.get(), name, O_RDONLY | O_CLOEXEC));
  if (!file) return std::nullopt;
  std::string content;
  char chunk[8192];
  for (ssize_t n; (n = ::read(file.get(), chunk, sizeof chunk)) > 0;) content.append(chunk, n);
  return content;
}

}  // namespace forge::scan::detail
