#include "store_totals.h"

#include <algorithm>
#include <string>

#include "forge/core/store/encoding.h"

namespace forge::cache {

std::uint64_t read_total(const std::optional<std::string_view>& value) {
  if (!value || value->size() != 8) return 0;
  std::size_t offset = 0;
  return store::get_le<std::uint64_t>(*value, offset);
}

Result<std::uint64_t> read_total(const store::ReadTxn& txn, store::Database totals,
                                 std::string_view key) {
  FORGE_TRY(auto value, txn.get(totals, key));
  return read_total(value);
}

Result<void> set_total(store::WriteTxn& txn, store::Database totals, std::string_view key,
                       std::uint64_t value) {
  std::string bytes;
  store::put_le(bytes, value);
  return txn.put(totals, key, bytes);
}

Result<void> add_total(store::WriteTxn& txn, store::Database totals, std::string_view key,
                       std::int64_t delta) {
  FORGE_TRY(const std::uint64_t current, read_total(txn, totals, key));
  const std::int64_t value = static_cast<std::int64_t>(current) + delta;
  return set_total(txn, totals, key, static_cast<std::uint64_t>(std::max<std::int64_t>(0, value)));
}

Result<std::uint64_t> bump_generation(store::WriteTxn& txn, store::Database totals) {
  FORGE_TRY(const std::uint64_t before, read_total(txn, totals, k_generation));
  FORGE_TRY_VOID(set_total(txn, totals, k_generation, before + 1));
  return before;
}

}  // namespace forge::cache
