// forge_store: the content-addressed store and the raw action-cache keyspace (see forge.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "c_status.h"
#include "forge/cache/action_cache.h"
#include "forge/cache/cas_store.h"
#include "forge/core/support/unique_fd.h"

struct forge_store {
  std::shared_ptr<forge::cache::CasStore> cas;
  std::shared_ptr<forge::cache::ActionCache> ac;
  forge::capi::ErrorSlot error;
};

namespace {

using forge::Result;
using forge::capi::fail_with;
using forge::capi::guarded;
using forge::capi::null_argument;

// Copy buffer for get_file: 256 KiB, large enough that syscalls are not the
// cost, small enough to live on the heap per call without mattering.
constexpr std::size_t k_copy_chunk = 256 * 1024;

Result<forge::cache::BlobDigest> parse(const forge_digest& digest) {
  const auto length = ::strnlen(digest.sha256, sizeof digest.sha256);
  return forge::cache::parse_blob_digest(std::string_view(digest.sha256, length), digest.size);
}

void to_c(const forge::cache::BlobDigest& digest, forge_digest& out) {
  forge::capi::copy_hex(digest.sha256, out.sha256, sizeof out.sha256);
  out.size = digest.size;
}

// The blob, or NOT_FOUND naming it.
Result<forge::cache::BlobReader> open_existing(forge::cache::CasStore& cas,
                                               const forge::cache::BlobDigest& digest) {
  FORGE_TRY(auto reader, cas.open_blob(digest));
  if (!reader) {
    return forge::fail(forge::Error(forge::ErrorCategory::file_system,
                                    "blob " + digest.to_string() + " is not in the store", ENOENT)
                           .with_suggestion("put it first, or check the digest"));
  }
  return std::move(*reader);
}

Result<void> get_file(forge::cache::CasStore& cas, const forge::cache::BlobDigest& digest,
                      const std::filesystem::path& path) {
  FORGE_TRY(auto reader, open_existing(cas, digest));
  std::string temp = path.string() + ".forge-tmp.XXXXXX";
  forge::UniqueFd fd(::mkstemp(temp.data()));
  if (!fd) return forge::fail(forge::Error::from_errno(errno, "forge_store_get_file", temp));
  auto result = [&]() -> Result<void> {
    std::vector<std::byte> chunk(k_copy_chunk);
    for (std::uint64_t offset = 0; offset < reader.size();) {
      FORGE_TRY(const std::size_t n, reader.read(offset, chunk));
      if (n == 0) break;
      for (std::size_t done = 0; done < n;) {
        const ssize_t w = ::write(fd.get(), chunk.data() + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return forge::fail(forge::Error::from_errno(errno, "write", temp));
        done += static_cast<std::size_t>(w);
      }
      offset += n;
    }
    if (::fchmod(fd.get(), 0644) != 0 || ::fsync(fd.get()) != 0) {
      return forge::fail(forge::Error::from_errno(errno, "fsync", temp));
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      return forge::fail(forge::Error::from_errno(errno, "rename", path.string()));
    }
    return forge::ok();
  }();
  if (!result) ::unlink(temp.c_str());
  return result;
}

}  // namespace

extern "C" {

forge_status forge_store_open(const char* dir, forge_store** out) {
  if (out == nullptr) return null_argument("forge_store_open", "out");
  *out = nullptr;
  if (dir == nullptr) return null_argument("forge_store_open", "dir");
  return guarded(nullptr, [&] {
    forge::cache::StoreOptions options;
    options.dir = dir;
    auto cas = forge::cache::CasStore::open(options);
    if (!cas) return fail_with(cas.error());
    auto ac = forge::cache::ActionCache::open(*cas);
    if (!ac) return fail_with(ac.error());
    auto handle = std::make_unique<forge_store>();
    handle->cas = std::move(*cas);
    handle->ac = std::move(*ac);
    *out = handle.release();
    return FORGE_OK;
  });
}

forge_status forge_store_close(forge_store** store) {
  if (store == nullptr) return null_argument("forge_store_close", "store");
  if (*store == nullptr) return forge::capi::null_handle();
  auto status = guarded(nullptr, [&] {
    delete *store;
    return FORGE_OK;
  });
  *store = nullptr;
  return status;
}

forge_status forge_store_find_missing(forge_store* store, const forge_digest* digests, size_t count,
                                      unsigned char* missing, size_t* missing_count) {
  if (store == nullptr) return forge::capi::null_handle();
  auto* slot = &store->error;
  if (count > 0 && digests == nullptr) return null_argument("forge_find_missing", "digests", slot);
  if (count > 0 && missing == nullptr) return null_argument("forge_find_missing", "missing", slot);
  if (missing_count == nullptr) return null_argument("forge_find_missing", "missing_count", slot);
  return guarded(slot, [&] {
    std::vector<forge::cache::BlobDigest> parsed;
    parsed.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      auto digest = parse(digests[i]);
      if (!digest) {
        return fail_with(std::move(digest.error()).prefixed("digests[" + std::to_string(i) + "]"),
                         slot);
      }
      parsed.push_back(*digest);
    }
    auto absent = store->cas->find_missing(parsed);
    if (!absent) return fail_with(absent.error(), slot);
    // find_missing keeps the input order, so one forward walk marks every slot.
    std::size_t at = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const bool is_missing = at < absent->size() && (*absent)[at] == parsed[i];
      if (is_missing) ++at;
      missing[i] = is_missing ? 1 : 0;
    }
    *missing_count = absent->size();
    return FORGE_OK;
  });
}

