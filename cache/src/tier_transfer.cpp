#include "forge/cache/tier_transfer.h"

#include <atomic>
#include <functional>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "blob_record.h"
#include "forge/core/support/retry.h"

namespace forge::cache {
namespace {

// Action results are read into memory; no real one comes near this.
constexpr std::uint64_t k_max_action_size = 16ull << 20;

// One blob to pull: its SHA-256 and, when known, its size.
struct Wanted {
  hash::Digest sha256;
  std::optional<std::uint64_t> size;
  std::string text;  // as the caller named it, for the report
};

// What happened to one item of a batch (each worker writes only its own slot).
enum class Outcome : std::uint8_t { present, copied, missing, failed };
struct ItemResult {
  Outcome outcome = Outcome::failed;
  std::uint64_t bytes = 0;
  std::string failure;  // "what: why" when failed
};

// Runs fn(i) once for every i in [0, count), on up to `parallel` threads (joined on return).
void parallel_for(std::size_t count, std::size_t parallel,
                  const std::function<void(std::size_t)>& fn) {
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) fn(i);
  };
  std::vector<std::jthread> helpers;
  const std::size_t threads = std::min(std::max<std::size_t>(parallel, 1), count);
  for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
}

void add(TransferReport& report, TransferCounts& counts, const ItemResult& item) {
  switch (item.outcome) {
    case Outcome::present: ++counts.present; break;
    case Outcome::copied:
      ++counts.copied;
      counts.bytes += item.bytes;
      break;
    case Outcome::missing:
    case Outcome::failed:
      ++(item.outcome == Outcome::missing ? counts.missing : counts.failed);
      if (report.failures.size() < TransferReport::k_max_reported) {
        report.failures.push_back(item.failure);
      }
      break;
  }
}

ItemResult failed(std::string_view what, const Error& error) {
  return {Outcome::failed, 0, fmt::format("{}: {}", what, error.summary())};
}

// The keys of one of the store's LMDB databases, with their values decoded by `decode`.
template <typename T>
Result<std::vector<T>> read_index(CasStore& store, std::string_view database,
                                  const std::function<std::optional<T>(store::KeyValue)>& decode) {
  FORGE_TRY(store::Database db, store.environment().open_database(database));
  FORGE_TRY(store::ReadTxn txn, store.environment().begin_read());
  FORGE_TRY(store::Cursor cursor, txn.cursor(db));
  std::vector<T> items;
  FORGE_TRY(std::optional<store::KeyValue> entry, cursor.first());
  while (entry.has_value()) {
    // value_or, not *entry: clang-tidy's optional check cannot follow FORGE_TRY's
    // reassignment of `entry` around the loop.
    if (auto item = decode(entry.value_or(store::KeyValue{}))) {
      items.push_back(std::move(*item));
    }
    FORGE_TRY(entry, cursor.next());
  }
  return items;
}

Result<std::vector<BlobDigest>> local_blobs(CasStore& store) {
  return read_index<BlobDigest>(store, "blobs", [](store::KeyValue entry) {
    const auto record = BlobRecord::decode(entry.second);
    if (entry.first.size() != 32 || !record) return std::optional<BlobDigest>();
    const hash::Digest sha256(
        hash::Algorithm::sha256,
        std::span(reinterpret_cast<const std::uint8_t*>(entry.first.data()), 32));
    return std::optional<BlobDigest>(BlobDigest{sha256, record->size});
  });
}

// Uploads the local blob `value` under space/key.
ItemResult upload(CasStore& store, Upstream& upstream, const TransferOptions& options,
                  UpstreamSpace space, const std::string& key, const BlobDigest& value) {
  const std::string what = fmt::format("{}/{}", upstream_space_name(space), key);
  auto opened = store.open_blob(value, "");
  if (!opened) return failed(what, opened.error());
  const auto reader = std::move(opened).value();
  if (!reader) {
    return failed(what, Error(ErrorCategory::validation, "the local blob is gone (evicted)"));
  }
  const UploadBody body{
      .fd = reader->fd(), .size = reader->size(), .sha256_hex = value.sha256.hex()};
  auto put = support::retry(options.retry, [&] { return upstream.put(space, key, body); });
  if (!put) return failed(what, put.error());
  return {Outcome::copied, value.size, {}};
}

// Pushes `keys` (with their local values) that the upstream lacks, a batch at a time.
void push_batch(CasStore& store, Upstream& upstream, const TransferOptions& options,
                UpstreamSpace space, const std::vector<std::pair<std::string, BlobDigest>>& items,
                TransferReport& report, TransferCounts& counts) {
  for (std::size_t start = 0; start < items.size(); start += options.batch) {
    const std::size_t count = std::min(options.batch, items.size() - start);
    std::vector<ItemResult> results(count);
    parallel_for(count, options.parallel, [&](std::size_t i) {
      const auto& [key, value] = items[start + i];
      bool present = false;
      auto checked = support::retry(options.retry, [&]() -> Result<void> {
        FORGE_TRY(present, upstream.contains(space, key, value.size));
        return ok();
      });
      if (!checked) {
        results[i] = failed(fmt::format("{}/{}", upstream_space_name(space), key), checked.error());
      } else if (present) {
        results[i] = {Outcome::present, 0, {}};
      } else {
        results[i] = upload(store, upstream, options, space, key, value);
      }
    });
    for (const auto& result : results) add(report, counts, result);
  }
}

