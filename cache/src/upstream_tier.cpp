// UpstreamTier: read-through, write-behind hook, retries and the breaker (upstream_tier.h).
// The queue's workers are in upload_worker.cpp.
#include "forge/cache/upstream_tier.h"

#include <fmt/format.h>

#include "forge/cache/cas_store.h"
#include "forge/core/support/clock.h"
#include "forge/core/support/log.h"
#include "forge/core/support/metrics.h"
#include "forge/core/support/retry.h"
#include "single_flight.h"

namespace forge::cache {
namespace {

thread_local int t_local_only = 0;

// Negative answers kept at most: a FindMissingBlobs storm cannot grow the map without bound.
constexpr std::size_t k_max_absent_entries = 100'000;
// Sizes kept at most (~6 MB): far more outputs than one build validates at a time.
constexpr std::size_t k_max_size_hints = 100'000;

}  // namespace

LocalOnlyScope::LocalOnlyScope() {
  ++t_local_only;
}
LocalOnlyScope::~LocalOnlyScope() {
  --t_local_only;
}

bool UpstreamTier::local_only() {
  return t_local_only > 0;
}

Result<UpstreamWrite> parse_upstream_write(std::string_view text) {
  if (text == "behind") return UpstreamWrite::behind;
  if (text == "through") return UpstreamWrite::through;
  return fail(Error(ErrorCategory::configuration,
                    fmt::format("--upstream-write '{}' is not a write mode", text))
                  .with_suggestion("use --upstream-write behind (queued, the default) or through "
                                   "(synchronous)"));
}

struct UpstreamTier::Flights {
  SingleFlight<hash::Digest, Result<bool>> blobs;
  // Keyed "space/key".
  SingleFlight<std::string, Result<std::optional<std::string>>> actions;
};

UpstreamTier::UpstreamTier(TierOptions options, std::unique_ptr<Upstream> upstream,
                           std::unique_ptr<UploadQueue> queue)
    : m_options(std::move(options)),
      m_upstream(std::move(upstream)),
      m_queue(std::move(queue)),
      m_breaker(m_options.breaker),
      m_flights(std::make_unique<Flights>()) {}

Result<std::shared_ptr<UpstreamTier>> UpstreamTier::open(TierOptions options,
                                                         std::unique_ptr<Upstream> upstream) {
  FORGE_TRY_VOID(support::validate(options.retry));
  if (!upstream) {
    return fail(Error(ErrorCategory::configuration, "no upstream given to the tier")
                    .with_suggestion("open one with open_upstream()"));
  }
  if (options.queue.dir.empty()) {
    return fail(Error(ErrorCategory::configuration, "the upload queue has no directory")
                    .with_suggestion("set TierOptions::queue.dir (beside the store)"));
  }
  FORGE_TRY(auto queue, UploadQueue::open(options.queue));
  return std::shared_ptr<UpstreamTier>(
      new UpstreamTier(std::move(options), std::move(upstream), std::move(queue)));
}

UpstreamTier::~UpstreamTier() {
  stop();
}

void UpstreamTier::bind(CasStore& store) {
  m_store = &store;
  for (unsigned i = 0; i < m_options.workers; ++i) {
    m_workers.emplace_back([this] { worker_loop(); });
  }
  publish_gauges();
}

void UpstreamTier::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  for (auto& worker : m_workers) worker.join();
  m_workers.clear();
}

Result<void> UpstreamTier::through_breaker(const std::function<Result<void>()>& attempt) {
  if (!m_breaker.allow(steady_now_ns())) {
    return fail(Error(ErrorCategory::dependency,
                      fmt::format("upstream {} is out of service after repeated failures",
                                  m_upstream->describe()))
                    .with_operation("upstream.breaker")
                    .with_suggestion("the local tier keeps serving; the upstream is probed again "
                                     "every few seconds"));
  }
  auto result = attempt();
  if (result) {
    m_breaker.record_success();
  } else if (result.error().is_retryable()) {
    m_breaker.record_failure(steady_now_ns());
  }
  return result;
}

Result<void> UpstreamTier::with_retries(const std::function<Result<void>()>& attempt) {
  return support::retry(
      m_options.retry, [&]() -> Result<void> { return through_breaker(attempt); },
      [this](std::chrono::milliseconds delay) {
        std::unique_lock lock(m_mutex);
        m_wake.wait_for(lock, delay, [&] { return m_stop; });
      });
}

Result<bool> UpstreamTier::fetch_blob(const hash::Digest& sha256,
                                      std::optional<std::uint64_t> size) {
  if (local_only() || m_store == nullptr) return false;
  if (!size) {
    std::lock_guard lock(m_mutex);
    if (auto hint = m_size_hints.find(sha256); hint != m_size_hints.end()) size = hint->second;
  }
  return m_flights->blobs.run(sha256, [&] { return fetch_blob_once(sha256, size); });
}

