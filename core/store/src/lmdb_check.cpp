// Checks of an LMDB data file before LMDB maps it (see lmdb.h, "Damage").
#include "forge/core/store/lmdb_check.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "forge/core/support/path_text.h"
#ifdef _WIN32
#include "forge/core/support/unique_handle_win32.h"
#else
#include "forge/core/support/unique_fd.h"
#endif

namespace forge::store {
namespace {

// LMDB's on-disk meta page (lmdb/mdb.c, MDB_DATA_VERSION 1, 64-bit build): a 16-byte page
// header (pgno u64, pad u16, flags u16, lower u16, upper u16), then MDB_meta: magic u32,
// version u32, address u64, mapsize u64, two MDB_db of 48 bytes (pad u32 - the free DB's
// holds the page size - flags u16, depth u16, branch/leaf/overflow pages, entries, root:
// u64 each), last_pg u64, txnid u64.
constexpr std::size_t k_page_header = 16;
constexpr std::uint32_t k_magic = 0xBEEFC0DE;
constexpr std::uint32_t k_data_version = 1;
constexpr std::uint16_t k_page_meta = 0x08;
constexpr std::size_t k_db_size = 48;
constexpr std::size_t k_meta_dbs = k_page_header + 4 + 4 + 8 + 8;
constexpr std::size_t k_meta_last_pg = k_meta_dbs + 2 * k_db_size;
constexpr std::size_t k_meta_txnid = k_meta_last_pg + 8;
constexpr std::size_t k_meta_end = k_meta_txnid + 8;
constexpr std::uint64_t k_invalid_page = ~std::uint64_t{0};
static_assert(k_meta_end == 152, "LMDB meta layout: see lmdb/mdb.c MDB_meta");
static_assert(sizeof(void*) == 8, "the meta layout above is LMDB's 64-bit layout");

template <typename T>
T load(const std::uint8_t* at) {
  T value;
  std::memcpy(&value, at, sizeof value);
  return value;
}

struct Meta {
  bool valid = false;
  std::uint32_t page_size = 0;
  std::uint64_t last_page = 0;
  std::uint64_t txnid = 0;
  std::array<std::uint64_t, 2> roots{};
};

Meta parse_meta(const std::uint8_t* page) {
  Meta meta;
  if ((load<std::uint16_t>(page + 10) & k_page_meta) == 0) return meta;
  if (load<std::uint32_t>(page + k_page_header) != k_magic) return meta;
  if (load<std::uint32_t>(page + k_page_header + 4) != k_data_version) return meta;
  meta.page_size = load<std::uint32_t>(page + k_meta_dbs);  // free DB's md_pad
  for (std::size_t db = 0; db < 2; ++db) {
    meta.roots[db] = load<std::uint64_t>(page + k_meta_dbs + db * k_db_size + 40);
  }
  meta.last_page = load<std::uint64_t>(page + k_meta_last_pg);
  meta.txnid = load<std::uint64_t>(page + k_meta_txnid);
  meta.valid = true;
  return meta;
}

// The data file, opened for reading without locking it (LMDB may have it open): its size and
// reads at an offset, as errno-style results.
class DataFile {
 public:
  // false with errno set when it cannot be opened.
  bool open(const std::filesystem::path& file) {
#ifdef _WIN32
    m_handle.reset(::CreateFileW(win32_path(file).c_str(), GENERIC_READ,
                                 FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                                 OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr));
    if (m_handle) return true;
    const DWORD error = ::GetLastError();
    errno = error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND ? ENOENT
            : error == ERROR_ACCESS_DENIED                                 ? EACCES
                                                                           : EIO;
    return false;
#else
    m_fd.reset(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    return static_cast<bool>(m_fd);
#endif
  }
  // The size in bytes, or -1 with errno set.
  std::int64_t size() const {
#ifdef _WIN32
    LARGE_INTEGER size{};
    if (::GetFileSizeEx(m_handle.get(), &size)) return size.QuadPart;
    errno = EIO;
    return -1;
#else
    struct stat status {};
    if (::fstat(m_fd.get(), &status) != 0) return -1;
    return status.st_size;
#endif
  }
  // Reads up to `count` bytes at `offset`; the number read (short at the end), or -1.
  std::int64_t read_at(void* into, std::size_t count, std::uint64_t offset) const {
#ifdef _WIN32
    OVERLAPPED at{};
    at.Offset = static_cast<DWORD>(offset);
    at.OffsetHigh = static_cast<DWORD>(offset >> 32);
    DWORD got = 0;
    if (::ReadFile(m_handle.get(), into, static_cast<DWORD>(count), &got, &at)) return got;
    if (::GetLastError() == ERROR_HANDLE_EOF) return 0;
    errno = EIO;
    return -1;
#else
    return ::pread(m_fd.get(), into, count, static_cast<off_t>(offset));
#endif
  }

 private:
#ifdef _WIN32
  UniqueHandle m_handle;
#else
  UniqueFd m_fd;
#endif
};

Error damaged(const std::filesystem::path& file, std::string what) {
  return Error(ErrorCategory::validation,
               fmt::format("the LMDB index '{}' is damaged: {}", path_utf8(file), what),
               k_damaged_index_code)
      .with_operation("lmdb.check")
      .with_file(path_utf8(file))
      .with_suggestion(fmt::format("move '{}' away: the scan index is rebuilt on the next scan; "
                                   "the cache store rebuilds its index from cas/ when it opens",
                                   path_utf8(file.parent_path())));
}

}  // namespace

Result<void> check_data_file(const std::filesystem::path& dir) {
  const auto file = dir / "data.mdb";
  DataFile data;
  if (!data.open(file)) {
    if (errno == ENOENT) return ok();  // a new environment
    return fail(Error::from_errno(errno, "open", path_utf8(file)));
  }
  const std::int64_t first_size = data.size();
  if (first_size < 0) return fail(Error::from_errno(errno, "fstat", path_utf8(file)));
  const auto size = static_cast<std::uint64_t>(first_size);
  if (size == 0) return ok();  // created, never written: LMDB initialises it
  // Both meta pages live in the first two pages; pages are 4 KiB to 64 KiB.
  std::array<std::uint8_t, k_meta_end> first{};
  if (data.read_at(first.data(), first.size(), 0) != static_cast<std::int64_t>(first.size())) {
    return fail(damaged(file, fmt::format("{} bytes are too few for its meta pages", size)));
  }
  const Meta meta0 = parse_meta(first.data());
  const std::uint32_t page_size = meta0.valid ? meta0.page_size : 4096;
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0) {
    return fail(damaged(file, fmt::format("meta page 0 names a page size of {}", page_size)));
  }
  std::array<std::uint8_t, k_meta_end> second{};
  if (size < 2ull * page_size || data.read_at(second.data(), second.size(), page_size) !=
                                     static_cast<std::int64_t>(second.size())) {
    return fail(damaged(file, fmt::format("{} bytes are too few for two meta pages", size)));
  }
  const Meta meta1 = parse_meta(second.data());
  if (!meta0.valid && !meta1.valid) return fail(damaged(file, "neither meta page is valid"));
  // LMDB uses the valid meta page with the newer transaction.
  const Meta& meta = !meta1.valid || (meta0.valid && meta0.txnid >= meta1.txnid) ? meta0 : meta1;
  if (meta.page_size != page_size) {
    return fail(damaged(file, "the two meta pages disagree on the page size"));
  }
  // Every page the B-trees can reach must be in the file, or reading it faults (SIGBUS).
  // The size is taken again after the meta pages were read: another process may commit in
  // between, and its newer meta page names pages the first size did not have yet (the file
  // only grows), which is not damage.
  const std::int64_t later_size = data.size();
  if (later_size < 0) return fail(Error::from_errno(errno, "fstat", path_utf8(file)));
  const auto size_after = static_cast<std::uint64_t>(later_size);
  if (meta.last_page >= size_after / page_size) {
    return fail(damaged(file, fmt::format("it is truncated: {} bytes, but its last page is {} "
                                          "(of {} bytes)",
                                          size_after, meta.last_page, page_size)));
  }
  for (const std::uint64_t root : meta.roots) {
    if (root != k_invalid_page && (root < 2 || root > meta.last_page)) {
      return fail(damaged(file, fmt::format("a root page number ({}) is outside the file", root)));
    }
  }
  return ok();
}

bool is_damaged_index(const Error& error) {
  return error.category() == ErrorCategory::validation && error.code() == k_damaged_index_code;
}

}  // namespace forge::store
