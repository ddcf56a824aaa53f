#pragma once
// Explicit moves between the local store and an upstream (`forge cache push` / `pull`),
// one request at a time per worker, independent of any UpstreamTier attached to the store
// (open the store without one: these functions read and write the local tier only).
//
// push_to_upstream(): every blob indexed in the local store that the upstream lacks, then
//   every action-cache entry (ac entries that validate locally, and raw entries, each to
//   its own upstream space) the upstream lacks, so the upstream never holds an action
//   result before its outputs.
//   Existence is checked in batches of TransferOptions::batch digests, `parallel` HEADs at
//   a time; each missing blob is uploaded from its file (pread, never read whole).
// pull_from_upstream(): each requested blob the local store lacks, streamed into a
//   BlobWriter: its SHA-256 (and size, when given) is checked before anything is indexed,
//   so a corrupt or truncated answer is never visible locally. An action key pulls the
//   entry's outputs (files, stdout/stderr, output directory trees and their files) and
//   then the entry itself; a malformed or incomplete entry is not stored. A raw key pulls
//   the opaque value of that raw entry (counted with the actions).
// Every upstream request runs under TransferOptions::retry (Property 10: retryable errors
// only). A failure is counted and the transfer goes on; the report says what failed.
// Errors: Result only for the local store failing (unreadable index); everything about the
// upstream is in the report. Thread-safe with respect to other users of the store (the
// CasStore and Upstream are); the calls themselves start and join their own workers.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "forge/cache/action_cache.h"
#include "forge/cache/upstream.h"
#include "forge/core/support/retry_policy.h"

namespace forge::cache {

struct TransferOptions {
  // Three attempts, 200 ms .. 2 s apart: a brief upstream hiccup does not fail a push.
  support::RetryPolicy retry{.max_attempts = 3,
                             .initial_delay = std::chrono::milliseconds(200),
                             .multiplier = 4.0,
                             .max_delay = std::chrono::milliseconds(2'000),
                             .jitter = 0.2};
  std::size_t parallel = 8;  // requests in flight (at most UpstreamOptions::connections)
  std::size_t batch = 256;   // digests per round of existence checks and transfers
};

// What one pull asks for.
struct PullRequest {
  // Blobs by "HEX/SIZE" or "HEX" (size unknown: only the SHA-256 is checked).
  std::vector<std::string> blobs;
  // Action-cache keys (64 hex digits for Bazel's; any valid key).
  std::vector<std::string> actions;
  // Raw-keyspace keys (as `forge serve` files them: "r.<sha256 of the path>", ...).
  std::vector<std::string> raw;
};

// Counts of one direction. "present": already at the destination; "missing": asked for but
// the source does not have it (pull only); "failed": an error after the retries, or bytes
// that did not match their digest; "skipped": local action entries that no longer validate
// (an output was evicted), which push leaves out.
struct TransferCounts {
  std::uint64_t checked = 0;
  std::uint64_t present = 0;
  std::uint64_t copied = 0;
  std::uint64_t bytes = 0;
  std::uint64_t missing = 0;
  std::uint64_t failed = 0;
  std::uint64_t skipped = 0;
};

struct TransferReport {
  TransferCounts blobs;
  TransferCounts actions;
  // "what: why" for the first k_max_reported failures (the counts hold them all).
  static constexpr std::size_t k_max_reported = 20;
  std::vector<std::string> failures;

  // Everything asked for is at the destination.
  bool complete() const;
  nlohmann::json to_json() const;
};

Result<TransferReport> push_to_upstream(ActionCache& actions, Upstream& upstream,
                                        const TransferOptions& options = {});
// push_to_upstream's blob pass over `blobs` only (every one must be in `store`): those the
// upstream lacks are uploaded, checked and uploaded `parallel` at a time (forge cas upload
// --remote pushes one tree this way).
TransferReport push_blobs_to_upstream(CasStore& store, Upstream& upstream,
                                      std::span<const BlobDigest> blobs,
                                      const TransferOptions& options = {});
Result<TransferReport> pull_from_upstream(ActionCache& actions, Upstream& upstream,
                                          const PullRequest& request,
                                          const TransferOptions& options = {});

}  // namespace forge::cache
