#include "forge/agent/hash_cache.h"

#include "forge/core/scan/scanner.h"
#include "forge/core/support/clock.h"

namespace forge::agent {

std::vector<HashAnswer> HashCache::hash(const std::vector<std::string>& paths,
                                        hash::AlgorithmSet algorithms) {
  std::lock_guard lock(m_mutex);
  std::vector<std::filesystem::path> fs_paths(paths.begin(), paths.end());
  const auto stats = m_io->batch_stat(fs_paths);
  std::vector<HashAnswer> answers(paths.size(), HashAnswer{{}, hash::Digests{}, 0, false});
  std::vector<std::filesystem::path> stale;
  std::vector<std::size_t> stale_index;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    answers[i].path = paths[i];
    const auto found = m_entries.find(paths[i]);
    if (stats[i] && found != m_entries.end() && scan::same_stat(found->second.stat, *stats[i]) &&
        (!algorithms.sha256 || found->second.digests.sha256) &&
        (!algorithms.xxh3 || found->second.digests.xxh3)) {
      answers[i].digests = found->second.digests;
      answers[i].size = found->second.stat.size;
      answers[i].cached = true;
      continue;
    }
    stale.push_back(fs_paths[i]);
    stale_index.push_back(i);
  }
  if (stale.empty()) return answers;
  auto hashed = m_io->batch_hash(stale, algorithms);
  const std::int64_t racy_after = now_ns() - scan::k_racy_margin_ns;
  if (m_entries.size() + stale.size() > k_max_entries) m_entries.clear();
  for (std::size_t j = 0; j < stale.size(); ++j) {
    HashAnswer& answer = answers[stale_index[j]];
    if (!hashed[j]) {
      answer.digests = fail(std::move(hashed[j]).error());
      m_entries.erase(answer.path);
      continue;
    }
    answer.digests = hashed[j]->digests;
    answer.size = hashed[j]->size;
    if (hashed[j]->stat.mtime_ns < racy_after && hashed[j]->stat.ctime_ns < racy_after) {
      m_entries[answer.path] = Entry{hashed[j]->stat, hashed[j]->digests};
    } else {
      m_entries.erase(answer.path);
    }
  }
  return answers;
}

std::size_t HashCache::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

}  // namespace forge::agent
