#include "forge/cmake/model_cache.h"

#include <sys/stat.h>

#include <algorithm>

#include "forge/cmake/file_api.h"
#include "forge/cmake/model_codec.h"
#include "forge/cmake/query_index.h"
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

// LMDB's default maximum key size is 511 bytes.
constexpr std::size_t k_max_file_key = 511;

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
  options.max_databases = 4;
  options.sync = false;
  FORGE_TRY(store::Environment env, store::Environment::open(options));
  FORGE_TRY(const store::Database models, env.open_database("models"));
  FORGE_TRY(const store::Database indexes, env.open_database("indexes"));
  FORGE_TRY(const store::Database files, env.open_database("files"));
  return ModelCache(std::move(env), models, indexes, files);
}

// The identity-checked payload of a "models" or "indexes" value, or nullopt.
std::optional<std::string_view> ModelCache::payload(std::optional<std::string_view> value,
                                                    const BuildIdentity& identity) {
  if (!value || value->size() < 8) return std::nullopt;
  std::size_t offset = 0;
  const auto version = store::get_le<std::uint32_t>(*value, offset);
  const auto length = store::get_le<std::uint32_t>(*value, offset);
  if (version != k_model_cache_version || value->size() - offset < length ||
      value->substr(offset, length) != identity) {
    return std::nullopt;
  }
  return value->substr(offset + length);
}

Result<std::optional<Model>> ModelCache::lookup(const LoadOptions& options,
                                                const BuildIdentity& identity) const {
  FORGE_TRY(const store::ReadTxn txn, m_env.begin_read());
  FORGE_TRY(const auto value, txn.get(m_models, cache_key(options)));
  const auto bytes = payload(value, identity);
  if (!bytes) return std::optional<Model>{};
  auto model = decode_model(*bytes);
  if (!model) return std::optional<Model>{};  // overwritten by the caller's next store
  model->from_cache = true;
  return std::optional<Model>(std::move(*model));
}

Result<std::optional<CachedIndex>> ModelCache::open_index(const LoadOptions& options,
                                                          const BuildIdentity& identity) const {
  FORGE_TRY(store::ReadTxn txn, m_env.begin_read());
  const std::string key = cache_key(options);
  FORGE_TRY(const auto value, txn.get(m_indexes, key));
  const auto bytes = payload(value, identity);
  if (!bytes) return std::optional<CachedIndex>{};
  auto index = decode_query_index(*bytes);
  if (!index) return std::optional<CachedIndex>{};
  index->slim.from_cache = true;
  return std::optional<CachedIndex>(
      CachedIndex(std::move(txn), m_files, key + '\0', std::move(*index)));
}

Result<FileUse> CachedIndex::file_use(const std::string& path) const {
  FORGE_TRY(const auto bytes, m_txn.get(m_files, m_prefix + path));
  if (!bytes) return FileUse{};
  return decode_file_use(*bytes, m_index.slim.targets.size());
}

Result<void> ModelCache::store(const LoadOptions& options, const BuildIdentity& identity,
                               const Model& model) {
  auto framed = [&](const std::string& bytes) {
    std::string value;
    store::put_le<std::uint32_t>(value, k_model_cache_version);
    store::put_le<std::uint32_t>(value, static_cast<std::uint32_t>(identity.size()));
    value += identity;
    value += bytes;
    return value;
  };
  const std::string key = cache_key(options);
  const std::string model_value = framed(encode_model(model));
  const BuiltIndex built = build_query_index(model);
  const std::string index_value = framed(encode_query_index(built.index));
  const std::string prefix = key + '\0';
  return m_env.write([&](store::WriteTxn& txn) -> Result<void> {
    // The files of this key's previous index go first: an entry must never outlive the
    // index it belongs to (the summary and its files are replaced in one transaction).
    std::vector<std::string> stale;
    {
      FORGE_TRY(store::Cursor cursor, txn.cursor(m_files));
      FORGE_TRY(auto entry, cursor.seek(prefix));
      while (entry && entry->first.starts_with(prefix)) {
        stale.emplace_back(entry->first);
        FORGE_TRY(entry, cursor.next());
      }
    }
    for (const auto& old : stale) FORGE_TRY_VOID(txn.erase(m_files, old));
    // A path too long for an LMDB key would be looked up as "no target uses it": without
    // an index the query decodes the whole model instead.
    const bool indexable = std::all_of(built.files.begin(), built.files.end(), [&](const auto& f) {
      return prefix.size() + f.first.size() <= k_max_file_key;
    });
    if (indexable) {
      for (const auto& [path, use] : built.files) {
        FORGE_TRY_VOID(txn.put(m_files, prefix + path, encode_file_use(use)));
      }
      FORGE_TRY_VOID(txn.put(m_indexes, key, index_value));
    } else {
      FORGE_TRY_VOID(txn.erase(m_indexes, key));
    }
    return txn.put(m_models, key, model_value);
  });
}

}  // namespace forge::cmake
