// CasStore::put_file: a file streamed into the store (`forge cache put`), and the read loop
// every file streamed into or through the store uses (read_to_end).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "forge/cache/cas_store.h"

namespace forge::cache {

Result<BlobDigest> CasStore::put_file(const std::filesystem::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail(Error::from_errno(errno, "open", file.string()));
  FORGE_TRY(BlobWriter writer, begin_put(std::nullopt));
  struct stat st {};
  const std::uint64_t size_hint =
      ::fstat(fd.get(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : k_copy_buffer_max;
  std::vector<std::byte> buffer(copy_buffer_size(size_hint));
  FORGE_TRY_VOID(read_to_end(
      fd, file, buffer, [&](std::span<const std::byte> chunk) { return writer.write(chunk); }));
  return writer.commit();
}

Result<std::uint64_t> read_to_end(
    const UniqueFd& fd, const std::filesystem::path& path, std::span<std::byte> buffer,
    const std::function<Result<void>(std::span<const std::byte>)>& sink) {
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno(errno, "read", path.string()));
    if (n == 0) return total;
    FORGE_TRY_VOID(sink(buffer.first(static_cast<std::size_t>(n))));
    total += static_cast<std::uint64_t>(n);
  }
}

}  // namespace forge::cache
