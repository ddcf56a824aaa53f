// CasStore::put_file: a file streamed into the store (`forge cache put`).
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
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno(errno, "read", file.string()));
    if (n == 0) break;
    FORGE_TRY_VOID(writer.write(std::span(buffer).first(static_cast<std::size_t>(n))));
  }
  return writer.commit();
}

}  // namespace forge::cache
