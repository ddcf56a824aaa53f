#include "forge/cache/upload_queue.h"

#include <cstring>

#include <fmt/format.h>

#include "forge/core/store/encoding.h"
#include "forge/core/support/clock.h"

namespace forge::cache {
namespace {

using store::get_be64;
using store::put_be64;
using store::put_le;

// Reads a T at a fixed offset (the record layout is fixed; the caller checked the size).
template <typename T>
T le_at(std::string_view bytes, std::size_t offset) {
  return store::get_le<T>(bytes, offset);
}

std::string seq_key(std::uint64_t seq) {
  std::string key;
  put_be64(key, seq);
  return key;
}

std::string name_key(UpstreamSpace space, std::string_view key) {
  std::string out(1, static_cast<char>(space));
  out.append(key);
  return out;
}

std::string raw_sha(const hash::Digest& digest) {
  const auto bytes = digest.bytes();
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string encode(const QueueEntry& entry) {
  std::string out;
  // Version 1 for the spaces it knew, so a Forge that predates the raw space still drains
  // a queue holding only cas and ac entries.
  out.push_back(static_cast<char>(entry.space == UpstreamSpace::raw ? k_upload_queue_version
                                                                    : std::uint8_t{1}));
  out.push_back(static_cast<char>(entry.space));
  put_le<std::int64_t>(out, entry.enqueued_ns);
  put_le<std::uint32_t>(out, entry.attempts);
  out += raw_sha(entry.value.sha256);
  put_le<std::uint64_t>(out, entry.value.size);
  out += entry.key;
  return out;
}

Result<QueueEntry> decode(std::string_view seq, std::string_view value) {
  const auto version = static_cast<std::uint8_t>(value.empty() ? 0 : value[0]);
  const auto space = static_cast<std::uint8_t>(value.size() < 2 ? 0xff : value[1]);
  // Version 1 knows spaces 0 (cas) and 1 (ac); version 2 adds 2 (raw).
  const std::uint8_t max_space = version == 1 ? 1 : 2;
  if (value.size() < k_queue_record_header || version < 1 || version > k_upload_queue_version ||
      space > max_space) {
    return fail(
        Error(ErrorCategory::validation,
              fmt::format("upload queue record of {} bytes has an unknown format", value.size()))
            .with_suggestion("this queue was written by another Forge version; drain it "
                             "with that version or remove the upstream-queue directory"));
  }
  QueueEntry entry;
  entry.seq = get_be64(seq);
  entry.space = static_cast<UpstreamSpace>(space);
  entry.enqueued_ns = le_at<std::int64_t>(value, 2);
  entry.attempts = le_at<std::uint32_t>(value, 10);
  const auto* raw = reinterpret_cast<const std::uint8_t*>(value.data() + 14);
  entry.value.sha256 = hash::Digest(hash::Algorithm::sha256, std::span(raw, 32));
  entry.value.size = le_at<std::uint64_t>(value, 46);
  entry.key = std::string(value.substr(k_queue_record_header));
  return entry;
}

}  // namespace

Result<std::unique_ptr<UploadQueue>> UploadQueue::open(const UploadQueueOptions& options) {
  store::EnvOptions env_options;
  env_options.dir = options.dir;
  // The queue is small next to the index: 1 GiB of address space holds millions of entries.
  env_options.initial_map_size = 1ull << 30;
  env_options.sync = options.fsync;
  FORGE_TRY(auto env, store::Environment::open(env_options));
  std::unique_ptr<UploadQueue> queue(new UploadQueue(options, std::move(env)));
  FORGE_TRY(queue->m_queue, queue->m_env.open_database("queue"));
  FORGE_TRY(queue->m_keys, queue->m_env.open_database("keys"));
  FORGE_TRY(queue->m_blobs, queue->m_env.open_database("blobs"));
  FORGE_TRY(queue->m_meta, queue->m_env.open_database("meta"));
  return queue;
}

Result<Pushed> UploadQueue::push(UpstreamSpace space, std::string_view key,
                                 const BlobDigest& value) {
  Pushed outcome = Pushed::added;
  const std::int64_t now = now_ns();
  FORGE_TRY_VOID(m_env.write([&](store::WriteTxn& txn) -> Result<void> {
    const std::string name = name_key(space, key);
    FORGE_TRY(auto existing, txn.get(m_keys, name));
    if (existing) {
      outcome = Pushed::already_queued;
      return ok();
    }
    FORGE_TRY(auto length, txn.count(m_queue));
    if (length >= m_options.max_entries) {
      outcome = Pushed::full;
      return ok();
    }
    outcome = Pushed::added;
    FORGE_TRY(auto next_text, txn.get(m_meta, "next_seq"));
    const std::uint64_t seq =
        next_text && next_text->size() == 8 ? le_at<std::uint64_t>(*next_text, 0) : 1;
    std::string next;
    put_le<std::uint64_t>(next, seq + 1);
    FORGE_TRY_VOID(txn.put(m_meta, "next_seq", next));
    QueueEntry entry{
        .seq = seq, .space = space, .key = std::string(key), .value = value, .enqueued_ns = now};
    FORGE_TRY_VOID(txn.put(m_queue, seq_key(seq), encode(entry)));
    FORGE_TRY_VOID(txn.put(m_keys, name, seq_key(seq)));
    const std::string sha = raw_sha(value.sha256);
    FORGE_TRY(auto count_text, txn.get(m_blobs, sha));
    std::string count;
    put_le<std::uint32_t>(
        count,
        (count_text && count_text->size() == 4 ? le_at<std::uint32_t>(*count_text, 0) : 0) + 1);
    return txn.put(m_blobs, sha, count);
  }));
  return outcome;
}

Result<std::vector<QueueEntry>> UploadQueue::peek(std::size_t max) const {
  std::vector<QueueEntry> entries;
  FORGE_TRY(auto txn, m_env.begin_read());
  FORGE_TRY(auto cursor, txn.cursor(m_queue));
  FORGE_TRY(auto item, cursor.first());
  while (item && entries.size() < max) {
    FORGE_TRY(auto entry, decode(item->first, item->second));
    entries.push_back(std::move(entry));
    FORGE_TRY(item, cursor.next());
  }
  return entries;
}

Result<void> UploadQueue::remove(const QueueEntry& entry) {
  return m_env.write([&](store::WriteTxn& txn) -> Result<void> {
    FORGE_TRY(auto erased, txn.erase(m_queue, seq_key(entry.seq)));
    if (!erased) return ok();
    const std::string name = name_key(entry.space, entry.key);
    FORGE_TRY(auto current, txn.get(m_keys, name));
    if (current && get_be64(*current) == entry.seq) {
      FORGE_TRY(auto erased_key, txn.erase(m_keys, name));
      (void)erased_key;
    }
    const std::string sha = raw_sha(entry.value.sha256);
    FORGE_TRY(auto count_text, txn.get(m_blobs, sha));
    const std::uint32_t count =
        count_text && count_text->size() == 4 ? le_at<std::uint32_t>(*count_text, 0) : 0;
    if (count <= 1) {
      FORGE_TRY(auto erased_blob, txn.erase(m_blobs, sha));
      (void)erased_blob;
      return ok();
    }
    std::string text;
    put_le<std::uint32_t>(text, count - 1);
    return txn.put(m_blobs, sha, text);
  });
}

Result<void> UploadQueue::record_attempt(const QueueEntry& entry) {
  return m_env.write([&](store::WriteTxn& txn) -> Result<void> {
    FORGE_TRY(auto stored, txn.get(m_queue, seq_key(entry.seq)));
    if (!stored) return ok();
    FORGE_TRY(auto current, decode(seq_key(entry.seq), *stored));
    ++current.attempts;
    return txn.put(m_queue, seq_key(entry.seq), encode(current));
  });
}

Result<bool> UploadQueue::needs_blob(const hash::Digest& sha256) const {
  FORGE_TRY(auto txn, m_env.begin_read());
  FORGE_TRY(auto count, txn.get(m_blobs, raw_sha(sha256)));
  return count.has_value();
}

Result<QueueStats> UploadQueue::stats() const {
  QueueStats stats;
  FORGE_TRY(auto txn, m_env.begin_read());
  FORGE_TRY(stats.length, txn.count(m_queue));
  FORGE_TRY(auto cursor, txn.cursor(m_queue));
  FORGE_TRY(auto first, cursor.first());
  if (first) {
    FORGE_TRY(auto entry, decode(first->first, first->second));
    stats.oldest_enqueued_ns = entry.enqueued_ns;
  }
  return stats;
}

}  // namespace forge::cache
