// The portable backend, on Linux and Windows alike: a pool of threads over the synchronous
// open / read / close of sync_file.h (a descriptor on Linux, a synchronous HANDLE on
// Windows). Every open holds a ResourceManager handle for exactly as long as the file is open.
#include <algorithm>
#include <thread>

#include "forge/core/io/backend_selector.h"
#include "sync_file.h"
#include "sync_io_base.h"

namespace forge::io {
namespace {

// 256 KiB per read: large enough that syscall cost is noise next to hashing, small enough
// that a buffer per thread stays in L2.
constexpr std::size_t k_chunk_size = 256 * 1024;

class FallbackIo final : public detail::SyncIoBase {
 public:
  FallbackIo(const support::IoConfig& config, std::shared_ptr<support::ResourceManager> handles)
      : SyncIoBase(std::move(handles)) {
    (void)config;
  }

  std::string_view backend_name() const override { return "fallback"; }

  Result<std::size_t> read(const std::filesystem::path& path, std::span<std::byte> buf) override {
    FORGE_TRY(auto handle, m_handles->acquire());
    auto file = detail::open_sync(path);
    if (!file) return fail(std::move(file).error().with_backend(backend_name()));
    auto read = detail::read_prefix(*file, path, buf);
    if (!read) return fail(std::move(read).error().with_backend(backend_name()));
    return read;
  }

  Result<std::vector<std::byte>> read_all(const std::filesystem::path& path) override {
    FORGE_TRY(auto handle, m_handles->acquire());
    auto file = detail::open_sync(path);
    if (!file) return fail(std::move(file).error().with_backend(backend_name()));
    std::vector<std::byte> data;
    std::vector<std::byte> buffer(k_chunk_size);
    auto result = detail::stream_file(*file, path, buffer, [&](std::span<const std::byte> chunk) {
      data.insert(data.end(), chunk.begin(), chunk.end());
    });
    if (!result) return fail(std::move(result).error().with_backend(backend_name()));
    return data;
  }

 private:
  void read_into(std::span<const std::filesystem::path> paths,
                 std::span<Result<std::vector<std::byte>>> out) override {
    detail::parallel_for(paths.size(), m_threads,
                         [&](std::size_t i) { out[i] = read_all(paths[i]); });
  }

  void hash_into(std::span<const std::filesystem::path> paths, hash::AlgorithmSet algorithms,
                 Follow follow, std::span<Result<HashResult>> out) override {
    detail::parallel_for(paths.size(), m_threads, [&](std::size_t i) {
      thread_local std::vector<std::byte> buffer(k_chunk_size);
      out[i] = hash_one(paths[i], algorithms, follow, buffer);
    });
  }

  Result<HashResult> hash_one(const std::filesystem::path& path, hash::AlgorithmSet algorithms,
                              Follow follow, std::span<std::byte> buffer) {
    FORGE_TRY(auto handle, m_handles->acquire());
    auto file = detail::open_sync(path, follow);
    if (!file) return fail(std::move(file).error().with_backend(backend_name()));
    hash::MultiHasher hasher(algorithms);
    auto stat = detail::stream_file(
        *file, path, buffer, [&](std::span<const std::byte> chunk) { hasher.update(chunk); });
    if (!stat) return fail(std::move(stat).error().with_backend(backend_name()));
    HashResult result;
    result.size = stat->size;
    result.stat = *stat;
    result.digests = hasher.finish();
    return result;
  }
};

}  // namespace

std::unique_ptr<PlatformIO> create_fallback_io(const support::IoConfig& config,
                                               std::shared_ptr<support::ResourceManager> handles) {
  if (!handles) handles = std::make_shared<support::ResourceManager>(config.max_file_handles);
  return std::make_unique<FallbackIo>(config, std::move(handles));
}

}  // namespace forge::io
