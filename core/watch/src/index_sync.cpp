#include "forge/core/watch/index_sync.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <cerrno>
#include <charconv>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "keeper_process.h"

namespace forge::watch {
namespace {

// After a whole-tree scan: the scan's working memory (every path and record of the tree) was
// freed, but glibc keeps freed heap in its arenas; hand it back so a long-running keeper
// holds only what it uses (63 MB of an agent with two 100k-file workspaces). Then the index
// pages the scan read (Environment::release_resident_pages). Only memory is at stake, so a
// failure is not an error of the keeper.
void release_scan_memory(scan::FileIndex& index) {
#ifdef __GLIBC__
  ::malloc_trim(0);
#endif
  (void)index.env().release_resident_pages();
}

// The keeper's pid as the index records it: a positive decimal number, else nullopt.
std::optional<long> parse_pid(std::string_view text) {
  long pid = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc{} || end != text.data() + text.size() || pid <= 0) return std::nullopt;
  return pid;
}

}  // namespace

bool is_sync_cookie(std::string_view path) {
  const auto slash = path.rfind('/');
  return path.substr(slash == std::string_view::npos ? 0 : slash + 1)
      .starts_with(scan::k_sync_cookie_prefix);
}

bool sync_with_keeper(const std::filesystem::path& root, scan::FileIndex& index,
                      const SyncOptions& options) {
  auto pid_text = index.meta_value(k_watcher_pid_key);
  if (!pid_text || !*pid_text) return false;
  const auto pid = parse_pid(**pid_text);
  if (!pid || !detail::process_alive(*pid)) return false;
  const std::string name = fmt::format("{}{}-{}", scan::k_sync_cookie_prefix, this_process_id(),
                                       std::chrono::steady_clock::now().time_since_epoch().count());
  const auto cookie = root / name;
  if (!detail::create_new_file(cookie)) return false;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool synced = false;
  while (!synced && std::chrono::steady_clock::now() < deadline) {
    auto seen = index.meta_value(k_watcher_cookie_key);
    synced = seen && *seen && **seen == name;
    if (!synced) std::this_thread::sleep_for(options.poll_interval);
  }
  std::error_code ignored;
  std::filesystem::remove(cookie, ignored);
  return synced;
}

Batch take_batch(PlatformWatcher& watcher, std::chrono::milliseconds timeout) {
  Batch batch;
  batch.events = watcher.poll(timeout);
  for (const WatchEvent& event : batch.events) {
    if (is_sync_cookie(event.path) && event.kind != EventKind::removed) batch.cookie = event.path;
  }
  if (!batch.cookie.empty()) {
    auto rest = watcher.drain();
    batch.events.insert(batch.events.end(), rest.begin(), rest.end());
  }
  std::erase_if(batch.events, [](const WatchEvent& event) { return is_sync_cookie(event.path); });
  return batch;
}

IndexKeeper::IndexKeeper(scan::Scanner& scanner, scan::FileIndex& index, pid_t pid)
    : m_scanner(scanner), m_index(index), m_pid(pid) {}

Result<void> IndexKeeper::claim() {
  FORGE_TRY_VOID(m_index.set_meta_value(k_watcher_pid_key, std::to_string(m_pid)));
  m_claimed = true;
  return ok();
}

// A whole-tree scan for the keeper, which needs the index, not the list of what changed:
// the changes are dropped as each batch commits instead of being collected (100k "added"
// entries on a first scan), so the memory release after it has nothing left to keep.
scan::ScanOptions keeper_scan_options() {
  scan::ScanOptions options;
  options.on_change = [](const scan::Change&) {};
  return options;
}

Result<void> IndexKeeper::start() {
  FORGE_TRY_VOID(m_scanner.scan(keeper_scan_options()));
  m_stale = false;
  release_scan_memory(m_index);  // from here on a batch touches a few paths and pages
  return claim();
}

Result<void> IndexKeeper::release() {
  m_claimed = false;
  return m_index.set_meta_value(k_watcher_pid_key, std::nullopt);
}

Result<void> IndexKeeper::apply(const std::vector<WatchEvent>& events, const std::string& cookie) {
  bool rescan = m_stale;
  std::vector<std::string> paths;
  for (const WatchEvent& event : events) {
    rescan = rescan || event.kind == EventKind::rescan_required;
    if (!event.from.empty()) paths.push_back(event.from);
    if (!event.path.empty()) paths.push_back(event.path);
  }
  Result<scan::ChangeSet> updated = scan::ChangeSet{};
  if (rescan) {
    updated = m_scanner.scan(keeper_scan_options());
    if (updated) release_scan_memory(m_index);
  } else if (!paths.empty()) {
    updated = m_scanner.scan_paths(paths, {});
  }
  if (!updated) {
    // The index now misses changes: withdraw, so clients walk instead of trusting it.
    m_stale = true;
    if (m_claimed) {
      (void)m_index.env().write([&](store::WriteTxn& txn) -> Result<void> {
        FORGE_TRY(bool erased, txn.erase(m_index.meta_db(), k_watcher_pid_key));
        FORGE_TRY(bool cleared, txn.erase(m_index.meta_db(), k_watcher_cookie_key));
        (void)erased;
        (void)cleared;
        return ok();
      });
      m_claimed = false;
    }
    return fail(std::move(updated).error());
  }
  if (rescan) m_stale = false;
  if (!m_claimed) FORGE_TRY_VOID(claim());
  if (!cookie.empty()) FORGE_TRY_VOID(m_index.set_meta_value(k_watcher_cookie_key, cookie));
  return ok();
}

}  // namespace forge::watch
