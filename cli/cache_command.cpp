// `forge cache put|get|stat`: the content-addressed store from the command line.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "cache_transfer.h"
#include "command.h"
#include "forge/cache/cas_store.h"
#include "forge/core/support/unique_fd.h"

namespace forge::cli {
namespace {

constexpr std::string_view k_usage =
    "usage: forge cache put FILE... [--dir STORE]\n"
    "       forge cache get HEX/SIZE [-o FILE | --output FILE] [--dir STORE]\n"
    "       forge cache stat [--dir STORE]\n"
    "       forge cache gc [--max-size SIZE] [--dir STORE]\n"
    "       forge cache verify [--dir STORE]\n"
    "       forge cache push [--upstream URL] [--s3-endpoint URL] [--s3-region R] [--dir STORE]\n"
    "       forge cache pull DIGEST... [--action KEY]... [--raw KEY]... [--upstream URL]\n"
    "                        [--s3-endpoint URL] [--s3-region R] [--dir STORE]\n\n"
    "put:    stores each FILE (streamed, hashed, fsync'ed, renamed into place) and prints\n"
    "        `HEX/SIZE  FILE`.\n"
    "get:    writes the blob to stdout or FILE; exit 1 when it is not in the store or its\n"
    "        content on disk is corrupt (nothing is written; the blob is quarantined).\n"
    "stat:   entries and bytes as JSON.\n"
    "gc:     removes least recently used blobs until the store holds at most SIZE bytes\n"
    "        (e.g. 10G; default: the config's cache.max_size); prints what it removed as JSON.\n"
    "verify: re-hashes every blob, quarantines corrupt ones, indexes orphans, drops\n"
    "        entries whose file is gone, recomputes totals; prints the report as JSON.\n"
    "push:   uploads every blob and action-cache entry of the store that the upstream lacks\n"
    "        (existence checked in batches; entries after their outputs).\n"
    "pull:   downloads each DIGEST (HEX/SIZE or HEX), each --action KEY with its outputs and\n"
    "        each raw entry --raw KEY into the store; every blob's digest is checked before\n"
    "        it becomes visible.\n"
    "        push/pull print counts and bytes as JSON; exit 1 unless everything arrived.\n"
    "        URL: --upstream, else the config's cache.upstream (and cache.s3_*): http(s)://,\n"
    "        s3://BUCKET[/PREFIX] or grpc(s)://HOST:PORT[/INSTANCE] (see forge serve --help).\n"
    "STORE defaults to the config's store_dir, else $XDG_CACHE_HOME/forge (~/.cache/forge).";

int report(const Error& error, int code) {
  fmt::print(stderr, "forge cache: {}\n", error.to_string());
  return code;
}

int run(std::vector<std::string> tokens) {
  static const std::set<std::string, std::less<>> k_actions{"put",    "get",  "stat", "gc",
                                                            "verify", "push", "pull"};
  if (tokens.empty() || k_actions.count(tokens[0]) == 0) {
    fmt::print(stderr, "{}\n", k_usage);
    return k_exit_usage;
  }
  const std::string action = tokens[0];
  if (action == "push" || action == "pull") {
    return run_cache_transfer(action, std::vector<std::string>(tokens.begin() + 1, tokens.end()));
  }
  for (auto& token : tokens) {
    if (token == "-o") token = "--output";
  }
  Args args(std::vector<std::string>(tokens.begin() + 1, tokens.end()));
  auto dir = args.option("dir");
  auto output = args.option("output");
  auto max_size = args.option("max-size");
  if (!dir || !output || !max_size) {
    return report(!dir ? dir.error() : !output ? output.error() : max_size.error(), k_exit_usage);
  }
  if (auto done = args.finish("--dir, -o/--output, --max-size"); !done)
    return report(done.error(), k_exit_usage);
  const auto positional = args.positional();

  cache::StoreOptions options;
  options.dir = *dir ? std::filesystem::path(**dir) : effective_config().config.store_dir;
  options.background_eviction = false;
  std::optional<std::uint64_t> target_bytes;
  if (action == "gc") {
    // --max-size, else the config's cache.max_size (what `forge serve` keeps the store to).
    if (*max_size) {
      auto parsed = parse_byte_size(**max_size, "--max-size");
      if (!parsed) return report(parsed.error(), k_exit_usage);
      target_bytes = *parsed;
    } else {
      target_bytes = effective_config().config.cache.max_size;
    }
    if (!target_bytes) {
      fmt::print(stderr,
                 "forge cache gc: give --max-size SIZE (e.g. 10G) or set cache.max_size in the "
                 "config\n\n{}\n",
                 k_usage);
      return k_exit_usage;
    }
  }
  auto store = cache::CasStore::open(options);
  if (!store) return report(store.error(), k_exit_failure);

  if (action == "gc") {
    auto evicted = (*store)->evict_now(target_bytes);
    if (!evicted) return report(evicted.error(), k_exit_failure);
    auto stats = (*store)->stats();
    if (!stats) return report(stats.error(), k_exit_failure);
    fmt::print("{}\n", nlohmann::json{{"evicted", evicted->evicted},
                                      {"bytes_freed", evicted->bytes_freed},
                                      {"skipped_in_use", evicted->skipped_pinned},
                                      {"entries", stats->entries},
                                      {"bytes", stats->bytes}}
                           .dump());
    return k_exit_ok;
  }
  if (action == "verify") {
    auto verified = (*store)->verify();
    if (!verified) return report(verified.error(), k_exit_failure);
    fmt::print("{}\n", nlohmann::json{{"checked", verified->checked},
                                      {"orphans_indexed", verified->orphans_indexed},
                                      {"missing_dropped", verified->missing_dropped},
                                      {"quarantined", verified->quarantined},
                                      {"unreadable_shards", verified->unreadable_shards},
                                      {"entries", verified->entries},
                                      {"bytes", verified->bytes}}
                           .dump());
    // Exit 1 when corruption was found, so scripts notice; the store is repaired either way.
    return verified->quarantined == 0 ? k_exit_ok : k_exit_failure;
  }

  if (action == "stat") {
    auto stats = (*store)->stats();
    if (!stats) return report(stats.error(), k_exit_failure);
    fmt::print("{}\n", nlohmann::json{{"dir", options.dir.string()},
                                      {"entries", stats->entries},
                                      {"bytes", stats->bytes}}
                           .dump());
    return k_exit_ok;
  }
  if (action == "put") {
    if (positional.empty()) {
      fmt::print(stderr, "forge cache put: no FILE given\n\n{}\n", k_usage);
      return k_exit_usage;
    }
    int failures = 0;
    for (const auto& file : positional) {
      auto digest = (*store)->put_file(file);
      if (!digest) {
        ++failures;
        fmt::print(stderr, "forge cache: {}\n", digest.error().summary());
        continue;
      }
      fmt::print("{}  {}\n", digest->to_string(), file);
    }
    return failures == 0 ? k_exit_ok : k_exit_failure;
  }
  if (positional.size() != 1) {
    fmt::print(stderr, "forge cache get: give exactly one HEX/SIZE\n\n{}\n", k_usage);
    return k_exit_usage;
  }
  auto digest = cache::parse_blob_digest(positional[0]);
  if (!digest) return report(digest.error(), k_exit_usage);
  auto reader = (*store)->open_blob(*digest);
  if (!reader) return report(reader.error(), k_exit_failure);
  if (!*reader) {
    fmt::print(stderr, "forge cache: {} is not in {}\n", digest->to_string(), options.dir.string());
    return k_exit_failure;
  }
  // Checked before the first byte goes out: a corrupt blob writes nothing (it is
  // quarantined, so the next put of it stores a good copy).
  if (auto checked = (*reader)->verify_all(); !checked) {
    return report(checked.error(), k_exit_failure);
  }
  // Stream in pieces of at most 1 MiB: memory stays bounded whatever the blob size; checked again
  // on the way (the output file is removed if this pass finds the blob changed).
  auto check = (*reader)->verifier();
  UniqueFd file;
  if (*output) {
    file = UniqueFd(::open((*output)->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!file.valid()) return report(Error::from_errno(errno, "open", **output), k_exit_failure);
  }
  const int out = *output ? file.get() : STDOUT_FILENO;
  std::vector<std::byte> buffer(cache::copy_buffer_size((*reader)->size()));
  std::uint64_t offset = 0;
  Result<void> copied = ok();
  while (copied && offset < (*reader)->size()) {
    auto n = (*reader)->read(offset, buffer);
    if (!n || *n == 0) {
      copied = n ? fail(Error(ErrorCategory::file_system,
                              fmt::format("blob {} is shorter on disk than indexed",
                                          digest->to_string()))
                            .with_suggestion("run `forge cache verify` to repair the store"))
                 : fail(std::move(n).error());
      break;
    }
    check.update(std::span(buffer).first(*n));
    for (std::size_t done = 0; done < *n;) {
      const ssize_t w = ::write(out, buffer.data() + done, *n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        copied = fail(Error::from_errno(errno, "write", output->value_or("stdout")));
        break;
      }
      done += static_cast<std::size_t>(w);
    }
    offset += *n;
  }
  if (file.valid() && ::close(file.release()) != 0 && copied) {
    copied = fail(Error::from_errno(errno, "close", **output));
  }
  if (copied) copied = check.finish();
  if (!copied) {
    if (out != STDOUT_FILENO) ::unlink((*output)->c_str());
    return report(copied.error(), k_exit_failure);
  }
  return k_exit_ok;
}

const CommandRegistration k_registration{Command{
    .name = "cache",
    .summary = "put files into the content-addressed store, get them back, stat, gc, verify, "
               "push to and pull from an upstream",
    .usage = k_usage,
    .run = run,
}};

}  // namespace
}  // namespace forge::cli
