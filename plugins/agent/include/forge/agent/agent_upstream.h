#pragma once
// The upstream tier behind the agent's store, from the global config's "cache" section
// (`forge --config FILE agent`: cache.upstream, cache.upstream_write, cache.s3_endpoint,
// cache.s3_region), as `forge serve` builds it: the Upstream for the URL, its persistent
// queue in STORE/upstream-queue. With it, the socket's `put` is written behind to the
// upstream, `get` reads through it (verified before it is stored) and `find_missing`
// counts what the upstream holds, so agents sharing one upstream share their outputs.
// Errors name the config key (cache.upstream...) and come from open_upstream/parse.
// Called once at start-up from one thread; the returned tier is thread-safe.

#include <memory>

#include "forge/cache/cas_store.h"
#include "forge/cache/upstream_tier.h"
#include "forge/core/support/config.h"

namespace forge::agent {

// nullptr when cache.upstream is empty (then the other upstream keys must be too).
Result<std::shared_ptr<cache::UpstreamTier>> open_agent_upstream(
    const support::CacheConfig& config, const cache::StoreOptions& store_options);

}  // namespace forge::agent
