#include "forge/cmake/model_cache.h"

#include <sys/stat.h>

#include "forge/cmake/file_api.h"
#include "forge/cmake/model_codec.h"
#include "forge/core/store/encoding.h"

namespace forge::cmake {
namespace fs = std::filesystem;
namespace {

// One file's part of the identity: its name, then "absent" or its stat fields.
void put_file_state(std::string& out, const fs::path& file) {
  out += file.filename().string();
  out.push_back('\0');
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    out.push_back('-');
    return;
  }
  out.push_back('+');
  store::put_le<std::uint64_t>(out, static_cast<std::uint64_t>(st.st_size));
  store::put_le<std::int64_t>(out, st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec);
  store::put_le<std::int64_t>(out, st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec);
  store::put_le<std::uint64_t>(out, static_cast<std::uint64_t>(st.st_ino));
}

std::string cache_key(const LoadOptions& options) {
  std::string key = options.config;
  key.push_back('\0');
  key.push_back(options.header_deps ? 'h' : '-');
  key.push_back(options.tests ? 't' : '-');
  return key;
}

}  // namespace

BuildIdentity build_identity(const fs::path& build_dir, const std::string& config) {
  BuildIdentity identity;
  if (const auto index = newest_reply_index(build_dir)) {
    put_file_state(identity, *index);
  } else {
    identity += "no reply";
  }
  put_file_state(identity, build_dir / "build.ninja");
  if (!config.empty()) put_file_state(identity, build_dir / ("build-" + config + ".ninja"));
  put_file_state(identity, build_dir / "CMakeCache.txt");
  put_file_state(identity, build_dir / ".ninja_deps");
  put_file_state(identity, build_dir / ".ninja_log");
  return identity;
}

Result<ModelCache> ModelCache::open(const fs::path& build_dir) {
  store::EnvOptions options;
  options.dir = build_dir / ".forge" / "cmake";
  // One model per (config, options): a few MB even for 20,000 sources, so 256 MiB of address
  // space never needs a remap. A cache: a write lost in a crash costs one slow load, never a
  // wrong answer, so no fsync per commit.
  options.initial_map_size = 256ull << 20;
  options.max_databases = 2;
  options.sync = false;
  FORGE_TRY(store::Environment env, store::Environment::open(options));
  FORGE_TRY(const store::Database models, env.open_database("models"));
  return ModelCache(std::move(env), models);
}

Result<std::optional<Model>> ModelCache::lookup(const LoadOptions& options,
                                                const BuildIdentity& identity) const {
  FORGE_TRY(const store::ReadTxn txn, m_env.begin_read());
  FORGE_TRY(const auto value, txn.get(m_models, cache_key(options)));
  if (!value || value->size() < 8) return std::optional<Model>{};
  std::size_t offset = 0;
  const auto version = store::get_le<std::uint32_t>(*value, offset);
  const auto length = store::get_le<std::uint32_t>(*value, offset);
  if (version != k_model_format_version || value->size() - offset < length ||
      value->substr(offset, length) != identity) {
    return std::optional<Model>{};
  }
  auto model = decode_model(value->substr(offset + length));
  if (!model) return std::optional<Model>{};  // overwritten by the caller's next store
  model->from_cache = true;
  return std::optional<Model>(std::move(*model));
}

Result<void> ModelCache::store(const LoadOptions& options, const BuildIdentity& identity,
                               const Model& model) {
  std::string value;
  store::put_le<std::uint32_t>(value, k_model_format_version);
  store::put_le<std::uint32_t>(value, static_cast<std::uint32_t>(identity.size()));
  value += identity;
  value += encode_model(model);
  const std::string key = cache_key(options);
  return m_env.write([&](store::WriteTxn& txn) { return txn.put(m_models, key, value); });
}

}  // namespace forge::cmake
