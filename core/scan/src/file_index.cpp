#include "forge/core/scan/file_index.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <random>

#include <fmt/format.h>

#include "forge/core/store/encoding.h"
#include "forge/core/support/log.h"
#include "forge/core/support/paths.h"
#include "journal.h"

namespace forge::scan {
using store::get_le;
using store::put_le;

namespace {

bool is_long_key(std::string_view key) {
  return !key.empty() && key.front() == '\0';
}

// A long-path value: u32 LE path length + path + record. nullopt when malformed.
std::optional<store::KeyValue> split_long_value(std::string_view value) {
  if (value.size() < 4) return std::nullopt;
  std::size_t offset = 0;
  const auto length = get_le<std::uint32_t>(value, offset);
  if (value.size() - 4 < length) return std::nullopt;
  return store::KeyValue{value.substr(4, length), value.substr(4 + length)};
}

}  // namespace

Result<void> visit_entries(store::Cursor& cursor, Result<std::optional<store::KeyValue>> start,
                           const std::function<bool(const store::KeyValue&)>& fn) {
  for (auto entry = std::move(start);; entry = cursor.next()) {
    if (!entry) {
      return fail(std::move(entry).error().with_suggestion(
          "the scan index could not be read; delete its directory to rebuild it (it is a "
          "cache)"));
    }
    if (!*entry || !fn(**entry)) return ok();
  }
}

std::string record_key(std::string_view path) {
  if (path.size() <= k_max_inline_path) return std::string(path);
  const auto digest = hash::sha256_of(path);
  std::string key(1, '\0');
  key.append(reinterpret_cast<const char*>(digest.bytes().data()), digest.bytes().size());
  return key;
}

Result<std::optional<std::string_view>> FileIndex::record(const store::ReadTxn& txn,
                                                          std::string_view path) const {
  const std::string key = record_key(path);
  FORGE_TRY(auto value, txn.get(m_files, key));
  if (!value || !is_long_key(key)) return value;
  const auto split = split_long_value(*value);
  if (!split || split->first != path) return std::optional<std::string_view>();
  return std::optional<std::string_view>(split->second);
}

Result<std::vector<store::KeyValue>> FileIndex::records(const store::ReadTxn& txn) const {
  std::vector<store::KeyValue> inline_records;
  std::vector<store::KeyValue> long_records;
  FORGE_TRY(store::Cursor cursor, txn.cursor(m_files));
  FORGE_TRY_VOID(visit_entries(cursor, cursor.first(), [&](const store::KeyValue& entry) {
    if (!is_long_key(entry.first)) {
      inline_records.push_back(entry);
    } else if (auto split = split_long_value(entry.second)) {
      long_records.push_back(*split);
    }
    return true;
  }));
  if (long_records.empty()) return inline_records;
  std::sort(long_records.begin(), long_records.end());
  std::vector<store::KeyValue> merged;
  merged.reserve(inline_records.size() + long_records.size());
  std::merge(inline_records.begin(), inline_records.end(), long_records.begin(), long_records.end(),
             std::back_inserter(merged));
  return merged;
}

Result<std::vector<store::KeyValue>> FileIndex::records_under(const store::ReadTxn& txn,
                                                              std::string_view prefix) const {
  std::vector<store::KeyValue> found;
  FORGE_TRY(store::Cursor cursor, txn.cursor(m_files));
  // Long paths first (their keys sort first), then the inline range of the prefix.
  FORGE_TRY_VOID(visit_entries(cursor, cursor.first(), [&](const store::KeyValue& entry) {
    if (!is_long_key(entry.first)) return false;
    if (auto split = split_long_value(entry.second); split && split->first.starts_with(prefix)) {
      found.push_back(*split);
    }
    return true;
  }));
  const bool sort = !found.empty();
  if (prefix.size() <= k_max_inline_path) {
    FORGE_TRY_VOID(visit_entries(cursor, cursor.seek(prefix), [&](const store::KeyValue& entry) {
      if (!entry.first.starts_with(prefix)) return false;
      found.push_back(entry);
      return true;
    }));
  }
  if (sort) std::sort(found.begin(), found.end());
  return found;
}

Result<void> FileIndex::put_record(store::WriteTxn& txn, std::string_view path,
                                   std::string_view encoded) const {
  const std::string key = record_key(path);
  if (!is_long_key(key)) return txn.put(m_files, key, encoded);
  std::string value;
  value.reserve(4 + path.size() + encoded.size());
  put_le(value, static_cast<std::uint32_t>(path.size()));
  value += path;
  value += encoded;
  return txn.put(m_files, key, value);
}

Result<bool> FileIndex::erase_record(store::WriteTxn& txn, std::string_view path) const {
  return txn.erase(m_files, record_key(path));
}

std::string FileRecord::encode() const {
  std::string out;
  out.reserve(k_record_fixed_size + symlink_target.size());
  out.push_back(static_cast<char>(k_record_version));
  out.push_back(static_cast<char>(type));
  const std::uint8_t flags = (sha256 ? 1 : 0) | (type_changed ? 2 : 0) | (xxh3 ? 4 : 0);
  out.push_back(static_cast<char>(flags));
  out.push_back(0);
  put_le(out, mode);
  put_le(out, dev);
  put_le(out, ino);
  put_le(out, size);
  put_le(out, mtime_ns);
  put_le(out, ctime_ns);
  put_le(out, created_cursor);
  put_le(out, changed_cursor);
  char zeros[32] = {};
  if (xxh3) {
    out.append(reinterpret_cast<const char*>(xxh3->bytes().data()), 16);
  } else {
    out.append(zeros, 16);
  }
  if (sha256) {
    out.append(reinterpret_cast<const char*>(sha256->bytes().data()), 32);
  } else {
    out.append(zeros, 32);
  }
  put_le(out, static_cast<std::uint32_t>(symlink_target.size()));
  out += symlink_target;
  return out;
}

std::optional<FileRecord> FileRecord::decode(std::string_view bytes) {
  // The header, stat fields and total length are read (and checked) in one place.
  const auto stat = peek_record_stat(bytes);
  if (!stat) return std::nullopt;
  FileRecord record;
  static_cast<StoredStat&>(record) = *stat;
  const auto flags = static_cast<std::uint8_t>(bytes[2]);
  record.type_changed = (flags & 2) != 0;
  std::size_t offset = 4 + 4 + 8 * 5;  // version, type, flags, pad, mode, stat fields
  record.created_cursor = get_le<std::uint64_t>(bytes, offset);
  record.changed_cursor = get_le<std::uint64_t>(bytes, offset);
  const auto* raw = reinterpret_cast<const std::uint8_t*>(bytes.data());
  if (stat->has_xxh3) record.xxh3 = hash::Digest(hash::Algorithm::xxh3_128, {raw + offset, 16});
  offset += 16;
  if (stat->has_sha256) record.sha256 = hash::Digest(hash::Algorithm::sha256, {raw + offset, 32});
  offset += 32;
  const auto target_size = get_le<std::uint32_t>(bytes, offset);
  record.symlink_target = std::string(bytes.substr(offset, target_size));
  return record;
}

std::optional<RecordStat> peek_record_stat(std::string_view bytes) {
  if (bytes.size() < k_record_fixed_size) return std::nullopt;
  if (static_cast<std::uint8_t>(bytes[0]) != k_record_version) return std::nullopt;
  std::size_t offset = k_record_fixed_size - 4;
  if (bytes.size() != k_record_fixed_size + get_le<std::uint32_t>(bytes, offset)) {
    return std::nullopt;
  }
  RecordStat stat;
  stat.type = static_cast<EntryType>(bytes[1]);
  const auto flags = static_cast<std::uint8_t>(bytes[2]);
  stat.has_sha256 = (flags & 1) != 0;
  stat.has_xxh3 = (flags & 4) != 0;
  offset = 4;
  stat.mode = get_le<std::uint32_t>(bytes, offset);
  stat.dev = get_le<std::uint64_t>(bytes, offset);
  stat.ino = get_le<std::uint64_t>(bytes, offset);
  stat.size = get_le<std::uint64_t>(bytes, offset);
  stat.mtime_ns = get_le<std::int64_t>(bytes, offset);
  stat.ctime_ns = get_le<std::int64_t>(bytes, offset);
  return stat;
}

io::FileStat stat_of(const StoredStat& record) {
  return io::FileStat{record.size,     record.ino,      record.dev,
                      record.mtime_ns, record.ctime_ns, record.mode};
}

bool same_stat(const io::FileStat& a, const io::FileStat& b) {
  return a.mode == b.mode && a.size == b.size && a.mtime_ns == b.mtime_ns &&
         a.ctime_ns == b.ctime_ns && a.ino == b.ino && a.dev == b.dev;
}

Result<FileIndex> FileIndex::open(const std::filesystem::path& dir) {
  store::EnvOptions options;
  options.dir = dir;
  // The index is a cache of the tree: after a crash the next scan rebuilds what was lost,
  // so skipping fsync on every scan is the right trade.
  options.sync = false;
  FORGE_TRY(store::Environment env, store::Environment::open(options));
  FileIndex index(std::move(env));
  FORGE_TRY(index.m_files, index.m_env.open_database("files"));
  FORGE_TRY(index.m_tombstones, index.m_env.open_database("tombstones"));
  FORGE_TRY(index.m_meta, index.m_env.open_database("meta"));
  FORGE_TRY(index.m_journal, index.m_env.open_database("journal"));
  FORGE_TRY(IndexMeta meta, index.meta());
  FORGE_TRY(auto format, index.meta_value("format"));
  std::string expected;
  put_le(expected, k_index_format);
  std::string migratable;
  put_le(migratable, k_migrated_format);
  if (!meta.instance.empty() && format == migratable) {
    // Format 3 differs only by lacking stat-only journal entries: keep the records (no
    // re-hash), but answer no cursor older than now from a journal without them.
    FORGE_TRY_VOID(index.m_env.write([&](store::WriteTxn& txn) -> Result<void> {
      IndexMeta migrated = meta;
      migrated.journal_floor = std::max(meta.journal_floor, meta.cursor);
      FORGE_TRY_VOID(journal::trim(txn, index.m_journal, migrated.journal_floor));
      FORGE_TRY_VOID(put_meta(txn, index.m_meta, migrated));
      return txn.put(index.m_meta, "format", expected);
    }));
    support::log(spdlog::level::info, "scan index migrated to a new format",
                 {{"index", dir.string()},
                  {"from", k_migrated_format},
                  {"to", k_index_format},
                  {"note",
                   "records kept; cursors older than the index's current one now "
                   "answer a fresh instance"}});
    return index;
  }
  if (meta.instance.empty() || format != expected) {
    if (format) {
      support::log(spdlog::level::info, "scan index of another format rebuilt",
                   {{"index", dir.string()},
                    {"to", k_index_format},
                    {"note",
                     "every file is hashed again by the next scan; older cursors "
                     "answer a fresh instance"}});
    }
    // New, or written by another format: the index is a cache, so start it afresh under a
    // new instance (old cursors then answer a fresh instance, never a misread).
    FORGE_TRY_VOID(index.m_env.write([&](store::WriteTxn& txn) -> Result<void> {
      FORGE_TRY_VOID(txn.clear(index.m_meta));
      FORGE_TRY_VOID(txn.put(index.m_meta, "format", expected));
      return ok();
    }));
    FORGE_TRY_VOID(index.start_afresh());
  }
  return index;
}

Result<void> FileIndex::start_afresh() {
  std::random_device random;
  IndexMeta fresh;
  fresh.instance = fmt::format("{:08x}{:08x}", random(), random());
  return m_env.write([&](store::WriteTxn& txn) -> Result<void> {
    for (const store::Database db : {m_files, m_tombstones, m_journal}) {
      FORGE_TRY_VOID(txn.clear(db));
    }
    for (const std::string_view key : {k_incomplete_key, k_listing_key}) {
      FORGE_TRY(bool erased, txn.erase(m_meta, key));
      (void)erased;
    }
    return put_meta(txn, m_meta, fresh);
  });
}

Result<IndexMeta> FileIndex::meta() const {
  FORGE_TRY(store::ReadTxn txn, m_env.begin_read());
  return read_meta(txn, m_meta);
}

Result<IndexMeta> FileIndex::read_meta(const store::ReadTxn& txn, store::Database meta_db) {
  IndexMeta meta;
  FORGE_TRY(auto instance, txn.get(meta_db, "instance"));
  if (instance) meta.instance = std::string(*instance);
  FORGE_TRY(auto cursor, txn.get(meta_db, "cursor"));
  if (cursor && cursor->size() == 8) {
    std::size_t offset = 0;
    meta.cursor = get_le<std::uint64_t>(*cursor, offset);
  }
  FORGE_TRY(auto start, txn.get(meta_db, "scan_start_ns"));
  if (start && start->size() == 8) {
    std::size_t offset = 0;
    meta.scan_start_ns = get_le<std::int64_t>(*start, offset);
  }
  FORGE_TRY(auto floor, txn.get(meta_db, "journal_floor"));
  if (floor && floor->size() == 8) {
    std::size_t offset = 0;
    meta.journal_floor = get_le<std::uint64_t>(*floor, offset);
  }
  FORGE_TRY(auto incomplete, txn.get(meta_db, k_incomplete_key));
  meta.incomplete = incomplete.has_value();
  return meta;
}

Result<std::optional<std::string>> FileIndex::meta_value(std::string_view key) const {
  FORGE_TRY(store::ReadTxn txn, m_env.begin_read());
  FORGE_TRY(auto value, txn.get(m_meta, key));
  if (!value) return std::optional<std::string>();
  return std::optional<std::string>(std::string(*value));
}

Result<void> FileIndex::set_meta_value(std::string_view key,
                                       std::optional<std::string_view> value) {
  return m_env.write([&](store::WriteTxn& txn) -> Result<void> {
    if (value) return txn.put(m_meta, key, *value);
    FORGE_TRY(bool erased, txn.erase(m_meta, key));
    (void)erased;
    return ok();
  });
}

Result<void> FileIndex::put_meta(store::WriteTxn& txn, store::Database meta_db,
                                 const IndexMeta& meta) {
  FORGE_TRY_VOID(txn.put(meta_db, "instance", meta.instance));
  std::string cursor;
  put_le(cursor, meta.cursor);
  FORGE_TRY_VOID(txn.put(meta_db, "cursor", cursor));
  std::string start;
  put_le(start, meta.scan_start_ns);
  FORGE_TRY_VOID(txn.put(meta_db, "scan_start_ns", start));
  std::string floor;
  put_le(floor, meta.journal_floor);
  return txn.put(meta_db, "journal_floor", floor);
}

std::filesystem::path default_index_dir(const std::filesystem::path& canonical_root) {
  return forge_cache_home() / "index" / hash::xxh3_of(canonical_root.string()).hex();
}

}  // namespace forge::scan
