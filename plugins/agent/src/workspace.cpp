#include "forge/agent/workspace.h"

#include <unistd.h>

#include "forge/core/io/backend_selector.h"
#include "forge/core/support/log.h"

namespace forge::agent {

Workspace::Workspace(std::filesystem::path root, std::unique_ptr<io::PlatformIO> io,
                     scan::FileIndex index)
    : m_root(std::move(root)),
      m_io(std::move(io)),
      m_index(std::move(index)),
      m_scanner(m_root, m_index, *m_io),
      m_keeper(m_scanner, m_index, ::getpid()) {}

Result<std::unique_ptr<Workspace>> Workspace::start(const std::filesystem::path& root,
                                                    const support::IoConfig& io_config) {
  FORGE_TRY(auto io, io::create_platform_io(io_config));
  FORGE_TRY(auto index, scan::FileIndex::open(scan::default_index_dir(root)));
  std::unique_ptr<Workspace> workspace(new Workspace(root, std::move(io), std::move(index)));
  FORGE_TRY_VOID(workspace->m_watcher.start(root));
  if (auto first = workspace->m_keeper.start(); !first) {
    workspace->m_watcher.stop();
    return fail(std::move(first).error());
  }
  workspace->m_thread = std::thread([raw = workspace.get()] { raw->run(); });
  return workspace;
}

void Workspace::run() {
  while (!m_stop.load(std::memory_order_acquire)) {
    auto [events, cookie] = watch::take_batch(m_watcher, std::chrono::milliseconds(200));
    if (events.empty() && cookie.empty()) continue;
    std::lock_guard lock(m_scan_mutex);
    if (auto updated = m_keeper.apply(events, cookie); !updated) {
      support::log(spdlog::level::warn, "agent: index update failed",
                   {{"root", m_root.string()}, {"error", updated.error().summary()}});
    }
    m_stale.store(m_keeper.stale(), std::memory_order_relaxed);
  }
}

Result<scan::ChangeSet> Workspace::since(std::string_view cursor, std::string* source,
                                         const scan::SinceOptions& since_options) {
  if (watch::sync_with_keeper(m_root, m_index)) {
    if (source != nullptr) *source = "watcher";
    return m_scanner.since(cursor, since_options);
  }
  // The keeper is stale or busy past the sync timeout: walk, as forge scan would.
  if (source != nullptr) *source = "scan";
  std::lock_guard lock(m_scan_mutex);
  scan::ScanOptions options;
  options.walk.skip_dirs.push_back(scan::default_index_dir(m_root));
  FORGE_TRY(auto scanned, m_scanner.scan(options));
  if (cursor.empty()) return scanned;
  return m_scanner.since(cursor, since_options);
}

void Workspace::stop() {
  m_stop.store(true, std::memory_order_release);
  if (m_thread.joinable()) m_thread.join();
  m_watcher.stop();
  std::lock_guard lock(m_scan_mutex);
  if (auto released = m_keeper.release(); !released) {
    support::log(spdlog::level::warn, "agent: releasing the index failed",
                 {{"root", m_root.string()}, {"error", released.error().summary()}});
  }
}

Workspace::~Workspace() {
  if (m_thread.joinable()) stop();
}

}  // namespace forge::agent
