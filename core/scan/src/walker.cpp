#include "forge/core/scan/walker.h"

#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "forge/core/scan/ignore_rules.h"
#include "forge/core/support/path_text.h"
#include "walk_dir.h"

namespace forge::scan {
namespace {

EntryType type_from_mode(std::uint32_t mode) {
  if (S_ISREG(mode)) return EntryType::file;
  if (S_ISDIR(mode)) return EntryType::directory;
  if (S_ISLNK(mode)) return EntryType::symlink;
  return EntryType::other;
}

// Directories are a shared work queue for `threads` workers: each lists one directory
// (detail::WalkDir, or the ListingCache, + an lstat per entry through the open directory) and
// queues its subdirectories. A directory's .gitignore is added before its subdirectories are
// queued, so a rule is always in place before anything below it is matched.
class Walker {
 public:
  Walker(const std::filesystem::path& root, const WalkOptions& options, ListingCache* cache)
      : m_root(root), m_options(options), m_cache(options.stat_entries ? cache : nullptr) {
    for (const auto& glob : options.excludes) m_rules.add_exclude(glob);
    for (const auto& dir : options.skip_dirs) {
      std::error_code ec;
      const auto canonical = std::filesystem::weakly_canonical(dir, ec);
      m_skip.push_back(path_utf8(ec ? dir : canonical));
    }
  }

  WalkResult run(std::size_t threads) {
    m_queue.push_back(Directory{});
    std::vector<std::thread> workers;
    std::vector<Partial> partial(threads);
    for (std::size_t t = 1; t < threads; ++t) {
      workers.emplace_back([this, &partial, t] { work(partial[t]); });
    }
    work(partial[0]);
    for (auto& worker : workers) worker.join();
    WalkResult result;
    for (auto& part : partial) {
      std::move(part.result.errors.begin(), part.result.errors.end(),
                std::back_inserter(result.errors));
      result.listings_reusable = result.listings_reusable && part.result.listings_reusable;
      result.listings_reused += part.result.listings_reused;
      result.settled += part.result.settled;
      for (const Chunk& chunk : part.chunks) m_chunks.emplace(chunk.dir, &chunk);
    }
    // Byte order without sorting the whole tree: each listing is sorted on its own and the
    // listings are spliced depth first (see order()), then the entries are permuted in
    // place, so the tree's entries are never held twice.
    std::vector<std::size_t> order;
    order.reserve(m_entries.size());
    this->order("", order);
    if (order.size() == m_entries.size()) {
      permute(m_entries, order);
      result.entries = std::move(m_entries);
    } else {  // not expected: every listing hangs under the root's
      result.entries.reserve(order.size());
      for (const std::size_t i : order) result.entries.push_back(std::move(m_entries[i]));
    }
    return result;
  }

 private:
  // The entries one listing produced, in m_entries.
  struct Chunk {
    std::string dir;
    // [begin, end) ranges of m_entries: a large listing is moved there in slices.
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    // Every subdirectory queued from this listing, including settled ones that have no
    // entry in [begin, end) but whose subtrees may still hold entries.
    std::vector<std::string> subdirs;
  };
  struct Partial {
    WalkResult result;         // its entries: the listing in progress, then moved on
    std::deque<Chunk> chunks;  // a deque: m_chunks points at its elements
  };

  // Moves entries[order[k]] to position k for every k (order is a permutation).
  static void permute(std::vector<WalkEntry>& entries, const std::vector<std::size_t>& order) {
    std::vector<bool> placed(entries.size(), false);
    for (std::size_t start = 0; start < entries.size(); ++start) {
      if (placed[start]) continue;
      WalkEntry held = std::move(entries[start]);
      std::size_t at = start;
      while (order[at] != start) {
        entries[at] = std::move(entries[order[at]]);
        placed[at] = true;
        at = order[at];
      }
      entries[at] = std::move(held);
      placed[at] = true;
    }
  }

