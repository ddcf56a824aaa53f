#pragma once
// DigestFilter: an in-memory Bloom filter over SHA-256 digests, so that CasStore::find_missing
// can answer "absent" for most absent digests without an index lookup (each lookup in a
// large LMDB index costs a few cache misses; Bazel asks about thousands of digests at once).
// Internal to forge_cache.
//
// Contract:
// - No false negatives: may_contain(k) is true for every k passed to add(). False positives
//   (about 1% at the sized load) only cost the index lookup they would have cost anyway.
// - Blocked layout: a key touches one 64-bit word, so a query is one cache miss. The key is
//   a SHA-256, already uniform: its bytes are used directly as the hash.
// - Roughly 2 bytes per expected entry (16 bits per key, 5 bits set per key).
// - Nothing is ever removed (evicted blobs stay as false positives until the next rebuild).
// Threading: add() and may_contain() may run concurrently from any threads (relaxed atomics:
// a concurrent add may or may not be seen, which the caller's protocol accounts for).

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace forge::cache {

class DigestFilter {
 public:
  static constexpr std::size_t k_key_size = 32;

  explicit DigestFilter(std::size_t expected_entries) {
    std::size_t words = 1024;
    while (words * 64 < expected_entries * 16) words *= 2;
    m_mask = words - 1;
    m_words = std::make_unique<std::atomic<std::uint64_t>[]>(words);
    for (std::size_t i = 0; i < words; ++i) m_words[i].store(0, std::memory_order_relaxed);
  }

  std::size_t capacity() const { return (m_mask + 1) * 64 / 16; }  // entries at ~1% FP
  std::size_t added() const { return m_added.load(std::memory_order_relaxed); }

  void add(std::string_view key) {
    m_words[word_of(key)].fetch_or(bits_of(key), std::memory_order_relaxed);
    m_added.fetch_add(1, std::memory_order_relaxed);
  }
  bool may_contain(std::string_view key) const {
    const std::uint64_t bits = bits_of(key);
    return (m_words[word_of(key)].load(std::memory_order_relaxed) & bits) == bits;
  }

 private:
  static std::uint64_t load64(std::string_view key, std::size_t offset) {
    std::uint64_t value;
    std::memcpy(&value, key.data() + offset, sizeof value);
    return value;
  }
  std::size_t word_of(std::string_view key) const {
    return static_cast<std::size_t>(load64(key, 0)) & m_mask;
  }
  // Five bit positions from five 6-bit fields of the key's second 8 bytes.
  static std::uint64_t bits_of(std::string_view key) {
    const std::uint64_t h = load64(key, 8);
    std::uint64_t bits = 0;
    for (int i = 0; i < 5; ++i) bits |= std::uint64_t{1} << ((h >> (6 * i)) & 63);
    return bits;
  }

  std::size_t m_mask = 0;
  std::unique_ptr<std::atomic<std::uint64_t>[]> m_words;
  std::atomic<std::size_t> m_added{0};
};

}  // namespace forge::cache
