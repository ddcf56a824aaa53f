#include "forge/ninja/record_store.h"

#include <fmt/format.h>

#include "forge/core/store/encoding.h"

namespace forge::ninja {
namespace {

constexpr std::size_t k_digest_size = hash::Digest::size_of(hash::Algorithm::xxh3_128);
constexpr std::size_t k_file_state_size = 8 * 5 + k_digest_size;

Error decode_error(std::string_view what) {
  return Error(ErrorCategory::validation,
               fmt::format("undecodable {} in the forge ninja store", what))
      .with_operation("ninja.record_store")
      .with_suggestion("delete the build directory's .forge/ninja; the next build records again");
}

void put_digest(std::string& out, const hash::Digest& digest) {
  const auto bytes = digest.bytes();
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

hash::Digest get_digest(std::string_view bytes, std::size_t& offset) {
  const auto* raw = reinterpret_cast<const std::uint8_t*>(bytes.data() + offset);
  offset += k_digest_size;
  return hash::Digest(hash::Algorithm::xxh3_128, std::span(raw, k_digest_size));
}

void put_paths(std::string& out, const PathDigests& paths) {
  store::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(paths.size()));
  for (const auto& [path, digest] : paths) {
    store::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(path.size()));
    out += path;
    put_digest(out, digest);
  }
}

bool get_paths(std::string_view bytes, std::size_t& offset, PathDigests& paths) {
  if (bytes.size() - offset < 4) return false;
  const auto count = store::get_le<std::uint32_t>(bytes, offset);
  for (std::uint32_t i = 0; i < count; ++i) {
    if (bytes.size() - offset < 4) return false;
    const auto length = store::get_le<std::uint32_t>(bytes, offset);
    if (bytes.size() - offset < length + k_digest_size) return false;
    std::string path(bytes.substr(offset, length));
    offset += length;
    paths.emplace_back(std::move(path), get_digest(bytes, offset));
  }
  return true;
}

}  // namespace

std::string encode_file_state(const FileState& state) {
  std::string out;
  store::put_le(out, state.size);
  store::put_le(out, state.mtime_ns);
  store::put_le(out, state.ctime_ns);
  store::put_le(out, state.ino);
  store::put_le(out, state.hashed_at_ns);
  put_digest(out, state.xxh3);
  return out;
}

Result<FileState> decode_file_state(std::string_view bytes) {
  if (bytes.size() != k_file_state_size) return fail(decode_error("file state"));
  FileState state;
  std::size_t offset = 0;
  state.size = store::get_le<std::uint64_t>(bytes, offset);
  state.mtime_ns = store::get_le<std::int64_t>(bytes, offset);
  state.ctime_ns = store::get_le<std::int64_t>(bytes, offset);
  state.ino = store::get_le<std::uint64_t>(bytes, offset);
  state.hashed_at_ns = store::get_le<std::int64_t>(bytes, offset);
  state.xxh3 = get_digest(bytes, offset);
  return state;
}

std::string encode_edge_record(const EdgeRecord& record) {
  std::string out;
  store::put_le(out, record.command_hash);
  put_paths(out, record.inputs);
  put_paths(out, record.outputs);
  return out;
}

Result<EdgeRecord> decode_edge_record(std::string_view bytes) {
  EdgeRecord record;
  std::size_t offset = 0;
  if (bytes.size() < 8) return fail(decode_error("edge record"));
  record.command_hash = store::get_le<std::uint64_t>(bytes, offset);
  if (!get_paths(bytes, offset, record.inputs) || !get_paths(bytes, offset, record.outputs) ||
      offset != bytes.size()) {
    return fail(decode_error("edge record"));
  }
  return record;
}

Result<RecordStore> RecordStore::open(const std::filesystem::path& build_dir) {
  store::EnvOptions options;
  options.dir = build_dir / ".forge" / "ninja";
  // A build's records are a few MB; 1 GiB of address space never needs a remap. Records are
  // a cache (a lost write costs a rebuild, never a wrong answer), so no fsync per commit.
  options.initial_map_size = 1ull << 30;
  options.sync = false;
  FORGE_TRY(store::Environment env, store::Environment::open(options));
  FORGE_TRY(const store::Database meta, env.open_database("meta"));
  FORGE_TRY(const store::Database files, env.open_database("files"));
  FORGE_TRY(const store::Database edges, env.open_database("edges"));
  std::string version;
  store::put_le<std::uint32_t>(version, k_record_format_version);
  FORGE_TRY_VOID(env.write([&](store::WriteTxn& txn) -> Result<void> {
    FORGE_TRY(const auto stored, txn.get(meta, "version"));
    if (stored && *stored == version) return ok();
    FORGE_TRY_VOID(txn.clear(files));
    FORGE_TRY_VOID(txn.clear(edges));
    return txn.put(meta, "version", version);
  }));
  return RecordStore(std::move(env), files, edges);
}

Result<std::unordered_map<std::string, FileState>> RecordStore::load_files() const {
  std::unordered_map<std::string, FileState> out;
  FORGE_TRY(const store::ReadTxn txn, m_env.begin_read());
  FORGE_TRY(store::Cursor cursor, txn.cursor(m_files));
  FORGE_TRY(auto entry, cursor.first());
  while (entry) {
    if (auto state = decode_file_state(entry->second)) out.emplace(entry->first, *state);
    FORGE_TRY(entry, cursor.next());
  }
  return out;
}

Result<std::optional<EdgeRecord>> RecordStore::edge(const std::string& first_output) const {
  FORGE_TRY(const store::ReadTxn txn, m_env.begin_read());
  FORGE_TRY(const auto bytes, txn.get(m_edges, first_output));
  if (!bytes) return std::optional<EdgeRecord>();
  auto record = decode_edge_record(*bytes);
  if (!record) return std::optional<EdgeRecord>();  // undecodable: no record, never "clean"
  return std::optional<EdgeRecord>(std::move(*record));
}

Result<bool> RecordStore::has_records() const {
  FORGE_TRY(const store::ReadTxn txn, m_env.begin_read());
  FORGE_TRY(const std::size_t count, txn.count(m_edges));
  return count > 0;
}

Result<void> RecordStore::write(const std::vector<std::pair<std::string, FileState>>& files,
                                const std::vector<std::pair<std::string, EdgeRecord>>& edges) {
  std::vector<std::pair<const std::string*, std::string>> encoded_files;
  std::vector<std::pair<const std::string*, std::string>> encoded_edges;
  for (const auto& [path, state] : files)
    encoded_files.emplace_back(&path, encode_file_state(state));
  for (const auto& [output, record] : edges) {
    encoded_edges.emplace_back(&output, encode_edge_record(record));
  }
  return m_env.write([&](store::WriteTxn& txn) -> Result<void> {
    for (const auto& [path, bytes] : encoded_files) FORGE_TRY_VOID(txn.put(m_files, *path, bytes));
    for (const auto& [output, bytes] : encoded_edges)
      FORGE_TRY_VOID(txn.put(m_edges, *output, bytes));
    return ok();
  });
}

}  // namespace forge::ninja
