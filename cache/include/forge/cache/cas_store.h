#pragma once
// CasStore: content-addressed blobs on disk, indexed in LMDB.
//
// Layout under StoreOptions::dir:
//   cas/<first 2 hex>/<64 hex>   one file per blob, named by its SHA-256
//   tmp/                         writes in progress (never visible under cas/)
//   index/                       LMDB: "blobs" raw digest (32 B) -> BlobRecord,
//                                "totals" "bytes"/"entries" -> u64 LE
// BlobRecord value (little-endian, version k_blob_record_version):
//   u8 version | u64 size | i64 inserted_ns | i64 accessed_ns
//
// Guarantees:
// - A put streams into tmp/ while hashing, checks the claimed digest and size (mismatch →
//   Validation error, temp removed, nothing indexed), fsyncs the file (StoreOptions::fsync),
//   renames it into cas/, fsyncs the directory and only then indexes it, updating totals in
//   the same transaction. A reader never sees a partial blob.
// - Concurrent puts of one blob all succeed and leave identical content (rename is atomic
//   and both temps hold the same bytes); the index counts the blob once.
// - The empty blob always exists.
// Thread-safe: one CasStore per directory per process, shared by every thread.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "forge/cache/blob_digest.h"
#include "forge/core/hash/hasher.h"
#include "forge/core/store/lmdb.h"

namespace forge::cache {

inline constexpr std::uint8_t k_blob_record_version = 1;
inline constexpr std::size_t k_blob_record_size = 1 + 8 + 8 + 8;
static_assert(k_blob_record_size == 25, "BlobRecord layout changed: bump k_blob_record_version");

struct StoreOptions {
  std::filesystem::path dir;
  std::uint64_t max_blob_size = 4ull << 30;  // 4 GiB: larger than any build output we expect
  bool fsync = true;                         // file and directory before acknowledging
};

class CasStore;

// A put in progress. Move-only; destroying it without commit() removes the temp file.
class BlobWriter {
 public:
  BlobWriter(BlobWriter&& other) noexcept;
  BlobWriter& operator=(BlobWriter&&) = delete;
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;
  ~BlobWriter();

  Result<void> write(std::span<const std::byte> data);
  std::uint64_t bytes_written() const { return m_written; }
  Result<BlobDigest> commit();

 private:
  friend class CasStore;
  BlobWriter(CasStore& store, std::filesystem::path temp, int fd,
             std::optional<BlobDigest> expected);
  void discard();
  CasStore* m_store;
  std::filesystem::path m_temp;
  int m_fd;
  std::optional<BlobDigest> m_expected;
  hash::MultiHasher m_hasher{hash::AlgorithmSet{true, false}};
  std::uint64_t m_written = 0;
};

// An open blob: reads see exactly the committed bytes, even if the blob is replaced.
class BlobReader {
 public:
  BlobReader(BlobReader&& other) noexcept;
  BlobReader& operator=(BlobReader&&) = delete;
  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;
  ~BlobReader();

  std::uint64_t size() const { return m_size; }
  Result<std::size_t> read(std::uint64_t offset, std::span<std::byte> out) const;  // pread
  int fd() const { return m_fd; }

 private:
  friend class CasStore;
  BlobReader(int fd, std::uint64_t size) : m_fd(fd), m_size(size) {}
  int m_fd;
  std::uint64_t m_size;
};

class CasStore {
 public:
  static Result<std::shared_ptr<CasStore>> open(const StoreOptions& options);

  Result<bool> contains(const BlobDigest& digest) const;
  Result<std::vector<BlobDigest>> find_missing(std::span<const BlobDigest> digests) const;
  Result<BlobWriter> begin_put(std::optional<BlobDigest> expected);
  Result<BlobDigest> put(std::span<const std::byte> data, std::optional<BlobDigest> expected = {});
  Result<std::optional<BlobReader>> open_blob(const BlobDigest& digest) const;
  Result<std::optional<std::string>> get(const BlobDigest& digest) const;

  struct Stats {
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;
  };
  Result<Stats> stats() const;
  std::filesystem::path blob_path(const BlobDigest& digest) const;
  const StoreOptions& options() const { return m_options; }

 private:
  friend class BlobWriter;
  CasStore(StoreOptions options, store::Environment env)
      : m_options(std::move(options)), m_env(std::move(env)) {}
  Result<BlobDigest> finish_put(const std::filesystem::path& temp, const BlobDigest& actual);
  StoreOptions m_options;
  mutable store::Environment m_env;
  store::Database m_blobs, m_totals;
};

}  // namespace forge::cache
