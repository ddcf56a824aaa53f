#include "forge/cache/action_cache.h"
#include "forge/core/support/clock.h"

#include <chrono>

#include <fmt/format.h>

#include "forge/core/store/encoding.h"
#include "forge/core/support/metrics.h"

namespace forge::cache {
namespace {

// --- a minimal protobuf wire-format reader: just enough to find digests ------------------
// REAPI v2 field numbers (build/bazel/remote/execution/v2/remote_execution.proto):
constexpr std::uint32_t k_action_result_output_files = 2;
constexpr std::uint32_t k_action_result_output_directories = 3;
constexpr std::uint32_t k_action_result_stdout_digest = 6;
constexpr std::uint32_t k_action_result_stderr_digest = 8;
constexpr std::uint32_t k_output_file_digest = 2;
constexpr std::uint32_t k_output_directory_tree_digest = 3;
constexpr std::uint32_t k_digest_hash = 1;
constexpr std::uint32_t k_digest_size_bytes = 2;

enum class WireType : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

struct Field {
  std::uint32_t number = 0;
  WireType type = WireType::varint;
  std::uint64_t varint = 0;
  std::string_view bytes;  // length-delimited payload
};

Error malformed(std::string_view what) {
  return Error(ErrorCategory::validation, fmt::format("malformed ActionResult: {}", what))
      .with_suggestion(
          "send a serialized build.bazel.remote.execution.v2.ActionResult, or use "
          "the unvalidated raw keyspace for opaque values");
}

class WireReader {
 public:
  explicit WireReader(std::string_view data) : m_data(data) {}
  bool done() const { return m_pos >= m_data.size(); }

  Result<Field> next() {
    Field field;
    FORGE_TRY(std::uint64_t tag, varint());
    field.number = static_cast<std::uint32_t>(tag >> 3);
    if (field.number == 0) return fail(malformed("field number 0"));
    switch (tag & 7) {
      case 0: {
        field.type = WireType::varint;
        FORGE_TRY(field.varint, varint());
        return field;
      }
      case 1: {
        field.type = WireType::fixed64;
        FORGE_TRY_VOID(skip(8));
        return field;
      }
      case 2: {
        field.type = WireType::length_delimited;
        FORGE_TRY(std::uint64_t length, varint());
        if (length > m_data.size() - m_pos) return fail(malformed("truncated field"));
        field.bytes = m_data.substr(m_pos, length);
        m_pos += length;
        return field;
      }
      case 5: {
        field.type = WireType::fixed32;
        FORGE_TRY_VOID(skip(4));
        return field;
      }
      default: return fail(malformed(fmt::format("unsupported wire type {}", tag & 7)));
    }
  }

 private:
  Result<std::uint64_t> varint() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (m_pos >= m_data.size()) return fail(malformed("truncated varint"));
      const auto byte = static_cast<unsigned char>(m_data[m_pos++]);
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return fail(malformed("varint longer than 10 bytes"));
  }
  Result<void> skip(std::size_t n) {
    if (n > m_data.size() - m_pos) return fail(malformed("truncated fixed-width field"));
    m_pos += n;
    return ok();
  }
  std::string_view m_data;
  std::size_t m_pos = 0;
};

Result<BlobDigest> decode_digest(std::string_view message) {
  WireReader reader(message);
  std::string_view hash;
  std::uint64_t size = 0;
  while (!reader.done()) {
    FORGE_TRY(Field field, reader.next());
    if (field.number == k_digest_hash && field.type == WireType::length_delimited) {
      hash = field.bytes;
    } else if (field.number == k_digest_size_bytes && field.type == WireType::varint) {
      size = field.varint;
    }
  }
  return parse_blob_digest(hash, size);
}

// The digest in field `number` of a nested message (absent → nullopt).
Result<std::optional<BlobDigest>> nested_digest(std::string_view message, std::uint32_t number) {
  WireReader reader(message);
  std::optional<BlobDigest> found;
  while (!reader.done()) {
    FORGE_TRY(Field field, reader.next());
    if (field.number == number && field.type == WireType::length_delimited) {
      FORGE_TRY(found, decode_digest(field.bytes));
    }
  }
  return found;
}

std::string encode_entry(const BlobDigest& value) {
  std::string out;
  out.reserve(k_ac_entry_size);
  out.push_back(static_cast<char>(k_ac_entry_version));
  const auto bytes = value.sha256.bytes();
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  store::put_le(out, value.size);
  store::put_le(out, now_ns());
  return out;
}

std::optional<BlobDigest> decode_entry(std::string_view bytes) {
  if (bytes.size() != k_ac_entry_size ||
      static_cast<std::uint8_t>(bytes[0]) != k_ac_entry_version) {
    return std::nullopt;  // unknown version: a miss, and the next put replaces it
  }
  const hash::Digest sha256(hash::Algorithm::sha256,
                            std::span(reinterpret_cast<const std::uint8_t*>(bytes.data() + 1), 32));
  std::size_t offset = 33;
  return BlobDigest{sha256, store::get_le<std::uint64_t>(bytes, offset)};
}

void count_lookup(Keyspace keyspace, bool hit) {
  support::Metrics::global().counter(hit ? "cache_hits" : "cache_misses").add();
  support::Metrics::global()
      .counter(fmt::format("{}{{keyspace=\"{}\"}}", hit ? "cache_hits" : "cache_misses",
                           keyspace_name(keyspace)))
      .add();
}

}  // namespace

