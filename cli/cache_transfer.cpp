#include "cache_transfer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "command.h"
#include "forge/cache/tier_transfer.h"

namespace forge::cli {
namespace {

int report(std::string_view action, const Error& error, int code) {
  fmt::print(stderr, "forge cache {}: {}\n", action, error.to_string());
  return code;
}

}  // namespace

int run_cache_transfer(const std::string& action, std::vector<std::string> tokens) {
  Args args(std::move(tokens));
  auto dir = args.option("dir");
  auto upstream_url = args.option("upstream");
  auto s3_endpoint = args.option("s3-endpoint");
  auto s3_region = args.option("s3-region");
  auto action_keys = args.options("action");
  auto raw_keys = args.options("raw");
  for (auto* option : {&dir, &upstream_url, &s3_endpoint, &s3_region}) {
    if (!*option) return report(action, option->error(), k_exit_usage);
  }
  if (!action_keys) return report(action, action_keys.error(), k_exit_usage);
  if (!raw_keys) return report(action, raw_keys.error(), k_exit_usage);
  const std::string valid = action == "pull"
                                ? "--dir, --upstream, --s3-endpoint, --s3-region, --action, --raw"
                                : "--dir, --upstream, --s3-endpoint, --s3-region";
  if (action == "push" && (!action_keys->empty() || !raw_keys->empty())) {
    return report(action,
                  Error(ErrorCategory::validation, "--action and --raw are for pull")
                      .with_suggestion("push sends every entry; drop --action"),
                  k_exit_usage);
  }
  if (auto done = args.finish(valid); !done) return report(action, done.error(), k_exit_usage);
  const auto positional = args.positional();
  if (action == "push" && !positional.empty()) {
    return report(action,
                  Error(ErrorCategory::validation,
                        fmt::format("unexpected argument '{}'", positional.front()))
                      .with_suggestion("push takes no arguments: it sends the whole store"),
                  k_exit_usage);
  }
  if (action == "pull" && positional.empty() && action_keys->empty() && raw_keys->empty()) {
    return report(
        action,
        Error(ErrorCategory::validation, "nothing to pull")
            .with_suggestion("give blob digests (HEX/SIZE), --action KEY and/or --raw KEY"),
        k_exit_usage);
  }

  // --upstream and --s3-* override the config's cache.* keys.
  const auto& config = effective_config().config;
  cache::UpstreamOptions upstream_options;
  upstream_options.url = upstream_url->value_or(config.cache.upstream);
  if (upstream_options.url.empty()) {
    return report(action,
                  Error(ErrorCategory::validation,
                        "no upstream to " + action + (action == "push" ? " to" : " from"))
                      .with_suggestion("give --upstream URL or set cache.upstream in the config"),
                  k_exit_usage);
  }
  if (upstream_options.url.starts_with("s3://")) {
    upstream_options.s3_endpoint = s3_endpoint->value_or(config.cache.s3_endpoint);
    upstream_options.s3_region = s3_region->value_or(config.cache.s3_region);
  } else if (*s3_endpoint || *s3_region) {
    return report(action,
                  Error(ErrorCategory::validation,
                        "--s3-endpoint and --s3-region need an s3:// "
                        "upstream")
                      .with_suggestion("drop them, or give --upstream s3://BUCKET[/PREFIX]"),
                  k_exit_usage);
  }
  auto upstream = cache::open_upstream(upstream_options);
  if (!upstream) return report(action, upstream.error(), k_exit_usage);

  cache::StoreOptions options;
  options.dir = *dir ? std::filesystem::path(**dir) : config.store_dir;
  options.background_eviction = false;
  auto store = cache::CasStore::open(options);
  if (!store) return report(action, store.error(), k_exit_failure);
  auto actions = cache::ActionCache::open(*store);
  if (!actions) return report(action, actions.error(), k_exit_failure);

  auto transferred =
      action == "push"
          ? cache::push_to_upstream(**actions, **upstream)
          : cache::pull_from_upstream(**actions, **upstream,
                                      cache::PullRequest{positional, *action_keys, *raw_keys});
  if (!transferred) {
    const bool bad_input = transferred.error().category() == ErrorCategory::validation;
    return report(action, transferred.error(), bad_input ? k_exit_usage : k_exit_failure);
  }
  fmt::print("{}\n", transferred->to_json().dump());
  for (const auto& failure : transferred->failures) {
    fmt::print(stderr, "forge cache {}: {}\n", action, failure);
  }
  return transferred->complete() ? k_exit_ok : k_exit_failure;
}

}  // namespace forge::cli
