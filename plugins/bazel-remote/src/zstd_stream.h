#pragma once
// Streaming zstd for REAPI's `compressed-blobs` resources and ZSTD batch uploads.
// Internal to forge_bazel_remote. Each object is used by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <zstd.h>

#include "forge/core/support/error.h"

namespace forge::bazel_remote {

// Decodes a stream of zstd frames as it arrives.
class ZstdDecompressor {
 public:
  ZstdDecompressor();
  ~ZstdDecompressor();
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

  using Sink = std::function<Result<void>(std::span<const std::byte>)>;
  // Decompresses `input`, handing every decoded piece to `sink` (whose error stops it and is
  // returned). Corrupt input is a Validation error.
  Result<void> feed(std::span<const std::byte> input, const Sink& sink);
  // True when the input so far ends exactly at the end of a frame (nothing is buffered).
  bool at_frame_end() const { return m_at_frame_end; }

 private:
  ZSTD_DCtx* m_context;
  bool m_at_frame_end = true;
  std::string m_buffer;
};

class ZstdCompressor {
 public:
  // Level 1: the server compresses on the fly for every compressed read, so speed matters
  // more than the last percent of ratio (zstd -1 still runs at several hundred MB/s).
  explicit ZstdCompressor(int level = 1);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  // Appends the compressed form of `input` to `out`; `end` closes the frame.
  Result<void> compress(std::span<const std::byte> input, bool end, std::string& out);

 private:
  ZSTD_CCtx* m_context;
};

// Decompresses a whole zstd blob that must decode to exactly `expected_size` bytes;
// anything else (corrupt, truncated, longer, shorter) is a Validation error.
Result<std::string> zstd_decompress(std::string_view data, std::uint64_t expected_size);
std::string zstd_compress(std::string_view data, int level = 1);

}  // namespace forge::bazel_remote