  // Appends the indexes of `dir`'s listing entries and, recursively, of its subdirectories'
  // to `out` in byte order of their paths. Among siblings a directory's own entry sorts as
  // its name and its subtree as name + "/": "a", "a.c", "a/x" (as '.' < '/'), like git's.
  void order(std::string_view dir, std::vector<std::size_t>& out) {
    const auto found = m_chunks.find(dir);
    if (found == m_chunks.end()) return;
    const Chunk& chunk = *found->second;
    const std::size_t prefix = dir.empty() ? 0 : dir.size() + 1;
    struct Item {
      std::string_view name;
      std::size_t index = 0;  // of the entry in m_entries, or of the subtree in chunk.subdirs
      bool subtree = false;
    };
    std::vector<Item> items;
    for (const auto& [begin, end] : chunk.ranges) {
      for (std::size_t i = begin; i < end; ++i) {
        items.push_back(Item{std::string_view(m_entries[i].path).substr(prefix), i, false});
      }
    }
    for (std::size_t i = 0; i < chunk.subdirs.size(); ++i) {
      items.push_back(Item{std::string_view(chunk.subdirs[i]).substr(prefix), i, true});
    }
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
      const std::size_t n = std::min(a.name.size(), b.name.size());
      if (const int c = n == 0 ? 0 : std::memcmp(a.name.data(), b.name.data(), n); c != 0) {
        return c < 0;
      }
      // Names contain no '/': compare what follows the common part ("" < "/" < others).
      auto next = [n](const Item& item) -> int {
        if (item.name.size() > n) return static_cast<unsigned char>(item.name[n]);
        return item.subtree ? '/' : -1;
      };
      return next(a) < next(b);
    });
    for (const Item& item : items) {
      if (item.subtree) {
        order(chunk.subdirs[item.index], out);
      } else {
        out.push_back(item.index);
      }
    }
  }

  struct Directory {
    std::string path;                  // root-relative, "" for the root
    std::optional<io::FileStat> stat;  // as its parent's listing saw it
    bool rules_changed = false;        // a .gitignore at or above it changed: no reuse
  };
  using Name = detail::DirName;

  void work(Partial& part) {
    WalkResult& out = part.result;
    std::vector<char> buffer(k_initial_buffer);
    std::vector<Name> names;
    std::vector<ListingCache::Child> cached;
    for (;;) {
      Directory dir;
      {
        std::unique_lock lock(m_queue_mutex);
        m_queue_ready.wait(lock, [&] { return !m_queue.empty() || m_busy == 0; });
        if (m_queue.empty()) return;  // nothing queued and nobody can queue more
        dir = std::move(m_queue.front());
        m_queue.pop_front();
        ++m_busy;
      }
      Chunk chunk{std::move(dir.path), {}, {}};
      std::vector<Directory> subdirs = list(chunk.dir, dir, out, buffer, names, cached, chunk);
      flush(out, chunk);
      chunk.subdirs.reserve(subdirs.size());
      for (const auto& subdir : subdirs) chunk.subdirs.push_back(subdir.path);
      part.chunks.push_back(std::move(chunk));
      {
        std::lock_guard lock(m_queue_mutex);
        for (auto& subdir : subdirs) m_queue.push_back(std::move(subdir));
        --m_busy;
      }
      m_queue_ready.notify_all();
    }
  }

  // Moves the listing's entries so far from the worker's `out` to m_entries: one shared
  // vector for the whole walk, appended a slice at a time, so the final order is a
  // permutation in place (run()) and a huge directory is never held twice.
  void flush(WalkResult& out, Chunk& chunk) {
    if (out.entries.empty()) return;
    {
      std::lock_guard lock(m_entries_mutex);
      const std::size_t begin = m_entries.size();
      m_entries.insert(m_entries.end(), std::make_move_iterator(out.entries.begin()),
                       std::make_move_iterator(out.entries.end()));
      chunk.ranges.emplace_back(begin, m_entries.size());
    }
    out.entries.clear();
  }
  static constexpr std::size_t k_flush_entries = 4096;

