#pragma once
// HashCache: the agent's warm content hashes. A digest is served again while the file's
// stat (size, mtime, ctime, inode, device, mode) is unchanged; anything else is re-hashed.
// A file modified within scan::k_racy_margin_ns of its hashing is never cached (its mtime
// could repeat after another write in the same clock tick). Bounded at k_max_entries (then
// cleared: simple, and a re-hash is only a cost). Thread-safe: one mutex around the map and
// the PlatformIO (which is single-threaded). Errors are per path, in HashAnswer::digests
// (the PlatformIO's: a missing or unreadable file names its path); nothing is cached for them.

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "forge/core/io/platform_io.h"

namespace forge::agent {

struct HashAnswer {
  std::string path;
  Result<hash::Digests> digests;
  std::uint64_t size = 0;
  bool cached = false;
};

class HashCache {
 public:
  // 1M entries ≈ 200 MB at most: two 100k-file workspaces fit ten times over.
  static constexpr std::size_t k_max_entries = 1'000'000;
  explicit HashCache(std::unique_ptr<io::PlatformIO> io) : m_io(std::move(io)) {}
  // Digests of each absolute path (sha256 and/or xxh3 as asked), in order.
  std::vector<HashAnswer> hash(const std::vector<std::string>& paths,
                               hash::AlgorithmSet algorithms);
  std::size_t size() const;

 private:
  struct Entry {
    io::FileStat stat;
    hash::Digests digests;
  };
  mutable std::mutex m_mutex;
  std::unique_ptr<io::PlatformIO> m_io;
  std::unordered_map<std::string, Entry> m_entries;
};

}  // namespace forge::agent
