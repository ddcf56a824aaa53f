#pragma once
// SyncIoBase: what the backends over synchronous calls do the same way (the fallback on
// Linux and Windows, io_uring), so each backend implements only the reads it does
// differently. Writes are temp file + rename / MoveFileExW (nothing io_uring can make more
// atomic), and stats are a loop of lstat_path (on Linux a statx: the kernel always punts
// IORING_OP_STATX to its io-wq worker threads, so a ring cannot beat the direct syscall on a
// warm dentry cache; not yet measured). Internal header.

#include <algorithm>
#include <memory>
#include <thread>

#include "forge/core/io/platform_io.h"
#include "forge/core/support/resource_manager.h"
#include "sync_file.h"

namespace forge::io::detail {

class SyncIoBase : public PlatformIO {
 public:
  Result<void> write_all(const std::filesystem::path& path, std::span<const std::byte> data,
                         Sync sync) override {
    FORGE_TRY(auto handle, m_handles->acquire());
    auto result = atomic_write(path, data, sync);
    if (!result) return fail(std::move(result).error().with_backend(backend_name()));
    return ok();
  }

  std::vector<Result<FileStat>> batch_stat(std::span<const std::filesystem::path> paths) override {
    std::vector<Result<FileStat>> results(paths.size(), FileStat{});
    // a stat on a warm cache is ~1 us: threads only pay for larger batches.
    const std::size_t threads = paths.size() < 256 ? 1 : m_threads;
    parallel_for(paths.size(), threads, [&](std::size_t i) {
#ifdef _WIN32
      // A Win32 stat opens a handle: it counts against the limit (Property 12).
      auto handle = m_handles->acquire();
      if (!handle) {
        results[i] = fail(std::move(handle).error());
        return;
      }
#endif
      results[i] = lstat_path(paths[i]);
    });
    return results;
  }

  std::vector<Result<void>> batch_write(std::span<const WriteOp> ops) override {
    std::vector<Result<void>> results(ops.size());
    parallel_for(ops.size(), m_threads, [&](std::size_t i) {
      results[i] = write_all(ops[i].path, ops[i].data, ops[i].sync);
    });
    return results;
  }

 protected:
  explicit SyncIoBase(std::shared_ptr<support::ResourceManager> handles)
      : m_handles(std::move(handles)),
        m_threads(std::max(2u, std::thread::hardware_concurrency())) {}

  std::shared_ptr<support::ResourceManager> m_handles;
  std::size_t m_threads;  // one per core, at least two so I/O and hashing overlap
};

}  // namespace forge::io::detail
