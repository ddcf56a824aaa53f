// Checks of an LMDB data file before LMDB maps it (see lmdb.h, "Damage").
#include "forge/core/store/lmdb_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "forge/core/support/unique_fd.h"

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

Error damaged(const std::filesystem::path& file, std::string what) {
  return Error(ErrorCategory::validation,
               fmt::format("the LMDB index '{}' is damaged: {}", file.string(), what),
               k_damaged_index_code)
      .with_operation("lmdb.check")
      .with_file(file.string())
      .with_suggestion(fmt::format("move '{}' away: the scan index is rebuilt on the next scan; "
                                   "the cache store rebuilds its index from cas/ when it opens",
                                   file.parent_path().string()));
}

}  // namespace

Result<void> check_data_file(const std::filesystem::path& dir) {
  const auto file = dir / "data.mdb";
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return ok();  // a new environment
    return fail(Error::from_errno(errno, "open", file.string()));
  }
  struct stat status;
  if (::fstat(fd.get(), &status) != 0)
    return fail(Error::from_errno(errno, "fstat", file.string()));
  const auto size = static_cast<std::uint64_t>(status.st_size);
  if (size == 0) return ok();  // created, never written: LMDB initialises it
  // Both meta pages live in the first two pages; pages are 4 KiB to 64 KiB.
  std::array<std::uint8_t, k_meta_end> first{};
  if (::pread(fd.get(), first.data(), first.size(), 0) != static_cast<ssize_t>(first.size())) {
    return fail(damaged(file, fmt::format("{} bytes are too few for its meta pages", size)));
  }
  const Meta meta0 = parse_meta(first.data());
  const std::uint32_t page_size = meta0.valid ? meta0.page_size : 4096;
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0) {
    return fail(damaged(file, fmt::format("meta page 0 names a page size of {}", page_size)));
  }
  std::array<std::uint8_t, k_meta_end> second{};
  if (size < 2ull * page_size || ::pread(fd.get(), second.data(), second.size(), page_size) !=
                                     static_cast<ssize_t>(second.size())) {
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
  if (::fstat(fd.get(), &status) != 0)
    return fail(Error::from_errno(errno, "fstat", file.string()));
  const auto size_after = static_cast<std::uint64_t>(status.st_size);
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