Result<bool> UpstreamTier::fetch_blob_once(const hash::Digest& sha256,
                                           std::optional<std::uint64_t> size) {
  static auto& corrupt_total = support::Metrics::global().counter(
      "upstream_corrupt_total", "upstream answers whose bytes did not match their digest");
  static auto& fetches_hit = support::Metrics::global().counter(
      "upstream_fetches_total{result=\"hit\"}", "read-through requests to the upstream");
  static auto& fetches_miss =
      support::Metrics::global().counter("upstream_fetches_total{result=\"miss\"}");
  static auto& fetches_error =
      support::Metrics::global().counter("upstream_fetches_total{result=\"error\"}");
  const std::string hex = sha256.hex();
  bool found = false;
  auto outcome = with_retries([&]() -> Result<void> {
    LocalOnlyScope local;
    found = false;
    FORGE_TRY(auto writer, size ? m_store->begin_put(BlobDigest{sha256, *size})
                                : m_store->begin_put_expecting_hash(sha256));
    const BodySink sink = [&](std::span<const std::byte> data) { return writer.write(data); };
    FORGE_TRY(auto hit, m_upstream->get(UpstreamSpace::cas, hex, sink, size));
    if (!hit) return ok();
    auto committed = writer.commit();
    if (!committed) {
      if (committed.error().category() != ErrorCategory::validation) {
        return fail(std::move(committed).error());
      }
      m_corrupt.fetch_add(1, std::memory_order_relaxed);
      corrupt_total.add();
      support::log(spdlog::level::warn, "upstream: answer does not match its digest; discarded",
                   {{"upstream", m_upstream->describe()},
                    {"digest", hex},
                    {"error", committed.error().summary()}});
      // Retryable: the next attempt may get good bytes; nothing was stored.
      return fail(Error(ErrorCategory::network,
                        fmt::format("upstream {} answered bytes that do not hash to {}",
                                    m_upstream->describe(), hex),
                        EBADMSG)
                      .with_suggestion("run the upstream's own verify; Forge never serves them"));
    }
    found = true;
    return ok();
  });
  if (!outcome) {
    m_fetch_errors.fetch_add(1, std::memory_order_relaxed);
    fetches_error.add();
    support::log(spdlog::level::warn, "upstream: read-through failed; answering from local only",
                 {{"digest", hex}, {"error", outcome.error().summary()}});
    return false;
  }
  (found ? m_fetch_hits : m_fetch_misses).fetch_add(1, std::memory_order_relaxed);
  (found ? fetches_hit : fetches_miss).add();
  return found;
}

Result<std::optional<std::string>> UpstreamTier::fetch_action(UpstreamSpace space,
                                                              std::string_view key) {
  if (local_only()) return std::nullopt;
  const std::string flight_key = fmt::format("{}/{}", upstream_space_name(space), key);
  return m_flights->actions.run(flight_key, [&] { return fetch_action_once(space, key); });
}

Result<std::optional<std::string>> UpstreamTier::fetch_action_once(UpstreamSpace space,
                                                                   std::string_view key) {
  std::string value;
  bool found = false;
  auto outcome = with_retries([&]() -> Result<void> {
    value.clear();
    const BodySink sink = [&](std::span<const std::byte> data) -> Result<void> {
      if (value.size() + data.size() > m_options.max_action_size) {
        return fail(Error(ErrorCategory::validation,
                          fmt::format("upstream action result {} exceeds {} bytes", key,
                                      m_options.max_action_size))
                        .with_suggestion("the upstream holds something that is not an action "
                                         "result under this key"));
      }
      value.append(reinterpret_cast<const char*>(data.data()), data.size());
      return ok();
    };
    FORGE_TRY(found, m_upstream->get(space, key, sink));
    return ok();
  });
  if (!outcome) {
    m_fetch_errors.fetch_add(1, std::memory_order_relaxed);
    support::log(spdlog::level::warn, "upstream: action read-through failed",
                 {{"key", std::string(key)}, {"error", outcome.error().summary()}});
    return std::nullopt;
  }
  (found ? m_fetch_hits : m_fetch_misses).fetch_add(1, std::memory_order_relaxed);
  if (!found) return std::nullopt;
  return value;
}

