#include "forge/agent/agent_upstream.h"

#include <fmt/format.h>

#include "forge/cache/store_tier.h"

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
  // The write mode first, so its error names its own key.
  if (auto write = cache::parse_upstream_write(config.upstream_write); !write) {
    return fail(std::move(write).error().prefixed("config key cache.upstream_write"));
  }
  auto tier = cache::open_store_tier({.url = config.upstream,
                                      .write = config.upstream_write,
                                      .s3_endpoint = config.s3_endpoint,
                                      .s3_region = config.s3_region},
                                     store_options.dir, store_options.fsync);
  if (!tier) return fail(std::move(tier).error().prefixed("config key cache.upstream"));
  return tier;
}

}  // namespace forge::agent
