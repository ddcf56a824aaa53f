#pragma once
// Shared by upstream_tier.cpp and upload_worker.cpp. Internal to forge_cache.

namespace forge::cache {

// While one exists on a thread, UpstreamTier::local_only() is true there: the tier's own
// reads and writes of the local store do not go back to the upstream.
class LocalOnlyScope {
 public:
  LocalOnlyScope();
  ~LocalOnlyScope();
  LocalOnlyScope(const LocalOnlyScope&) = delete;
  LocalOnlyScope& operator=(const LocalOnlyScope&) = delete;
};

}  // namespace forge::cache