forge_status forge_store_put_buffer(forge_store* store, const void* data, size_t size,
                                    forge_digest* out) {
  if (store == nullptr) return forge::capi::null_handle();
  auto* slot = &store->error;
  if (data == nullptr && size > 0) return null_argument("forge_store_put_buffer", "data", slot);
  if (out == nullptr) return null_argument("forge_store_put_buffer", "out", slot);
  return guarded(slot, [&] {
    auto digest = store->cas->put(std::span(static_cast<const std::byte*>(data), size));
    if (!digest) return fail_with(digest.error(), slot);
    to_c(*digest, *out);
    return FORGE_OK;
  });
}

forge_status forge_store_put_file(forge_store* store, const char* path, forge_digest* out) {
  if (store == nullptr) return forge::capi::null_handle();
  auto* slot = &store->error;
  if (path == nullptr) return null_argument("forge_store_put_file", "path", slot);
  if (out == nullptr) return null_argument("forge_store_put_file", "out", slot);
  return guarded(slot, [&] {
    auto digest = store->cas->put_file(path);
    if (!digest) return fail_with(digest.error(), slot);
    to_c(*digest, *out);
    return FORGE_OK;
  });
}

forge_status forge_store_get_buffer(forge_store* store, const forge_digest* digest, void* buffer,
                                    size_t capacity, size_t* size) {
  if (store == nullptr) return forge::capi::null_handle();
  auto* slot = &store->error;
  if (digest == nullptr) return null_argument("forge_store_get_buffer", "digest", slot);
  if (buffer == nullptr && capacity > 0) {
    return null_argument("forge_store_get_buffer", "buffer", slot);
  }
  if (size == nullptr) return null_argument("forge_store_get_buffer", "size", slot);
  return guarded(slot, [&] {
    auto parsed = parse(*digest);
    if (!parsed) return fail_with(parsed.error(), slot);
    auto reader = open_existing(*store->cas, *parsed);
    if (!reader) return fail_with(reader.error(), slot);
    *size = reader->size();
    if (reader->size() > capacity) {
      return fail_with(FORGE_E_BUFFER_TOO_SMALL,
                       "forge_store_get_buffer: blob " + parsed->to_string() + " needs " +
                           std::to_string(reader->size()) + " bytes, the buffer holds " +
                           std::to_string(capacity),
                       slot);
    }
    auto* bytes = static_cast<std::byte*>(buffer);
    for (std::uint64_t offset = 0; offset < reader->size();) {
      auto n = reader->read(offset, std::span(bytes + offset, reader->size() - offset));
      if (!n) return fail_with(n.error(), slot);
      if (*n == 0) {
        return fail_with(FORGE_E_IO, "blob " + parsed->to_string() + " is shorter than its size",
                         slot);
      }
      offset += *n;
    }
    return FORGE_OK;
  });
}

forge_status forge_store_get_file(forge_store* store, const forge_digest* digest,
                                  const char* path) {
  if (store == nullptr) return forge::capi::null_handle();
  auto* slot = &store->error;
  if (digest == nullptr) return null_argument("forge_store_get_file", "digest", slot);
  if (path == nullptr) return null_argument("forge_store_get_file", "path", slot);
  return guarded(slot, [&] {
    auto parsed = parse(*digest);
    if (!parsed) return fail_with(parsed.error(), slot);
    auto written = get_file(*store->cas, *parsed, path);
    return written ? FORGE_OK : fail_with(written.error(), slot);
  });
}

forge_status forge_ac_put(forge_store* store, const char* key, const void* value, size_t size) {
  if (store == nullptr) return forge::capi::null_handle();
  auto* slot = &store->error;
  if (key == nullptr) return null_argument("forge_ac_put", "key", slot);
  if (value == nullptr && size > 0) return null_argument("forge_ac_put", "value", slot);
  return guarded(slot, [&] {
    const std::string_view bytes(static_cast<const char*>(value), size);
    auto stored = store->ac->put(forge::cache::Keyspace::raw, key, size == 0 ? "" : bytes);
    return stored ? FORGE_OK : fail_with(stored.error(), slot);
  });
}

forge_status forge_ac_get(forge_store* store, const char* key, void** value, size_t* size) {
  if (store == nullptr) return forge::capi::null_handle();
  auto* slot = &store->error;
  if (key == nullptr) return null_argument("forge_ac_get", "key", slot);
  if (value == nullptr) return null_argument("forge_ac_get", "value", slot);
  if (size == nullptr) return null_argument("forge_ac_get", "size", slot);
  *value = nullptr;
  *size = 0;
  return guarded(slot, [&] {
    if (auto valid = forge::cache::validate_key(key); !valid) return fail_with(valid.error(), slot);
    auto found = store->ac->get(forge::cache::Keyspace::raw, key);
    if (!found) return fail_with(found.error(), slot);
    if (!*found) {
      return fail_with(FORGE_E_NOT_FOUND,
                       std::string("forge_ac_get: no value for key '") + key + "'", slot);
    }
    // One extra byte so an empty value still gets a non-NULL buffer.
    void* copy = std::malloc((*found)->size() + 1);
    if (copy == nullptr) return fail_with(FORGE_E_NO_MEMORY, "out of memory", slot);
    std::memcpy(copy, (*found)->data(), (*found)->size());
    *value = copy;
    *size = (*found)->size();
    return FORGE_OK;
  });
}

const char* forge_store_error(const forge_store* store) {
  return store == nullptr ? forge::capi::k_null_handle_message : store->error.message();
}

}  // extern "C"