std::vector<bool> UpstreamTier::present_upstream(std::span<const BlobDigest> digests) {
  std::vector<bool> present(digests.size(), false);
  if (local_only()) return present;
  const std::int64_t now = steady_now_ns();
  // What the negative cache does not answer goes to the upstream in one batched query.
  std::vector<std::size_t> asked_index;
  std::vector<BlobDigest> asked;
  {
    std::lock_guard lock(m_mutex);
    for (std::size_t i = 0; i < digests.size(); ++i) {
      const auto it = m_absent_until.find(digests[i].sha256);
      if (it != m_absent_until.end() && it->second > now) continue;
      asked_index.push_back(i);
      asked.push_back(digests[i]);
    }
  }
  if (asked.empty()) return present;
  std::vector<bool> found;
  auto outcome = through_breaker([&]() -> Result<void> {
    FORGE_TRY(found, m_upstream->contains_many(asked));
    return ok();
  });
  // Unavailable: absent as far as this answer goes.
  if (!outcome || found.size() != asked.size()) return present;
  std::lock_guard lock(m_mutex);
  for (std::size_t j = 0; j < asked.size(); ++j) {
    const auto& sha = asked[j].sha256;
    present[asked_index[j]] = found[j];
    if (found[j]) {
      if (m_size_hints.size() >= k_max_size_hints) m_size_hints.clear();
      m_size_hints[sha] = asked[j].size;
    } else {
      if (m_absent_until.size() >= k_max_absent_entries) m_absent_until.clear();
      m_absent_until[sha] = now + std::chrono::nanoseconds(m_options.negative_cache_ttl).count();
    }
  }
  return present;
}

Result<void> UpstreamTier::upload_now(UpstreamSpace space, std::string_view key,
                                      const BlobDigest& value) {
  const QueueEntry entry{.space = space, .key = std::string(key), .value = value};
  auto uploaded = with_retries([&] { return upload(entry); });
  if (uploaded) {
    m_uploads.fetch_add(1, std::memory_order_relaxed);
  } else {
    m_upload_errors.fetch_add(1, std::memory_order_relaxed);
  }
  return uploaded;
}

Result<void> UpstreamTier::stored(UpstreamSpace space, std::string_view key,
                                  const BlobDigest& value) {
  if (local_only() || m_store == nullptr) return ok();
  {
    std::lock_guard lock(m_mutex);
    m_absent_until.erase(value.sha256);
  }
  if (m_options.write == UpstreamWrite::through) return upload_now(space, key, value);
  FORGE_TRY(auto pushed, m_queue->push(space, key, value));
  if (pushed == Pushed::full) {
    auto uploaded = upload_now(space, key, value);
    if (!uploaded) {
      return fail(Error(ErrorCategory::network,
                        fmt::format("the upstream upload queue is full ({} entries) and {} did "
                                    "not take the write: {}",
                                    m_options.queue.max_entries, m_upstream->describe(),
                                    uploaded.error().summary()),
                        EAGAIN)
                      .with_suggestion("bring the upstream back or raise the queue size; the "
                                       "client may retry the write"));
    }
    return ok();
  }
  if (pushed == Pushed::added) {
    {
      std::lock_guard lock(m_mutex);
      m_signalled = true;
    }
    m_wake.notify_all();
  }
  return ok();
}

bool UpstreamTier::needs_blob(const hash::Digest& sha256) const {
  auto needed = m_queue->needs_blob(sha256);
  // When the queue cannot be read, keeping the blob is the safe answer.
  return !needed || *needed;
}

TierStats UpstreamTier::stats() const {
  TierStats stats;
  if (auto queue = m_queue->stats()) stats.queue = *queue;
  stats.uploads = m_uploads.load(std::memory_order_relaxed);
  stats.upload_errors = m_upload_errors.load(std::memory_order_relaxed);
  stats.fetch_hits = m_fetch_hits.load(std::memory_order_relaxed);
  stats.fetch_misses = m_fetch_misses.load(std::memory_order_relaxed);
  stats.fetch_errors = m_fetch_errors.load(std::memory_order_relaxed);
  stats.corrupt = m_corrupt.load(std::memory_order_relaxed);
  stats.shared_fetches = m_flights->blobs.joined() + m_flights->actions.joined();
  stats.breaker = m_breaker.state();
  stats.connections = m_upstream->live_connections();
  return stats;
}

nlohmann::json UpstreamTier::status_json() const {
  const auto stats = this->stats();
  const std::int64_t age_ns =
      stats.queue.oldest_enqueued_ns > 0 ? now_ns() - stats.queue.oldest_enqueued_ns : 0;
  return {
      {"url", m_upstream->describe()},
      {"write", m_options.write == UpstreamWrite::behind ? "behind" : "through"},
      {"queue_length", stats.queue.length},
      {"queue_max", m_options.queue.max_entries},
      {"queue_oldest_age_seconds", static_cast<double>(std::max<std::int64_t>(age_ns, 0)) / 1e9},
      {"uploads", stats.uploads},
      {"upload_errors", stats.upload_errors},
      {"fetch_hits", stats.fetch_hits},
      {"fetch_misses", stats.fetch_misses},
      {"fetch_errors", stats.fetch_errors},
      {"corrupt", stats.corrupt},
      {"shared_fetches", stats.shared_fetches},
      {"breaker", std::string(to_string(stats.breaker))},
      {"connections", stats.connections}};
}

}  // namespace forge::cache
