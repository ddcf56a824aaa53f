#pragma once
// ConnectionPool<T>: at most `size` connections exist at any time (Property 26), created
// lazily by a factory and handed out one lease at a time.
//
// - acquire(timeout) returns an idle connection, or creates one while fewer than `size`
//   exist, or waits up to `timeout` for a lease to come back (Timeout error, retryable,
//   when none does). A failed factory call frees its slot and returns the factory's error.
// - A Lease returns its connection to the pool when destroyed; discard() destroys it instead
//   (a connection in an unknown state after an error is never reused).
// - live() counts connections that exist (idle + leased + being created); it never exceeds
//   size(). peak_live() is the highest live() seen, for tests and /status.
// - The pool must outlive its leases. T's destructor runs without the pool's lock held.
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "forge/core/support/error.h"

namespace forge::cache {

template <typename T>
class ConnectionPool {
 public:
  using Factory = std::function<Result<std::unique_ptr<T>>()>;

  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : m_pool(std::exchange(other.m_pool, nullptr)), m_value(std::move(other.m_value)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (m_pool != nullptr) m_pool->give_back(std::move(m_value));
    }
    T& operator*() const { return *m_value; }
    T* operator->() const { return m_value.get(); }
    // The connection is destroyed instead of reused when the lease ends.
    void discard() {
      if (m_pool != nullptr) std::exchange(m_pool, nullptr)->destroy(std::move(m_value));
    }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<T> value)
        : m_pool(pool), m_value(std::move(value)) {}
    ConnectionPool* m_pool;
    std::unique_ptr<T> m_value;
  };

  // REQUIRES: size >= 1.
  ConnectionPool(std::size_t size, Factory factory)
      : m_size(size == 0 ? 1 : size), m_factory(std::move(factory)) {}
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ~ConnectionPool() = default;

  Result<Lease> acquire(std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_mutex);
    const bool ready =
        m_changed.wait_for(lock, timeout, [&] { return !m_idle.empty() || m_live < m_size; });
    if (!ready) {
      return fail(Error(ErrorCategory::timeout,
                        fmt::format("all {} upstream connections stayed busy for {} ms", m_size,
                                    timeout.count()))
                      .with_operation("pool.acquire")
                      .with_suggestion("raise the upstream connection count or the timeout"));
    }
    if (!m_idle.empty()) {
      auto value = std::move(m_idle.back());
      m_idle.pop_back();
      return Lease(this, std::move(value));
    }
    ++m_live;
    m_peak = std::max(m_peak, m_live);
    lock.unlock();
    auto created = m_factory();
    if (!created || !*created) {
      lock.lock();
      --m_live;
      lock.unlock();
      m_changed.notify_one();
      if (!created) return fail(std::move(created).error());
      return fail(Error(ErrorCategory::unknown, "the connection factory returned nothing")
                      .with_suggestion("report this as a bug"));
    }
    return Lease(this, std::move(*created));
  }

  std::size_t size() const { return m_size; }
  std::size_t live() const {
    std::lock_guard lock(m_mutex);
    return m_live;
  }
  std::size_t idle() const {
    std::lock_guard lock(m_mutex);
    return m_idle.size();
  }
  std::size_t peak_live() const {
    std::lock_guard lock(m_mutex);
    return m_peak;
  }

 private:
  void give_back(std::unique_ptr<T> value) {
    {
      std::lock_guard lock(m_mutex);
      m_idle.push_back(std::move(value));
    }
    m_changed.notify_one();
  }
  void destroy(std::unique_ptr<T> value) {
    value.reset();  // outside the lock: closing a connection may block
    {
      std::lock_guard lock(m_mutex);
      --m_live;
    }
    m_changed.notify_one();
  }

  const std::size_t m_size;
  const Factory m_factory;
  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  std::vector<std::unique_ptr<T>> m_idle;  // guarded by m_mutex
  std::size_t m_live = 0;                  // guarded by m_mutex
  std::size_t m_peak = 0;                  // guarded by m_mutex
};

}  // namespace forge::cache
