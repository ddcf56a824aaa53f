#include "forge/agent/agent_upstream.h"

#include <fmt/format.h>

namespace forge::agent {

Result<std::shared_ptr<cache::UpstreamTier>> open_agent_upstream(
    const support::CacheConfig& config, const cache::StoreOptions& store_options) {
  if (config.upstream.empty()) {
    if (!config.s3_endpoint.empty() || !config.s3_region.empty()) {
      return fail(Error(ErrorCategory::configuration,
                        "config keys cache.s3_endpoint and cache.s3_region need cache.upstream")
                      .with_suggestion("set cache.upstream to s3://BUCKET, or drop them"));
    }
    return std::shared_ptr<cache::UpstreamTier>();
  }
  cache::UpstreamOptions upstream_options;
  upstream_options.url = config.upstream;
  upstream_options.s3_endpoint = config.s3_endpoint;
  upstream_options.s3_region = config.s3_region;
  auto upstream = cache::open_upstream(upstream_options);
  if (!upstream) return fail(std::move(upstream).error().prefixed("config key cache.upstream"));
  cache::TierOptions tier_options;
  auto write = cache::parse_upstream_write(config.upstream_write);
  if (!write) return fail(std::move(write).error().prefixed("config key cache.upstream_write"));
  tier_options.write = *write;
  tier_options.queue.dir = store_options.dir / "upstream-queue";
  tier_options.queue.fsync = store_options.fsync;
  return cache::UpstreamTier::open(tier_options, std::move(*upstream));
}

}  // namespace forge::agent
