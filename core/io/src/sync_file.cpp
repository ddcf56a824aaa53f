// The platform-neutral half of sync_file.h: the read loops over read_some/stat_file, and
// parallel_for.
#include "sync_file.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace forge::io::detail {

Result<FileStat> stream_file(const NativeFile& file, const std::filesystem::path& path,
                             std::span<std::byte> buffer,
                             const std::function<void(std::span<const std::byte>)>& sink) {
  FORGE_TRY(const FileStat before, stat_file(file, path));
  std::uint64_t total = 0;
  // Read up to one byte past the size at open: that byte, if it comes, proves growth, and
  // a writer that keeps appending cannot keep us reading forever.
  while (total <= before.size) {
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), before.size + 1 - total));
    FORGE_TRY(const std::size_t n, read_some(file, path, buffer.first(want)));
    if (n == 0) break;
    total += n;
    sink(buffer.first(n));
  }
  FORGE_TRY(const FileStat after, stat_file(file, path));
  FORGE_TRY_VOID(check_unchanged(path, before, after, total));
  FileStat result = after;
  result.size = total;
  return result;
}

Result<std::size_t> read_prefix(const NativeFile& file, const std::filesystem::path& path,
                                std::span<std::byte> buffer) {
  std::size_t total = 0;
  while (total < buffer.size()) {
    FORGE_TRY(const std::size_t n, read_some(file, path, buffer.subspan(total)));
    if (n == 0) break;
    total += n;
  }
  return total;
}

void parallel_for(std::size_t count, std::size_t threads,
                  const std::function<void(std::size_t)>& fn) {
  if (count == 0) return;
  threads = std::max<std::size_t>(1, std::min(threads, count));
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++) fn(i);
  };
  std::vector<std::jthread> pool;
  pool.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
}

}  // namespace forge::io::detail
