#pragma once
// IndexListings (internal to forge::scan): the index's records, sorted by path, as the
// walk's ListingCache (walker.h), plus the one rule for "this entry needs neither a hash
// nor a rewrite" (settles) that the walk and Scanner::update share.
//
// The string_views point into the memory map of a read transaction the caller keeps open
// for as long as the IndexListings lives. Threading: settle() may run on several walk
// threads at once for different ids; the rest is read-only.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "forge/core/scan/file_index.h"
#include "forge/core/scan/walker.h"

namespace forge::scan {

EntryType type_from_mode(std::uint32_t mode);

// True when `record` (the index's) and `stat` (fresh) show an entry needing neither a hash
// nor a rewrite: same type, same stat, and for a file a digest from outside the racy
// window. Symlinks (target read on every scan) and type changes never settle.
bool settles(const RecordStat& record, const io::FileStat& stat, std::int64_t racy_limit,
             bool sha256);

class IndexListings final : public ListingCache {
 public:
  IndexListings(const std::vector<store::KeyValue>& records, std::int64_t racy_limit, bool sha256)
      : m_records(records),
        m_racy_limit(racy_limit),
        m_sha256(sha256),
        m_settled(records.size(), 0) {}

  // settled()[i]: records[i] was settled by the walk (present, unchanged, not in entries).
  const std::vector<std::uint8_t>& settled() const { return m_settled; }

  bool settle(std::size_t id, const io::FileStat& stat) override;
  bool children(std::string_view dir, const io::FileStat& stat,
                std::vector<Child>& out) const override;
  bool unchanged(std::string_view path, const io::FileStat& stat) const override {
    return clean(path, stat).has_value();
  }
  bool known(std::string_view path) const override;

 private:
  std::vector<store::KeyValue>::const_iterator lower_bound(std::string_view key) const;
  // The record of `path` if it has exactly `stat` and was not taken in the racy window.
  std::optional<RecordStat> clean(std::string_view path, const io::FileStat& stat) const;

  const std::vector<store::KeyValue>& m_records;
  std::int64_t m_racy_limit;
  bool m_sha256;
  std::vector<std::uint8_t> m_settled;
};

}  // namespace forge::scan
