#include "journal.h"

#include "forge/core/store/encoding.h"

namespace forge::scan::journal {
namespace {

std::string entry_key(std::uint64_t cursor, std::string_view path) {
  std::string key;
  store::put_be64(key, cursor);
  key += record_key(path);
  return key;
}

}  // namespace

Result<void> append(store::WriteTxn& txn, store::Database journal, std::uint64_t cursor,
                    const std::vector<Change>& changes) {
  for (const Change& change : changes) {
    std::string value(1, static_cast<char>(change.kind));
    if (change.path.size() > k_max_inline_path) value += change.path;
    FORGE_TRY_VOID(txn.put(journal, entry_key(cursor, change.path), value));
  }
  return ok();
}

Result<void> trim(store::WriteTxn& txn, store::Database journal, std::uint64_t floor) {
  std::vector<std::string> old_keys;
  {
    FORGE_TRY(store::Cursor entries, txn.cursor(journal));
    FORGE_TRY_VOID(visit_entries(entries, entries.first(), [&](const store::KeyValue& entry) {
      if (entry.first.size() < 8 || store::get_be64(entry.first) >= floor) return false;
      old_keys.emplace_back(entry.first);
      return true;
    }));
  }
  for (const auto& key : old_keys) {
    FORGE_TRY(bool gone, txn.erase(journal, key));
    (void)gone;
  }
  return ok();
}

Result<std::map<std::string, std::vector<ChangeKind>>> read_after(const store::ReadTxn& txn,
                                                                  store::Database journal,
                                                                  std::uint64_t since) {
  std::map<std::string, std::vector<ChangeKind>> touched;
  FORGE_TRY(store::Cursor entries, txn.cursor(journal));
  std::string start;
  store::put_be64(start, since + 1);
  FORGE_TRY_VOID(visit_entries(entries, entries.seek(start), [&](const store::KeyValue& entry) {
    if (entry.first.size() <= 8 || entry.second.empty()) return true;  // not ours: skip
    const std::string_view key_path = entry.first.substr(8);
    const bool digest_key = key_path.front() == '\0';
    const std::string_view path = digest_key ? entry.second.substr(1) : key_path;
    touched[std::string(path)].push_back(static_cast<ChangeKind>(entry.second.front()));
    return true;
  }));
  return touched;
}

}  // namespace forge::scan::journal
