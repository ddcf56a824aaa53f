#include "forge/core/store/byte_reader.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

#include "forge/core/store/encoding.h"

namespace forge::store {
namespace {

TEST(ByteReaderTest, ReadsFieldsInTheOrderTheyWereWritten) {
  std::string bytes;
  put_le<std::uint32_t>(bytes, 7);
  put_le<std::int64_t>(bytes, -3);
  put_le<std::uint32_t>(bytes, 5);
  bytes += "hello";
  ByteReader in(bytes);
  EXPECT_EQ(in.number<std::uint32_t>(), 7u);
  EXPECT_EQ(in.number<std::int64_t>(), -3);
  EXPECT_EQ(in.str32(), "hello");
  EXPECT_TRUE(in.ok());
  EXPECT_TRUE(in.at_end());
}

TEST(ByteReaderTest, AShortReadFailsTheReaderForGoodAndYieldsZeros) {
  std::string bytes;
  put_le<std::uint16_t>(bytes, 0xabcd);
  put_le<std::uint8_t>(bytes, 9);
  ByteReader in(bytes);
  EXPECT_EQ(in.number<std::uint32_t>(), 0u);  // 3 bytes left, 4 wanted
  EXPECT_FALSE(in.ok());
  EXPECT_EQ(in.number<std::uint8_t>(), 0u);  // would fit, but the reader has failed
  EXPECT_EQ(in.bytes(1), "");
  EXPECT_EQ(in.offset(), 0u);
}

TEST(ByteReaderTest, AStringLongerThanTheBufferIsRefused) {
  std::string bytes;
  put_le<std::uint32_t>(bytes, 1000);
  bytes += "short";
  ByteReader in(bytes);
  EXPECT_EQ(in.str32(), "");
  EXPECT_FALSE(in.ok());
}

TEST(ByteReaderTest, ACountTheBytesCannotHoldIsRefusedBeforeAnyoneAllocates) {
  std::string bytes;
  put_le<std::uint32_t>(bytes, 0xffffffff);
  bytes.append(64, '\0');
  ByteReader huge(bytes);
  EXPECT_EQ(huge.count(4), 0u);
  EXPECT_FALSE(huge.ok());

  std::string fits;
  put_le<std::uint32_t>(fits, 2);
  fits.append(8, '\0');
  ByteReader in(fits);
  EXPECT_EQ(in.count(4), 2u);
  EXPECT_TRUE(in.ok());
  EXPECT_EQ(in.offset(), 4u);  // count() consumes only the count itself
}

TEST(ByteReaderTest, AnOffsetPastTheEndIsAFailedReader) {
  const std::string bytes = "ab";
  ByteReader in(bytes, 3);
  EXPECT_FALSE(in.ok());
  EXPECT_EQ(in.remaining(), 0u);
  ByteReader at_end(bytes, 2);
  EXPECT_TRUE(at_end.ok());
  EXPECT_TRUE(at_end.at_end());
}

TEST(ByteReaderTest, FailMarksAValueTheCallerFoundOutOfRange) {
  const std::string bytes(4, '\0');
  ByteReader in(bytes);
  in.fail();
  EXPECT_FALSE(in.ok());
  EXPECT_EQ(in.number<std::uint32_t>(), 0u);
}

// Whatever the bytes and the sequence of reads, the reader never reads outside the buffer
// (ASan would report it), never moves backwards, and once failed stays failed.
RC_GTEST_PROP(ByteReaderProperty, AnyReadsOverAnyBytesStayInBoundsAndFailForGood,
              (const std::string& bytes, const std::vector<std::uint8_t>& ops)) {
  ByteReader in(bytes);
  bool failed = false;
  std::size_t offset = 0;
  for (const std::uint8_t op : ops) {
    switch (op % 5) {
      case 0: in.number<std::uint8_t>(); break;
      case 1: in.number<std::uint64_t>(); break;
      case 2: in.str32(); break;
      case 3: in.count(op / 5 + 1); break;
      default: in.skip(op / 5); break;
    }
    RC_ASSERT(in.offset() >= offset);
    RC_ASSERT(in.offset() <= bytes.size());
    if (failed) RC_ASSERT(!in.ok() && in.offset() == offset);
    failed = !in.ok();
    offset = in.offset();
  }
}

}  // namespace
}  // namespace forge::store
