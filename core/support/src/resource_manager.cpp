#include "forge/core/support/resource_manager.h"

#include <cerrno>

#include <fmt/format.h>

namespace forge::support {
namespace {

Error shut_down_error() {
  return Error(ErrorCategory::file_system, "the resource manager is shutting down", ESHUTDOWN)
      .with_operation("resource.acquire")
      .with_suggestion("no new file operations start during shutdown; retry after restart");
}

}  // namespace

HandleGuard::HandleGuard(HandleGuard&& other) noexcept : m_manager(other.m_manager) {
  other.m_manager = nullptr;
}

HandleGuard& HandleGuard::operator=(HandleGuard&& other) noexcept {
  if (this != &other) {
    release();
    m_manager = other.m_manager;
    other.m_manager = nullptr;
  }
  return *this;
}

HandleGuard::~HandleGuard() {
  release();
}

void HandleGuard::release() {
  if (m_manager != nullptr) {
    m_manager->release_one();
    m_manager = nullptr;
  }
}

ResourceManager::ResourceManager(std::size_t max_handles)
    : m_limit(max_handles == 0 ? 1 : max_handles) {}

Result<HandleGuard> ResourceManager::acquire() {
  std::unique_lock lock(m_mutex);
  m_released.wait(lock, [&] { return m_shutting_down || m_active < m_limit; });
  if (m_shutting_down) return fail(shut_down_error());
  ++m_active;
  if (m_active > m_high_water_mark) m_high_water_mark = m_active;
  return HandleGuard(this);
}

Result<HandleGuard> ResourceManager::acquire_for(std::chrono::milliseconds timeout) {
  std::unique_lock lock(m_mutex);
  const bool got =
      m_released.wait_for(lock, timeout, [&] { return m_shutting_down || m_active < m_limit; });
  if (m_shutting_down) return fail(shut_down_error());
  if (!got) {
    return fail(Error(ErrorCategory::timeout,
                      fmt::format("no file handle came free within {} ms ({} of {} held)",
                                  timeout.count(), m_active, m_limit),
                      ETIMEDOUT)
                    .with_operation("resource.acquire")
                    .with_suggestion("raise io.max_file_handles in the Forge config"));
  }
  ++m_active;
  if (m_active > m_high_water_mark) m_high_water_mark = m_active;
  return HandleGuard(this);
}

std::optional<HandleGuard> ResourceManager::try_acquire() {
  std::lock_guard lock(m_mutex);
  if (m_shutting_down || m_active >= m_limit) return std::nullopt;
  ++m_active;
  if (m_active > m_high_water_mark) m_high_water_mark = m_active;
  return HandleGuard(this);
}

std::size_t ResourceManager::active() const {
  std::lock_guard lock(m_mutex);
  return m_active;
}

std::size_t ResourceManager::high_water_mark() const {
  std::lock_guard lock(m_mutex);
  return m_high_water_mark;
}

void ResourceManager::release_one() {
  {
    std::lock_guard lock(m_mutex);
    --m_active;
  }
  // notify_all: shutdown() waits for zero while acquirers wait for one free slot.
  m_released.notify_all();
}

Result<void> ResourceManager::shutdown(std::chrono::milliseconds timeout) {
  std::unique_lock lock(m_mutex);
  m_shutting_down = true;
  m_released.notify_all();
  if (m_released.wait_for(lock, timeout, [&] { return m_active == 0; })) return ok();
  return fail(Error(ErrorCategory::timeout,
                    fmt::format("shutdown timed out after {} ms with {} file handle(s) still held",
                                timeout.count(), m_active),
                    ETIMEDOUT)
                  .with_operation("resource.shutdown")
                  .with_suggestion("a long read or write is still in progress; raise the "
                                   "shutdown deadline or check for a hung file system"));
}

}  // namespace forge::support
