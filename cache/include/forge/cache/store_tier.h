#pragma once
// The upstream tier behind a store, built from what users configure: `forge serve`'s flags
// (--upstream, --upstream-write, --s3-endpoint, --s3-region) and the config's `cache` section
// (upstream, upstream_write, s3_endpoint, s3_region), which `forge serve` and `forge agent`
// both read. One place, so the two daemons cannot drift apart.
//
// Errors: those of parse_upstream_write, open_upstream and UpstreamTier::open, unchanged;
// callers prefix the flag or config key the value came from. Threading: none of its own.

#include <filesystem>
#include <memory>
#include <string>

#include "forge/cache/upstream_tier.h"

namespace forge::cache {

struct StoreTierSettings {
  std::string url;          // http(s)://HOST[:PORT][/PREFIX] or s3://BUCKET[/PREFIX]
  std::string write;        // "behind" / "through"; empty: TierOptions' default (behind)
  std::string s3_endpoint;  // empty: https://s3.REGION.amazonaws.com (UpstreamOptions)
  std::string s3_region;    // empty: AWS_REGION, AWS_DEFAULT_REGION, then us-east-1
};

// The tier for settings.url behind the store in store_dir: its persistent upload queue in
// store_dir/upstream-queue, fsync'd when `fsync` (as the store is). The caller binds it to
// the store (CasStore::attach_upstream).
Result<std::shared_ptr<UpstreamTier>> open_store_tier(const StoreTierSettings& settings,
                                                      const std::filesystem::path& store_dir,
                                                      bool fsync);

}  // namespace forge::cache
