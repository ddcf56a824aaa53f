#pragma once
// ResourceManager: a counting semaphore of file handles shared by every I/O backend.
//
// - acquire() blocks while `limit()` handles are held and proceeds as soon as one is
//   released (Property 13); the number held never exceeds limit() (Property 12).
// - HandleGuard is the RAII permit: move-only, releases exactly once on destruction.
// - shutdown(timeout): refuses new acquires (they fail with a Timeout-free FileSystem error
//   ESHUTDOWN), waits up to `timeout` for held handles to be released, and reports how many
//   are still held as a Timeout error if any remain.
// Thread-safe: every member may be called from any thread. The manager must outlive every
// guard it handed out.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>

#include "forge/core/support/error.h"

namespace forge::support {

class ResourceManager;

class [[nodiscard]] HandleGuard {
 public:
  HandleGuard() = default;
  HandleGuard(HandleGuard&& other) noexcept;
  HandleGuard& operator=(HandleGuard&& other) noexcept;
  HandleGuard(const HandleGuard&) = delete;
  HandleGuard& operator=(const HandleGuard&) = delete;
  ~HandleGuard();

  bool holds() const { return m_manager != nullptr; }
  void release();  // early release; idempotent

 private:
  friend class ResourceManager;
  explicit HandleGuard(ResourceManager* manager) : m_manager(manager) {}
  ResourceManager* m_manager = nullptr;
};

class ResourceManager {
 public:
  // REQUIRES: max_handles >= 1.
  explicit ResourceManager(std::size_t max_handles);
  ResourceManager(const ResourceManager&) = delete;
  ResourceManager& operator=(const ResourceManager&) = delete;

  // Blocks until a handle is free. Fails only after shutdown() started.
  Result<HandleGuard> acquire();
  // Waits at most `timeout`; a Timeout error when none came free.
  Result<HandleGuard> acquire_for(std::chrono::milliseconds timeout);
  // Never blocks: nullopt when all handles are held (or after shutdown()).
  std::optional<HandleGuard> try_acquire();

  std::size_t active() const;
  std::size_t limit() const { return m_limit; }
  // The largest number of handles ever held at once (for tests and metrics).
  std::size_t high_water_mark() const;

  Result<void> shutdown(std::chrono::milliseconds timeout);

 private:
  friend class HandleGuard;
  void release_one();

  const std::size_t m_limit;
  mutable std::mutex m_mutex;
  std::condition_variable m_released;
  std::size_t m_active = 0;           // GUARDED_BY(m_mutex)
  std::size_t m_high_water_mark = 0;  // GUARDED_BY(m_mutex)
  bool m_shutting_down = false;       // GUARDED_BY(m_mutex)
};

}  // namespace forge::support
