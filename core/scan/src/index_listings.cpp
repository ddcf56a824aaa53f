#include "index_listings.h"

#include <sys/stat.h>

#include <algorithm>

namespace forge::scan {

EntryType type_from_mode(std::uint32_t mode) {
  if (S_ISREG(mode)) return EntryType::file;
  if (S_ISDIR(mode)) return EntryType::directory;
  if (S_ISLNK(mode)) return EntryType::symlink;
  return EntryType::other;
}

bool settles(const RecordStat& record, const io::FileStat& stat, std::int64_t racy_limit,
             bool sha256) {
  const EntryType type = type_from_mode(stat.mode);
  if (record.type != type || (type != EntryType::file && type != EntryType::directory)) {
    return false;
  }
  if (!same_stat(stat_of(record), stat)) return false;
  if (type == EntryType::directory) return true;
  const bool racy = record.mtime_ns >= racy_limit || record.ctime_ns >= racy_limit;
  return record.has_xxh3 && !racy && (!sha256 || record.has_sha256);
}

bool IndexListings::settle(std::size_t id, const io::FileStat& stat) {
  const auto record = peek_record_stat(m_records[id].second);
  if (!record || !settles(*record, stat, m_racy_limit, m_sha256)) return false;
  m_settled[id] = 1;  // one byte per record: threads settling different ids never share one
  return true;
}

bool IndexListings::children(std::string_view dir, const io::FileStat& stat,
                             std::vector<Child>& out) const {
  const auto record = clean(dir, stat);
  if (!record || record->type != EntryType::directory) return false;
  std::string prefix(dir);
  prefix.push_back('/');
  const std::size_t first = out.size();
  auto it = lower_bound(prefix);
  while (it != m_records.end() && it->first.starts_with(prefix)) {
    const std::string_view rest = it->first.substr(prefix.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
      const auto child = peek_record_stat(it->second);
      if (!child) {
        out.resize(first);
        return false;  // a record of another version: read the directory instead
      }
      out.push_back(Child{rest, child->type, static_cast<std::size_t>(it - m_records.begin())});
      ++it;
    } else {
      // Skip the grandchildren: '0' is the byte after '/'.
      std::string next = prefix;
      next.append(rest.substr(0, slash));
      next.push_back('0');
      it = lower_bound(next);
    }
  }
  return true;
}

bool IndexListings::known(std::string_view path) const {
  const auto it = lower_bound(path);
  return it != m_records.end() && it->first == path;
}

std::vector<store::KeyValue>::const_iterator IndexListings::lower_bound(
    std::string_view key) const {
  return std::lower_bound(
      m_records.begin(), m_records.end(), key,
      [](const store::KeyValue& record, std::string_view k) { return record.first < k; });
}

std::optional<RecordStat> IndexListings::clean(std::string_view path,
                                               const io::FileStat& stat) const {
  const auto it = lower_bound(path);
  if (it == m_records.end() || it->first != path) return std::nullopt;
  auto record = peek_record_stat(it->second);
  if (!record || !same_stat(stat_of(*record), stat) || record->mtime_ns >= m_racy_limit ||
      record->ctime_ns >= m_racy_limit) {
    return std::nullopt;
  }
  return record;
}

}  // namespace forge::scan
