#pragma once
// The "totals" database of the store index: "bytes" and "entries" (the sums over "blobs",
// kept in the transaction that changes "blobs") and "generation" (bumped by every write
// transaction that adds blobs, in every process, so a process can tell whether all
// additions since a point were its own: see digest_filter_tracker.h). Values are u64 LE;
// a missing or malformed value reads as 0. Internal to forge_cache.

#include <cstdint>
#include <optional>
#include <string_view>

#include "forge/core/store/lmdb.h"

namespace forge::cache {

inline constexpr std::string_view k_total_bytes = "bytes";
inline constexpr std::string_view k_total_entries = "entries";
inline constexpr std::string_view k_generation = "generation";

std::uint64_t read_total(const std::optional<std::string_view>& value);
Result<std::uint64_t> read_total(const store::ReadTxn& txn, store::Database totals,
                                 std::string_view key);
// Adds delta (clamped at 0).
Result<void> add_total(store::WriteTxn& txn, store::Database totals, std::string_view key,
                       std::int64_t delta);
Result<void> set_total(store::WriteTxn& txn, store::Database totals, std::string_view key,
                       std::uint64_t value);
// Returns the generation before the bump.
Result<std::uint64_t> bump_generation(store::WriteTxn& txn, store::Database totals);

}  // namespace forge::cache