  std::string child_path(std::string_view relative, std::string_view name) const {
    std::string child;
    child.reserve(relative.size() + 1 + name.size());
    child.append(relative);
    if (!relative.empty()) child.push_back('/');
    child.append(name);
    return child;
  }

  // Lists one directory into `out`; returns its subdirectories to walk. `buffer`, `names`
  // and `cached` are the worker's scratch space, reused from directory to directory.
  std::vector<Directory> list(const std::string& relative, const Directory& dir, WalkResult& out,
                              std::vector<char>& buffer, std::vector<Name>& names,
                              std::vector<ListingCache::Child>& cached, Chunk& chunk) {
    std::vector<Directory> subdirs;
    // `relative` is UTF-8 with '/' (path_from_utf8: on Windows, not the ANSI code page's).
    const std::filesystem::path absolute =
        relative.empty() ? m_root : m_root / path_from_utf8(relative);
    if (!m_skip.empty() &&
        std::find(m_skip.begin(), m_skip.end(), path_utf8(absolute)) != m_skip.end()) {
      return subdirs;
    }
    names.clear();
    cached.clear();
    // A reusable listing needs only a path handle to statx the children through.
    bool reuse = m_cache != nullptr && dir.stat && !dir.rules_changed && !relative.empty() &&
                 m_cache->children(relative, *dir.stat, cached);
    auto opened = detail::WalkDir::open(absolute, reuse);
    if (!opened) {
      out.errors.push_back(std::move(opened.error()));
      return subdirs;
    }
    detail::WalkDir& handle = *opened;
    const bool opened_as_path = reuse;
    bool rules_changed = dir.rules_changed;
    std::optional<io::FileStat> gitignore_stat;
    const std::string gitignore_path = child_path(relative, ".gitignore");
    if (reuse) {
      const bool has_gitignore =
          std::any_of(cached.begin(), cached.end(),
                      [](const ListingCache::Child& c) { return c.name == ".gitignore"; });
      if (has_gitignore && m_options.use_gitignore) {
        gitignore_stat = handle.stat(".gitignore");
        if (!gitignore_stat || !m_cache->unchanged(gitignore_path, *gitignore_stat)) {
          reuse = false;  // its rules may differ: read the directory and match them again
          rules_changed = true;
        }
      }
    }
    // A path handle cannot be listed: a listing that turned out stale opens the directory.
    if (opened_as_path && !reuse) {
      if (auto listable = handle.make_listable(); !listable) {
        out.errors.push_back(std::move(listable.error()));
        return subdirs;
      }
    }
    if (reuse) {
      ++out.listings_reused;
      for (const auto& child : cached)
        names.push_back(Name{child.name, child.type, nullptr, child.id});
    } else if (auto listed = handle.read_names(buffer, names); !listed) {
      out.errors.push_back(std::move(listed.error()));
      return subdirs;
    }

    if (m_options.use_gitignore && !reuse) {
      const bool has_gitignore = std::any_of(names.begin(), names.end(),
                                             [](const Name& n) { return n.name == ".gitignore"; });
      if (m_cache != nullptr && !rules_changed) {
        // Reuse below this directory relies on its .gitignore being the recorded one.
        if (has_gitignore) gitignore_stat = handle.stat(".gitignore");
        rules_changed =
            has_gitignore ? !gitignore_stat || !m_cache->unchanged(gitignore_path, *gitignore_stat)
                          : m_cache->known(gitignore_path);
      }
      if (has_gitignore) {
        if (auto content = handle.read_file(".gitignore")) {
          std::unique_lock lock(m_rules_mutex);
          m_rules.add_gitignore(relative, *content);
        }
      }
      if (has_gitignore) {
        std::shared_lock rules(m_rules_mutex);
        if (m_rules.is_ignored(gitignore_path, false)) out.listings_reusable = false;
      }
    } else if (m_options.use_gitignore && gitignore_stat) {
      // A reused listing with an unchanged .gitignore: its rules still apply below.
      if (auto content = handle.read_file(".gitignore")) {
        std::unique_lock lock(m_rules_mutex);
        m_rules.add_gitignore(relative, *content);
      }
    }

    std::shared_lock rules(m_rules_mutex);
    for (const Name& entry : names) {
      const std::string_view name = entry.name;
      EntryType type = entry.type;
      if (!reuse && m_options.skip_vcs_entries) {
        if (type == EntryType::directory && (name == ".git" || name == ".forge")) continue;
        if (name.starts_with(k_sync_cookie_prefix)) continue;
      }
      std::optional<io::FileStat> stat;
      if (reuse) {
        // A reused name points into an index key, not NUL-terminated: statx needs a C string.
        // 1 KiB: a 255-byte Linux name, or 255 UTF-16 units of a Windows one as UTF-8.
        char c_name[1024];
        const std::size_t length = std::min<std::size_t>(name.size(), sizeof c_name - 1);
        std::memcpy(c_name, name.data(), length);
        c_name[length] = '\0';
        stat = (name == ".gitignore" && gitignore_stat) ? gitignore_stat : handle.stat(c_name);
        // A reused listing's types are as recorded; the fresh stat is the truth.
        if (stat) type = type_from_mode(stat->mode);
        if (stat && m_cache->settle(entry.id, *stat)) {
          ++out.settled;
          if (type == EntryType::directory) {
            subdirs.push_back(Directory{child_path(relative, name), stat, rules_changed});
          }
          continue;
        }
      }
      std::string child = child_path(relative, name);
      if (!reuse && m_rules.is_ignored(child, type == EntryType::directory)) continue;
      if (!reuse && m_options.stat_entries) {
        stat =
            (name == ".gitignore" && gitignore_stat) ? gitignore_stat : handle.stat(entry.c_name);
      }
      WalkEntry walked{std::move(child), type, stat};
      if (type == EntryType::directory) {
        subdirs.push_back(Directory{walked.path, walked.stat, rules_changed});
      }
      out.entries.push_back(std::move(walked));
      if (out.entries.size() >= k_flush_entries) flush(out, chunk);
    }
    return subdirs;
  }

