#include "forge/cache/store_tier.h"

namespace forge::cache {

Result<std::shared_ptr<UpstreamTier>> open_store_tier(const StoreTierSettings& settings,
                                                      const std::filesystem::path& store_dir,
                                                      bool fsync) {
  UpstreamOptions upstream_options;
  upstream_options.url = settings.url;
  upstream_options.s3_endpoint = settings.s3_endpoint;
  upstream_options.s3_region = settings.s3_region;
  FORGE_TRY(auto upstream, open_upstream(upstream_options));
  TierOptions tier_options;
  if (!settings.write.empty()) {
    FORGE_TRY(tier_options.write, parse_upstream_write(settings.write));
  }
  tier_options.queue.dir = store_dir / "upstream-queue";
  tier_options.queue.fsync = fsync;
  return UpstreamTier::open(tier_options, std::move(upstream));
}

}  // namespace forge::cache
