#pragma once
// ActionCache: the two key -> value keyspaces beside the CAS.
//
//   ac   values are serialized REAPI v2 ActionResult messages. An entry is served only when
//        every blob it references (output files, output directory trees and every file
//        inside each tree, stdout, stderr) is in the CAS and the value and trees read back
//        intact; otherwise the lookup is a miss, never a broken hit. A hit counts as a use
//        of everything it references (LRU), so eviction removes whole results.
//   raw  opaque values (ccache's, Gradle's and Turborepo's entries). Never validated.
//
// Values are stored as CAS blobs (so they stream, are evicted by the same LRU and are
// verified by the same `verify`); the keyspace databases map a key to the value's
// BlobDigest. A value whose blob was evicted is a miss.
//
// Keys: 1 to 256 characters from [0-9A-Za-z._-] (Bazel and ccache send 64 hex digits).
// LMDB databases "ac" and "raw" in the CasStore's environment; value encoding:
//   u8 version (k_ac_entry_version) | 32 B sha256 | u64 LE size | i64 LE updated_ns
// With an upstream tier behind the CAS (CasStore::attach_upstream), a key missing here is
// asked of the upstream (its entry is stored here, then validated like a local one: every
// referenced blob must be in some tier) and every put is handed to the upstream (`ac` to the
// upstream's ac space, `raw` to its raw space: upstream.h). See upstream_tier.h.
// Thread-safe, like CasStore.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "forge/cache/cas_store.h"

namespace forge::cache {

enum class Keyspace : std::uint8_t { ac, raw };
// Declared in upstream.h.
enum class UpstreamSpace : std::uint8_t;
std::string_view keyspace_name(Keyspace keyspace);  // "ac" / "raw"
// Where a keyspace's entries live in an upstream: ac -> UpstreamSpace::ac, raw -> raw.
UpstreamSpace upstream_space(Keyspace keyspace);

inline constexpr std::uint8_t k_ac_entry_version = 1;
inline constexpr std::size_t k_ac_entry_size = 1 + 32 + 8 + 8;
static_assert(k_ac_entry_size == 49, "ac entry layout changed: bump k_ac_entry_version");

// Every CAS digest an ActionResult references: OutputFile.digest, OutputDirectory.tree_digest,
// stdout_digest, stderr_digest (REAPI v2 field numbers). Malformed protobuf → Validation.
Result<std::vector<BlobDigest>> referenced_digests(std::string_view action_result);
// The OutputDirectory.tree_digest of every output directory of an ActionResult.
Result<std::vector<BlobDigest>> output_tree_digests(std::string_view action_result);
// Every FileNode digest inside a serialized REAPI v2 Tree (root and children). Malformed
// protobuf, or a FileNode without a digest -> Validation.
Result<std::vector<BlobDigest>> tree_file_digests(std::string_view tree);

struct ActionCacheOptions {
  bool validate_ac = true;    // false: ac entries are served without checking the CAS
  bool validate_raw = false;  // raw values are opaque: there is nothing to check
};

// Checks a key; the error says which character or length is wrong.
Result<void> validate_key(std::string_view key);

class ActionCache {
 public:
  static Result<std::shared_ptr<ActionCache>> open(std::shared_ptr<CasStore> cas,
                                                   ActionCacheOptions options = {});

  // The value's digest, or nullopt on a miss (absent, value evicted, or — for validated
  // keyspaces — a referenced blob missing or the value not a valid ActionResult).
  Result<std::optional<BlobDigest>> lookup(Keyspace keyspace, std::string_view key) const;
  // lookup + read the value into memory (values are small; stream big ones with
  // lookup + CasStore::open_blob).
  Result<std::optional<std::string>> get(Keyspace keyspace, std::string_view key) const;
  // get, not counted as a hit or a miss: for data that rides along with an entry already
  // counted (the signature tag of a Turborepo artifact). Asks the upstream tier like get.
  Result<std::optional<std::string>> get_uncounted(Keyspace keyspace, std::string_view key) const;
  // Stores value in the CAS, then points key at it. In ac, the value must decode as an
  // ActionResult (Validation error otherwise); referenced blobs may arrive later.
  Result<BlobDigest> put(Keyspace keyspace, std::string_view key, std::string_view value);
  // Points key at a value already committed to the CAS (a streamed upload).
  Result<void> put_digest(Keyspace keyspace, std::string_view key, const BlobDigest& value);

  CasStore& cas() { return *m_cas; }
  const ActionCacheOptions& options() const { return m_options; }

 private:
  Result<std::optional<BlobDigest>> lookup(Keyspace keyspace, std::string_view key,
                                           bool counted) const;
  // A local miss asks the CAS's upstream tier (if any) for the entry and stores it here;
  // the caller validates it as usual. nullopt when no tier has it.
  Result<std::optional<BlobDigest>> adopt_from_upstream(Keyspace keyspace,
                                                        std::string_view key) const;
  ActionCache(std::shared_ptr<CasStore> cas, ActionCacheOptions options)
      : m_cas(std::move(cas)), m_options(options) {}
  store::Database db(Keyspace keyspace) const { return keyspace == Keyspace::ac ? m_ac : m_raw; }
  bool validated(Keyspace keyspace) const {
    return keyspace == Keyspace::ac ? m_options.validate_ac : m_options.validate_raw;
  }
  std::shared_ptr<CasStore> m_cas;
  ActionCacheOptions m_options;
  store::Database m_ac, m_raw;
};

}  // namespace forge::cache