// Streams one blob from the upstream into the local store, verified before it is indexed.
ItemResult download(CasStore& store, Upstream& upstream, const TransferOptions& options,
                    const Wanted& wanted) {
  auto local = store.find(wanted.sha256);
  if (!local) return failed(wanted.text, local.error());
  if (*local) return {Outcome::present, 0, {}};
  const std::string hex = wanted.sha256.hex();
  bool hit = false;
  std::uint64_t bytes = 0;
  auto fetched = support::retry(options.retry, [&]() -> Result<void> {
    FORGE_TRY(auto writer, wanted.size ? store.begin_put(BlobDigest{wanted.sha256, *wanted.size})
                                       : store.begin_put_expecting_hash(wanted.sha256));
    const BodySink sink = [&](std::span<const std::byte> data) { return writer.write(data); };
    FORGE_TRY(hit, upstream.get(UpstreamSpace::cas, hex, sink, wanted.size));
    if (!hit) return ok();  // the writer's destructor removes its temp file
    auto committed = writer.commit();
    if (!committed) {
      if (committed.error().category() != ErrorCategory::validation) {
        return fail(std::move(committed).error());
      }
      // Corrupt or truncated bytes: nothing was indexed; another attempt may get good ones.
      return fail(Error(ErrorCategory::network,
                        fmt::format("{} answered bytes that do not match the digest ({})",
                                    upstream.describe(), committed.error().summary()),
                        EBADMSG)
                      .with_suggestion("run the upstream's own verify; nothing was stored"));
    }
    bytes = committed->size;
    return ok();
  });
  if (!fetched) return failed(wanted.text, fetched.error());
  if (!hit) return {Outcome::missing, 0, fmt::format("{}: not in the upstream", wanted.text)};
  return {Outcome::copied, bytes, {}};
}

// Pulls `wanted`, a batch at a time; true when every one is now local.
bool pull_blobs(CasStore& store, Upstream& upstream, const TransferOptions& options,
                const std::vector<Wanted>& wanted, TransferReport& report) {
  bool complete = true;
  for (std::size_t start = 0; start < wanted.size(); start += options.batch) {
    const std::size_t count = std::min(options.batch, wanted.size() - start);
    std::vector<ItemResult> results(count);
    parallel_for(count, options.parallel, [&](std::size_t i) {
      results[i] = download(store, upstream, options, wanted[start + i]);
    });
    for (const auto& result : results) {
      report.blobs.checked++;
      add(report, report.blobs, result);
      complete =
          complete && (result.outcome == Outcome::present || result.outcome == Outcome::copied);
    }
  }
  return complete;
}

std::vector<Wanted> wanted_of(const std::vector<BlobDigest>& digests) {
  std::vector<Wanted> wanted;
  wanted.reserve(digests.size());
  for (const auto& digest : digests)
    wanted.push_back({digest.sha256, digest.size, digest.to_string()});
  return wanted;
}

Result<Wanted> parse_wanted(const std::string& text) {
  if (text.find('/') != std::string::npos) {
    FORGE_TRY(auto digest, parse_blob_digest(text));
    return Wanted{digest.sha256, digest.size, text};
  }
  auto sha256 = hash::Digest::parse(hash::Algorithm::sha256, text);
  if (!sha256) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("'{}' is not a blob digest", text.substr(0, 80)))
                    .with_suggestion("write HEX/SIZE (as `forge cache put` prints) or the 64 "
                                     "hex digits of its SHA-256"));
  }
  return Wanted{*sha256, std::nullopt, text};
}