std::string_view keyspace_name(Keyspace keyspace) {
  return keyspace == Keyspace::ac ? "ac" : "raw";
}

Result<std::vector<BlobDigest>> referenced_digests(std::string_view action_result) {
  std::vector<BlobDigest> digests;
  WireReader reader(action_result);
  while (!reader.done()) {
    FORGE_TRY(Field field, reader.next());
    if (field.type != WireType::length_delimited) continue;
    std::optional<BlobDigest> digest;
    switch (field.number) {
      case k_action_result_output_files: {
        FORGE_TRY(digest, nested_digest(field.bytes, k_output_file_digest));
        break;
      }
      case k_action_result_output_directories: {
        FORGE_TRY(digest, nested_digest(field.bytes, k_output_directory_tree_digest));
        break;
      }
      case k_action_result_stdout_digest:
      case k_action_result_stderr_digest: {
        FORGE_TRY(BlobDigest d, decode_digest(field.bytes));
        digest = d;
        break;
      }
      default: break;
    }
    if (digest) digests.push_back(*digest);
  }
  return digests;
}

Result<void> validate_key(std::string_view key) {
  if (key.empty() || key.size() > 256) {
    return fail(
        Error(ErrorCategory::validation,
              fmt::format("action cache key has {} characters; 1 to 256 are allowed", key.size()))
            .with_suggestion("use the action digest's 64 hex characters as the key"));
  }
  for (char c : key) {
    const bool allowed = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                         (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-';
    if (!allowed) {
      return fail(Error(ErrorCategory::validation,
                        fmt::format("action cache key '{}' contains '{}'", key.substr(0, 80),
                                    static_cast<unsigned char>(c) < 32 ? '?' : c))
                      .with_suggestion("keys use only [0-9A-Za-z._-]"));
    }
  }
  return ok();
}

Result<std::shared_ptr<ActionCache>> ActionCache::open(std::shared_ptr<CasStore> cas,
                                                       ActionCacheOptions options) {
  auto cache = std::shared_ptr<ActionCache>(new ActionCache(std::move(cas), options));
  FORGE_TRY(cache->m_ac, cache->m_cas->environment().open_database("ac"));
  FORGE_TRY(cache->m_raw, cache->m_cas->environment().open_database("raw"));
  return cache;
}

Result<std::optional<BlobDigest>> ActionCache::lookup(Keyspace keyspace,
                                                      std::string_view key) const {
  FORGE_TRY_VOID(validate_key(key));
  std::optional<BlobDigest> value;
  {
    FORGE_TRY(store::ReadTxn txn, m_cas->environment().begin_read());
    FORGE_TRY(auto entry, txn.get(db(keyspace), key));
    if (entry) value = decode_entry(*entry);
  }
  auto miss = [&] {
    count_lookup(keyspace, false);
    return std::optional<BlobDigest>();
  };
  if (!value) return miss();
  FORGE_TRY(bool present, m_cas->contains(*value));
  if (!present) return miss();  // the value itself was evicted
  if (validated(keyspace)) {
    FORGE_TRY(auto content, m_cas->get(*value, /*keyspace=*/{}));
    if (!content) return miss();
    auto referenced = referenced_digests(*content);
    if (!referenced) return miss();  // stored before validation was on: never serve junk
    FORGE_TRY(auto missing, m_cas->find_missing(*referenced));
    if (!missing.empty()) return miss();
  }
  count_lookup(keyspace, true);
  return value;
}

Result<std::optional<std::string>> ActionCache::get(Keyspace keyspace, std::string_view key) const {
  FORGE_TRY(auto value, lookup(keyspace, key));
  if (!value) return std::optional<std::string>();
  return m_cas->get(*value, /*keyspace=*/{});
}

Result<BlobDigest> ActionCache::put(Keyspace keyspace, std::string_view key,
                                    std::string_view value) {
  FORGE_TRY_VOID(validate_key(key));
  if (keyspace == Keyspace::ac) FORGE_TRY_VOID(referenced_digests(value));
  FORGE_TRY(BlobDigest digest, m_cas->put(std::as_bytes(std::span(value.data(), value.size()))));
  FORGE_TRY_VOID(put_digest(keyspace, key, digest));
  return digest;
}

Result<void> ActionCache::put_digest(Keyspace keyspace, std::string_view key,
                                     const BlobDigest& value) {
  FORGE_TRY_VOID(validate_key(key));
  const std::string entry = encode_entry(value);
  return m_cas->environment().write(
      [&](store::WriteTxn& txn) { return txn.put(db(keyspace), key, entry); });
}

}  // namespace forge::cache
