// forge_io: the selected I/O backend and batch hashing through it (see forge.h).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "c_status.h"
#include "forge/core/io/backend_selector.h"
#include "forge/core/io/platform_io.h"

struct forge_io {
  std::unique_ptr<forge::io::PlatformIO> io;
  forge::capi::ErrorSlot error;
};

namespace {

using forge::capi::fail_with;
using forge::capi::guarded;
using forge::capi::null_argument;

constexpr unsigned k_known_algorithms = FORGE_HASH_SHA256 | FORGE_HASH_XXH3;

void clear_result(forge_file_hash& result) {
  result.status = FORGE_OK;
  result.size = 0;
  result.sha256[0] = '\0';
  result.xxh3[0] = '\0';
}

}  // namespace

extern "C" {

forge_status forge_io_open(const char* backend, forge_io** out) {
  if (out == nullptr) return null_argument("forge_io_open", "out");
  *out = nullptr;
  return guarded(nullptr, [&] {
    forge::support::IoConfig config;
    if (backend != nullptr) {
      auto choice = forge::io::parse_backend_choice(backend);
      if (!choice) return fail_with(choice.error());
      config.backend = backend;
    }
    auto io = forge::io::create_platform_io(config);
    if (!io) return fail_with(io.error());
    auto handle = std::make_unique<forge_io>();
    handle->io = std::move(*io);
    *out = handle.release();
    return FORGE_OK;
  });
}

forge_status forge_io_close(forge_io** io) {
  if (io == nullptr) return null_argument("forge_io_close", "io");
  if (*io == nullptr) return forge::capi::null_handle();
  delete *io;
  *io = nullptr;
  return FORGE_OK;
}

forge_status forge_io_backend(const forge_io* io, const char** name) {
  if (io == nullptr) return forge::capi::null_handle();
  if (name == nullptr) return null_argument("forge_io_backend", "name");
  // backend_name() views a string literal of the backend: NUL-terminated, never freed.
  *name = io->io->backend_name().data();
  return FORGE_OK;
}

forge_status forge_hash_files(forge_io* io, const char* const* paths, size_t count,
                              unsigned algorithms, forge_file_hash* results) {
  if (io == nullptr) return forge::capi::null_handle();
  auto* slot = &io->error;
  if (count > 0 && paths == nullptr) return null_argument("forge_hash_files", "paths", slot);
  if (count > 0 && results == nullptr) return null_argument("forge_hash_files", "results", slot);
  if (algorithms == 0 || (algorithms & ~k_known_algorithms) != 0) {
    return fail_with(FORGE_E_INVALID_ARGUMENT,
                     "forge_hash_files: algorithms must be FORGE_HASH_SHA256, FORGE_HASH_XXH3 "
                     "or both, got " +
                         std::to_string(algorithms),
                     slot);
  }
  return guarded(slot, [&] {
    std::vector<std::filesystem::path> batch;
    batch.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      if (paths[i] == nullptr) {
        return fail_with(FORGE_E_INVALID_ARGUMENT,
                         "forge_hash_files: paths[" + std::to_string(i) + "] is NULL", slot);
      }
      batch.emplace_back(paths[i]);
    }
    const forge::hash::AlgorithmSet set{(algorithms & FORGE_HASH_SHA256) != 0,
                                        (algorithms & FORGE_HASH_XXH3) != 0};
    auto hashed = io->io->batch_hash(batch, set);
    forge_status first = FORGE_OK;
    for (std::size_t i = 0; i < count; ++i) {
      forge_file_hash& result = results[i];
      clear_result(result);
      if (!hashed[i]) {
        result.status = forge::capi::status_of(hashed[i].error());
        if (first == FORGE_OK) first = fail_with(hashed[i].error(), slot);
        continue;
      }
      result.size = hashed[i]->size;
      if (hashed[i]->digests.sha256) {
        forge::capi::copy_hex(*hashed[i]->digests.sha256, result.sha256, sizeof result.sha256);
      }
      if (hashed[i]->digests.xxh3) {
        forge::capi::copy_hex(*hashed[i]->digests.xxh3, result.xxh3, sizeof result.xxh3);
      }
    }
    return first;
  });
}

const char* forge_io_error(const forge_io* io) {
  return io == nullptr ? forge::capi::k_null_handle_message : io->error.message();
}

}  // extern "C"