// One entry: its value from the upstream, then (ac) its outputs, then the entry locally.
void pull_action(ActionCache& actions, Upstream& upstream, const TransferOptions& options,
                 Keyspace keyspace, const std::string& key, TransferReport& report) {
  report.actions.checked++;
  const UpstreamSpace space = upstream_space(keyspace);
  const std::string what = fmt::format("{}/{}", upstream_space_name(space), key);
  std::string value;
  bool hit = false;
  auto fetched = support::retry(options.retry, [&]() -> Result<void> {
    value.clear();
    const BodySink sink = [&](std::span<const std::byte> data) -> Result<void> {
      if (value.size() + data.size() > k_max_action_size) {
        return fail(Error(ErrorCategory::validation, "the action result is larger than 16 MiB"));
      }
      value.append(reinterpret_cast<const char*>(data.data()), data.size());
      return ok();
    };
    FORGE_TRY(hit, upstream.get(space, key, sink));
    return ok();
  });
  if (!fetched) return add(report, report.actions, failed(what, fetched.error()));
  if (!hit)
    return add(report, report.actions, {Outcome::missing, 0, what + ": not in the upstream"});
  if (keyspace == Keyspace::raw) {  // opaque: nothing to validate or pull with it
    auto stored = actions.put(Keyspace::raw, key, value);
    if (!stored) return add(report, report.actions, failed(what, stored.error()));
    return add(report, report.actions, {Outcome::copied, value.size(), {}});
  }
  auto outputs = referenced_digests(value);
  if (!outputs) return add(report, report.actions, failed(what, outputs.error()));
  bool complete = pull_blobs(actions.cas(), upstream, options, wanted_of(*outputs), report);
  // Output directories: each tree's files too (the tree itself is one of the outputs).
  auto trees = output_tree_digests(value);
  for (const auto& tree : trees ? *trees : std::vector<BlobDigest>{}) {
    auto content = actions.cas().get(tree, "");
    if (!content || !*content) continue;  // counted above as a missing or failed output
    auto files = tree_file_digests(**content);
    if (!files) return add(report, report.actions, failed(what, files.error()));
    complete = pull_blobs(actions.cas(), upstream, options, wanted_of(*files), report) && complete;
  }
  if (!complete) {
    return add(report, report.actions,
               failed(what, Error(ErrorCategory::validation,
                                  "some outputs could not be pulled; the entry was not stored")));
  }
  auto stored = actions.put(Keyspace::ac, key, value);
  if (!stored) return add(report, report.actions, failed(what, stored.error()));
  add(report, report.actions, {Outcome::copied, value.size(), {}});
}

}  // namespace

bool TransferReport::complete() const {
  return blobs.failed == 0 && blobs.missing == 0 && actions.failed == 0 && actions.missing == 0;
}

nlohmann::json TransferReport::to_json() const {
  const auto counts = [](const TransferCounts& c) {
    return nlohmann::json{{"checked", c.checked}, {"present", c.present}, {"copied", c.copied},
                          {"bytes", c.bytes},     {"missing", c.missing}, {"failed", c.failed},
                          {"skipped", c.skipped}};
  };
  return {{"blobs", counts(blobs)},
          {"actions", counts(actions)},
          {"complete", complete()},
          {"failures", failures}};
}

Result<TransferReport> push_to_upstream(ActionCache& actions, Upstream& upstream,
                                        const TransferOptions& options) {
  TransferReport report;
  CasStore& store = actions.cas();
  FORGE_TRY(auto blobs, local_blobs(store));
  std::vector<std::pair<std::string, BlobDigest>> items;
  items.reserve(blobs.size());
  for (const auto& blob : blobs) items.emplace_back(blob.sha256.hex(), blob);
  report.blobs.checked = items.size();
  push_batch(store, upstream, options, UpstreamSpace::cas, items, report, report.blobs);

  // Action entries after every blob: the upstream never holds a result before its outputs.
  // Each keyspace goes to its own upstream space (upstream.h).
  for (const Keyspace keyspace : {Keyspace::ac, Keyspace::raw}) {
    items.clear();
    FORGE_TRY(auto keys,
              read_index<std::string>(store, keyspace_name(keyspace), [](store::KeyValue entry) {
                return std::optional<std::string>(entry.first);
              }));
    for (const auto& key : keys) {
      report.actions.checked++;
      // An ac entry whose outputs are gone locally is not a result to share.
      FORGE_TRY(auto value, actions.lookup(keyspace, key));
      if (value) {
        items.emplace_back(key, *value);
      } else {
        report.actions.skipped++;
      }
    }
    push_batch(store, upstream, options, upstream_space(keyspace), items, report, report.actions);
  }
  return report;
}

TransferReport push_blobs_to_upstream(CasStore& store, Upstream& upstream,
                                      std::span<const BlobDigest> blobs,
                                      const TransferOptions& options) {
  TransferReport report;
  std::vector<std::pair<std::string, BlobDigest>> items;
  items.reserve(blobs.size());
  for (const auto& blob : blobs) items.emplace_back(blob.sha256.hex(), blob);
  report.blobs.checked = items.size();
  push_batch(store, upstream, options, UpstreamSpace::cas, items, report, report.blobs);
  return report;
}

Result<TransferReport> pull_from_upstream(ActionCache& actions, Upstream& upstream,
                                          const PullRequest& request,
                                          const TransferOptions& options) {
  std::vector<Wanted> wanted;
  for (const auto& text : request.blobs) {
    FORGE_TRY(auto item, parse_wanted(text));
    wanted.push_back(std::move(item));
  }
  for (const auto& key : request.actions) FORGE_TRY_VOID(validate_key(key));
  for (const auto& key : request.raw) FORGE_TRY_VOID(validate_key(key));
  TransferReport report;
  pull_blobs(actions.cas(), upstream, options, wanted, report);
  for (const auto& key : request.actions) {
    pull_action(actions, upstream, options, Keyspace::ac, key, report);
  }
  for (const auto& key : request.raw) {
    pull_action(actions, upstream, options, Keyspace::raw, key, report);
  }
  return report;
}

}  // namespace forge::cache
