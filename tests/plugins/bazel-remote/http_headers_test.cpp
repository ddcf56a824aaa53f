// Accept-Encoding and Transfer-Encoding parsing (RFC 9110 12.5.3, 6.1).
#include "http_headers.h"

#include <gtest/gtest.h>

namespace forge::bazel_remote {
namespace {

TEST(HttpHeadersTest, ZstdIsAcceptedWhenNamedWithAPositiveQuality) {
  for (const char* value : {"zstd", "ZSTD", "gzip, zstd", "zstd;q=0.5", "gzip,zstd ; Q=1",
                            "br;q=0.9, zstd;q=0.001", " zstd\t", "zstd;q=1.000", "zstd;q=0.1"}) {
    EXPECT_TRUE(accepts_coding(value, "zstd")) << value;
  }
}

// Regression (issue 16 item 15): `zstd;q=0` and `xzstd` were answered with zstd.
TEST(HttpHeadersTest, ZeroQualityOtherTokensAndMalformedQualitiesAreNotAcceptance) {
  for (const char* value : {"", "gzip", "xzstd", "zstdx", "x-zstd", "zstd;q=0", "zstd; q=0.0",
                            "zstd;q=0.000", "gzip;q=0.5, zstd;q=0", "zstd;q=2", "zstd;q=abc",
                            "zstd;q=0.0001", "zstd;q=", "*", "zstd;q=1, zstd;q=0", "zstd;foo"}) {
    EXPECT_FALSE(accepts_coding(value, "zstd")) << value;
  }
}

// Regression (issue 16 item 15): `gzip, chunked` was accepted as chunked.
TEST(HttpHeadersTest, OnlyPlainChunkedIsATransferEncodingWeDecode) {
  EXPECT_TRUE(is_plain_chunked("chunked"));
  EXPECT_TRUE(is_plain_chunked(" Chunked "));
  for (const char* value : {"gzip, chunked", "chunked, chunked", "identity", "", "chunkedx", "gzip",
                            "deflate,chunked"}) {
    EXPECT_FALSE(is_plain_chunked(value)) << value;
  }
}

}  // namespace
}  // namespace forge::bazel_remote