  // Initial buffer: a directory of ~1000 typical names in one call; grows for larger ones.
  static constexpr std::size_t k_initial_buffer = 32 * 1024;

  std::filesystem::path m_root;
  const WalkOptions& m_options;
  ListingCache* m_cache;
  std::shared_mutex m_rules_mutex;
  IgnoreRules m_rules;              // guarded by m_rules_mutex
  std::vector<std::string> m_skip;  // path_utf8 of each skipped directory
  std::mutex m_queue_mutex;
  std::condition_variable m_queue_ready;
  std::deque<Directory> m_queue;  // guarded by m_queue_mutex
  std::mutex m_entries_mutex;
  std::vector<WalkEntry> m_entries;  // every listing's entries; guarded by m_entries_mutex
  std::unordered_map<std::string_view, const Chunk*> m_chunks;  // by directory, after the walk
  std::size_t m_busy = 0;  // workers listing a directory; guarded by m_queue_mutex
};

}  // namespace

Result<WalkResult> walk_tree(const std::filesystem::path& root, const WalkOptions& options,
                             ListingCache* cache) {
  std::error_code ec;
  const auto status = std::filesystem::status(root, ec);  // follows a symlink, as stat(2)
  if (ec) return fail(Error::from_error_code(ec, "stat", path_utf8(root)));
  if (!std::filesystem::is_directory(status)) {
    return fail(Error::from_errno(ENOTDIR, "scan", path_utf8(root)));
  }
  Walker walker(root, options, cache);
  // Two workers: listing is syscall-bound, and two overlap well on the 2-core target
  // machines; more threads only add contention on the directory queue.
  return walker.run(std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 2));
}

}  // namespace forge::scan
