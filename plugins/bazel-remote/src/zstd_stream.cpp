#include "zstd_stream.h"

#include <new>

#include <fmt/format.h>

namespace forge::bazel_remote {
namespace {

Error zstd_error(std::size_t code, std::string_view what) {
  return Error(ErrorCategory::validation, fmt::format("{}: {}", what, ZSTD_getErrorName(code)))
      .with_suggestion("send zstd frames as produced by libzstd (RFC 8878)");
}

}  // namespace

ZstdDecompressor::ZstdDecompressor()
    : m_context(ZSTD_createDCtx()), m_buffer(ZSTD_DStreamOutSize(), '\0') {
  if (!m_context) throw std::bad_alloc();
}

ZstdDecompressor::~ZstdDecompressor() {
  ZSTD_freeDCtx(m_context);
}

Result<void> ZstdDecompressor::feed(std::span<const std::byte> input, const Sink& sink) {
  if (input.empty()) return ok();
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  // Until the input is used up and the decoder has nothing left to flush: a full output
  // buffer may hide more, unless the decoder says the frame is complete (0).
  while (true) {
    ZSTD_outBuffer out{m_buffer.data(), m_buffer.size(), 0};
    const std::size_t hint = ZSTD_decompressStream(m_context, &out, &in);
    if (ZSTD_isError(hint)) return fail(zstd_error(hint, "corrupt zstd data"));
    m_at_frame_end = hint == 0;
    if (out.pos > 0) {
      FORGE_TRY_VOID(sink(std::as_bytes(std::span(m_buffer.data(), out.pos))));
    }
    if (in.pos == in.size && (hint == 0 || out.pos < out.size)) return ok();
  }
}

ZstdCompressor::ZstdCompressor(int level) : m_context(ZSTD_createCCtx()) {
  if (!m_context) throw std::bad_alloc();
  ZSTD_CCtx_setParameter(m_context, ZSTD_c_compressionLevel, level);
}

ZstdCompressor::~ZstdCompressor() {
  ZSTD_freeCCtx(m_context);
}

Result<void> ZstdCompressor::compress(std::span<const std::byte> input, bool end,
                                      std::string& out) {
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  const auto mode = end ? ZSTD_e_end : ZSTD_e_continue;
  while (true) {
    const std::size_t old_size = out.size();
    out.resize(old_size + ZSTD_CStreamOutSize());
    ZSTD_outBuffer buffer{out.data() + old_size, ZSTD_CStreamOutSize(), 0};
    const std::size_t remaining = ZSTD_compressStream2(m_context, &buffer, &in, mode);
    out.resize(old_size + buffer.pos);
    if (ZSTD_isError(remaining)) {
      return fail(Error(ErrorCategory::unknown,
                        fmt::format("zstd compression failed: {}", ZSTD_getErrorName(remaining))));
    }
    // ZSTD_e_continue: done once the input is consumed; ZSTD_e_end: once fully flushed.
    if (end ? remaining == 0 : in.pos == in.size) return ok();
  }
}

Result<std::string> zstd_decompress(std::string_view data, std::uint64_t expected_size) {
  std::string out;
  ZstdDecompressor decompressor;
  auto fed = decompressor.feed(
      std::as_bytes(std::span(data)), [&](std::span<const std::byte> piece) -> Result<void> {
        if (out.size() + piece.size() > expected_size) {
          return fail(Error(ErrorCategory::validation, fmt::format("zstd data decodes to more "
                                                                   "than the {} bytes declared",
                                                                   expected_size)));
        }
        out.append(reinterpret_cast<const char*>(piece.data()), piece.size());
        return ok();
      });
  if (!fed) return fail(std::move(fed).error());
  if (!decompressor.at_frame_end() || out.size() != expected_size) {
    return fail(
        Error(ErrorCategory::validation,
              fmt::format("zstd data decodes to {} bytes{}, not the {} declared", out.size(),
                          decompressor.at_frame_end() ? "" : " (truncated)", expected_size)));
  }
  return out;
}

std::string zstd_compress(std::string_view data, int level) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const auto size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  out.resize(ZSTD_isError(size) ? 0 : size);
  return out;
}

}  // namespace forge::bazel_remote
