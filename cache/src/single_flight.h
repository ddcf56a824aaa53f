#pragma once
// SingleFlight<Key, Value>: concurrent calls for one key share one run of the work.
// Internal to forge_cache (the upstream tier's read-through of blobs and action results).
//
// Contract:
// - run(key, work): the first caller for a key (the leader) runs work() on its own thread,
//   without any lock held. Callers for the same key that arrive while it runs (followers)
//   block until it finishes and get a copy of its result; work runs once for all of them.
//   A caller arriving after the leader finished starts a new flight (no result is cached).
// - Calls for different keys never wait for each other.
// - If work throws, the leader rethrows and every follower of that flight rethrows the same
//   exception; the key is free again either way.
// - Value must be copyable (each follower gets its own copy); Key hashable with Hash.
// Threading: every member may be called from any thread at once. The object must outlive
// every run() in progress.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

namespace forge::cache {

template <class Key, class Value, class Hash = std::hash<Key>>
class SingleFlight {
 public:
  template <class Work>
  Value run(const Key& key, Work&& work) {
    std::shared_ptr<Flight> flight;
    {
      std::unique_lock lock(m_mutex);
      auto [it, inserted] = m_flights.try_emplace(key);
      if (!inserted) {
        flight = it->second;
        ++flight->followers;
        ++m_joined;
        flight->finished.wait(lock, [&] { return flight->done; });
        if (flight->error) std::rethrow_exception(flight->error);
        return *flight->result;
      }
      it->second = std::make_shared<Flight>();
      flight = it->second;
    }
    std::optional<Value> result;
    std::exception_ptr error;
    try {
      result.emplace(std::forward<Work>(work)());
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard lock(m_mutex);
      flight->result = result;
      flight->error = error;
      flight->done = true;
      m_flights.erase(key);
    }
    flight->finished.notify_all();
    if (error) std::rethrow_exception(error);
    return std::move(*result);
  }

  // Callers waiting now on the flight of key (0 when none runs; a snapshot, for tests).
  std::size_t followers(const Key& key) const {
    std::lock_guard lock(m_mutex);
    const auto it = m_flights.find(key);
    return it == m_flights.end() ? 0 : it->second->followers;
  }

  // Calls that joined a flight instead of running work, since construction (counted as they
  // join, before they wake).
  std::uint64_t joined() const {
    std::lock_guard lock(m_mutex);
    return m_joined;
  }

  // Keys with a flight running now (a snapshot).
  std::size_t in_flight() const {
    std::lock_guard lock(m_mutex);
    return m_flights.size();
  }

 private:
  struct Flight {
    bool done = false;            // guarded by m_mutex
    std::optional<Value> result;  // set (with done) by the leader; guarded by m_mutex
    std::exception_ptr error;     // likewise
    std::size_t followers = 0;    // guarded by m_mutex
    std::condition_variable finished;
  };

  mutable std::mutex m_mutex;
  std::unordered_map<Key, std::shared_ptr<Flight>, Hash> m_flights;  // guarded by m_mutex
  std::uint64_t m_joined = 0;                                        // guarded by m_mutex
};

}  // namespace forge::cache
