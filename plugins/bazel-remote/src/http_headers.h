#pragma once
// Parsing of the request header fields the HTTP cache server acts on (RFC 9110).
// Internal to forge_bazel_remote. Threading: pure functions, no state.

#include <string_view>

namespace forge::bazel_remote {

// Whether an Accept-Encoding value lists `coding` (case-insensitively, as a whole token)
// with a quality above zero: "gzip, ZSTD;q=0.5" lists zstd; "zstd;q=0", "xzstd" and
// "zstdx" do not. A malformed quality counts as zero. "*" is not taken to mean `coding`:
// a coding is sent only to a client that names it.
bool accepts_coding(std::string_view accept_encoding, std::string_view coding);

// Whether a Transfer-Encoding value is exactly the one coding this server decodes,
// "chunked" (any case, surrounding whitespace allowed). "gzip, chunked" is not.
bool is_plain_chunked(std::string_view transfer_encoding);

}  // namespace forge::bazel_remote
