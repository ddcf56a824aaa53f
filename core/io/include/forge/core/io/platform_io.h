#pragma once
// PlatformIO: one interface over every batch I/O backend (io_uring on Linux, a portable
// thread-pool fallback; kqueue / IOCP backends would sit beside them).
//
// Contract (every backend, checked by the same parameterised tests — Property 3):
// - Thread-safe: every method may be called from any thread, concurrently.
// - Batch calls return one result per input, in input order; one bad path never fails the
//   batch (its slot holds the Error, category file_system with the errno).
// - Open descriptors are bounded by the backend's ResourceManager (Property 12); a request
//   at the limit waits for a handle (Property 13).
// - batch_stat has lstat semantics (symlinks are not followed); batch_read / batch_hash
//   follow symlinks like cat and sha256sum (batch_hash with Follow::no does not: ELOOP),
//   and fail with EISDIR on directories.
// - Reads are of regular files only and never block on a special file: every open is
//   O_NONBLOCK (a FIFO without a writer cannot hang it), the type is checked after the open
//   (fstat) or right before it, and a FIFO, device or socket - directly or through a
//   symlink - is an error (file_system, "not a regular file"). Every read is bounded by the
//   size seen at open plus one byte (which proves growth), so /dev/zero cannot spin it.
// - batch_hash streams each file in bounded chunks: memory does not grow with file size.
//   A file whose size changes while it is read yields an Error (file_system, "changed while
//   reading"), never a digest of a mix of old and new content.
// - write_all is atomic: a temp file in the destination directory, then rename; with
//   Sync::yes the file and the directory are fsync'ed before success is reported. A failed
//   write leaves no partial file visible under the destination name.

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "forge/core/hash/hasher.h"
#include "forge/core/support/error.h"

namespace forge::io {

struct FileStat {
  std::uint64_t size = 0;
  std::uint64_t ino = 0;
  std::uint64_t dev = 0;
  std::int64_t mtime_ns = 0;  // ns since the epoch
  std::int64_t ctime_ns = 0;
  std::uint32_t mode = 0;  // st_mode: S_ISREG / S_ISDIR / S_ISLNK apply
};

struct HashResult {
  std::uint64_t size = 0;  // bytes hashed
  hash::Digests digests;
  FileStat stat;  // fstat of the open file after reading (follows symlinks)
};

// Converts a statx result (STATX_BASIC_STATS) into a FileStat.
FileStat to_file_stat(const struct statx& stx);

enum class Sync { no, yes };

// Whether a read follows a symlink in the last path component.
enum class Follow { no, yes };

struct WriteOp {
  std::filesystem::path path;
  std::span<const std::byte> data;  // borrowed; must outlive the batch call
  Sync sync = Sync::no;
};

class PlatformIO {
 public:
  virtual ~PlatformIO() = default;

  virtual std::string_view backend_name() const = 0;  // "io_uring" | "fallback"

  // Reads up to buf.size() bytes from the start of the file; returns the count read.
  virtual Result<std::size_t> read(const std::filesystem::path& path, std::span<std::byte> buf) = 0;
  virtual Result<std::vector<std::byte>> read_all(const std::filesystem::path& path) = 0;
  virtual Result<void> write_all(const std::filesystem::path& path, std::span<const std::byte> data,
                                 Sync sync) = 0;

  // batch_read and batch_hash give one slot per path, in path order, each starting as an
  // empty success; the backend fills them (read_into / hash_into).
  std::vector<Result<std::vector<std::byte>>> batch_read(
      std::span<const std::filesystem::path> paths) {
    std::vector<Result<std::vector<std::byte>>> results(paths.size(), std::vector<std::byte>{});
    read_into(paths, results);
    return results;
  }
  virtual std::vector<Result<FileStat>> batch_stat(
      std::span<const std::filesystem::path> paths) = 0;
  std::vector<Result<HashResult>> batch_hash(std::span<const std::filesystem::path> paths,
                                             hash::AlgorithmSet algorithms,
                                             Follow follow = Follow::yes) {
    std::vector<Result<HashResult>> results(paths.size(), HashResult{});
    hash_into(paths, algorithms, follow, results);
    return results;
  }
  virtual std::vector<Result<void>> batch_write(std::span<const WriteOp> ops) = 0;

 protected:
  // The backend's batch reads: out[i] is the result for paths[i] (out.size() == paths.size()).
  virtual void read_into(std::span<const std::filesystem::path> paths,
                         std::span<Result<std::vector<std::byte>>> out) = 0;
  virtual void hash_into(std::span<const std::filesystem::path> paths,
                         hash::AlgorithmSet algorithms, Follow follow,
                         std::span<Result<HashResult>> out) = 0;
};

// fsync(2) of a directory, so that a create or rename inside it survives a power loss.
// Errors are FileSystem errors naming the directory.
Result<void> fsync_directory(const std::filesystem::path& dir);

}  // namespace forge::io
