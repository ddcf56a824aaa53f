// UpstreamTier's upload workers: drain the persistent queue oldest first (upstream_tier.h).
#include <algorithm>
#include <random>

#include <fmt/format.h>

#include "forge/cache/cas_store.h"
#include "forge/cache/upstream_tier.h"
#include "forge/core/support/clock.h"
#include "forge/core/support/log.h"
#include "forge/core/support/metrics.h"
#include "forge/core/support/retry.h"

namespace forge::cache {
namespace {

// Entries looked at per claim beyond those already in flight.
constexpr std::size_t k_claim_window = 64;
// How often an idle worker looks at the queue anyway: another process (`forge cache put
// --upstream`) may have queued entries into the same store.
constexpr std::chrono::milliseconds k_idle_poll{1'000};
// The pause while the breaker is open: short, the breaker decides when to probe.
constexpr std::chrono::milliseconds k_breaker_pause{250};

}  // namespace

Result<void> UpstreamTier::upload(const QueueEntry& entry) {
  LocalOnlyScope local;
  FORGE_TRY(auto reader, m_store->open_blob(entry.value, ""));
  if (!reader) {
    return fail(
        Error(ErrorCategory::validation,
              fmt::format("queued {} {} names blob {} which the local store no longer "
                          "holds",
                          upstream_space_name(entry.space), entry.key, entry.value.to_string()),
              ENOENT)
            .with_suggestion("run `forge cache verify`; the entry cannot be uploaded"));
  }
  const UploadBody body{
      .fd = reader->fd(), .size = reader->size(), .sha256_hex = entry.value.sha256.hex()};
  return m_upstream->put(entry.space, entry.key, body);
}

Result<std::optional<QueueEntry>> UpstreamTier::claim(bool& paused) {
  std::lock_guard lock(m_mutex);
  paused = m_paused_until > steady_now_ns();
  if (paused || m_stop) return std::nullopt;
  FORGE_TRY(auto entries, m_queue->peek(m_claimed.size() + k_claim_window));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (std::ranges::find(m_claimed, entries[i].seq) != m_claimed.end()) continue;
    // An action result leaves only when everything older (its outputs) has reached the
    // upstream.
    if (entries[i].space == UpstreamSpace::ac && i != 0) return std::nullopt;
    m_claimed.push_back(entries[i].seq);
    return std::move(entries[i]);
  }
  return std::nullopt;
}

void UpstreamTier::finish(const QueueEntry& entry, const Result<void>& outcome) {
  static auto& uploads_total = support::Metrics::global().counter(
      "upstream_uploads_total", "queued writes that reached the upstream");
  static auto& errors_total = support::Metrics::global().counter(
      "upstream_upload_errors_total", "failed upload attempts (retried or dropped)");
  thread_local std::mt19937_64 random{std::random_device{}()};
  const auto forget = [&] {
    std::lock_guard lock(m_mutex);
    std::erase(m_claimed, entry.seq);
  };
  if (outcome) {
    if (auto removed = m_queue->remove(entry); !removed) support::log_error(removed.error());
    forget();
    m_uploads.fetch_add(1, std::memory_order_relaxed);
    uploads_total.add();
    std::lock_guard lock(m_mutex);
    m_failed_passes = 0;
    return;
  }
  const Error& error = outcome.error();
  if (error.category() == ErrorCategory::dependency) {  // the breaker is open
    std::lock_guard lock(m_mutex);
    m_paused_until = steady_now_ns() + std::chrono::nanoseconds(k_breaker_pause).count();
    std::erase(m_claimed, entry.seq);
    return;
  }
  m_upload_errors.fetch_add(1, std::memory_order_relaxed);
  errors_total.add();
  const bool keep = error.is_retryable() || error.category() == ErrorCategory::configuration ||
                    error.category() == ErrorCategory::file_system;
  if (!keep) {
    support::log(spdlog::level::err, "upstream: upload refused; dropping the queue entry",
                 {{"space", std::string(upstream_space_name(entry.space))},
                  {"key", entry.key},
                  {"error", error.summary()}});
    if (auto removed = m_queue->remove(entry); !removed) support::log_error(removed.error());
    forget();
    return;
  }
  if (auto recorded = m_queue->record_attempt(entry); !recorded) {
    support::log_error(recorded.error());
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::lock_guard lock(m_mutex);
  std::erase(m_claimed, entry.seq);
  ++m_failed_passes;
  auto policy = m_options.retry;
  policy.max_delay = std::max(policy.max_delay, m_options.max_queue_pause);
  const auto delay = support::backoff_delay(policy, m_failed_passes, unit(random));
  m_paused_until = steady_now_ns() + std::chrono::nanoseconds(delay).count();
  support::log(spdlog::level::warn, "upstream: upload failed; the queue pauses and retries",
               {{"space", std::string(upstream_space_name(entry.space))},
                {"key", entry.key},
                {"attempts", entry.attempts + 1},
                {"pause_ms", delay.count()},
                {"error", error.summary()}});
}

Result<std::size_t> UpstreamTier::drain_once() {
  if (m_store == nullptr) return std::size_t{0};
  std::size_t uploaded = 0;
  for (;;) {
    bool paused = false;
    FORGE_TRY(auto entry, claim(paused));
    if (!entry) break;
    auto outcome = through_breaker([&] { return upload(*entry); });
    finish(*entry, outcome);
    if (!outcome) break;
    ++uploaded;
  }
  publish_gauges();
  return uploaded;
}

void UpstreamTier::worker_loop() {
  std::unique_lock lock(m_mutex);
  while (!m_stop) {
    m_signalled = false;
    lock.unlock();
    auto drained = drain_once();
    if (!drained) support::log_error(drained.error());
    lock.lock();
    if (m_stop) break;
    if (drained && *drained > 0) continue;  // more may be due
    auto wait = std::chrono::nanoseconds(k_idle_poll);
    const std::int64_t now = steady_now_ns();
    if (m_paused_until > now) {
      wait = std::min(wait, std::chrono::nanoseconds(m_paused_until - now));
    }
    m_wake.wait_for(lock, wait, [&] { return m_stop || m_signalled; });
  }
}

void UpstreamTier::publish_gauges() const {
  static auto& length = support::Metrics::global().gauge(
      "upstream_queue_length", "writes acknowledged locally and not yet uploaded");
  static auto& oldest = support::Metrics::global().gauge("upstream_queue_oldest_age_seconds",
                                                         "age of the oldest queued write");
  static auto& breaker_open = support::Metrics::global().gauge(
      "upstream_breaker_open", "1 while the upstream is out of service");
  static auto& connections =
      support::Metrics::global().gauge("upstream_connections", "connections to the upstream now");
  auto stats = m_queue->stats();
  if (stats) {
    length.set(static_cast<std::int64_t>(stats->length));
    oldest.set(
        stats->oldest_enqueued_ns > 0
            ? std::max<std::int64_t>(0, (now_ns() - stats->oldest_enqueued_ns) / 1'000'000'000)
            : 0);
  }
  breaker_open.set(m_breaker.state() == BreakerState::closed ? 0 : 1);
  connections.set(static_cast<std::int64_t>(m_upstream->live_connections()));
}

}  // namespace forge::cache
