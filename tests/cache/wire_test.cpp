#include "forge/cache/wire.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace forge::cache {
namespace {

TEST(WireTest, VarintAndBytesFieldsRoundTrip) {
  WireWriter writer;
  writer.varint_field(2, 300);
  writer.bytes_field(1, "abc");
  EXPECT_EQ(writer.bytes(), std::string("\x10\xac\x02\x0a\x03"
                                        "abc",
                                        8));
  WireReader reader(writer.bytes(), "Test");
  auto first = reader.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->number, 2u);
  EXPECT_EQ(first->type, WireType::varint);
  EXPECT_EQ(first->varint, 300u);
  auto second = reader.next();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->type, WireType::length_delimited);
  EXPECT_EQ(second->bytes, "abc");
  EXPECT_TRUE(reader.done());
}

TEST(WireTest, TruncatedInputIsAValidationError) {
  for (const std::string& bytes : {std::string("\x0a\x05"
                                               "ab"),
                                   std::string("\x08\xff"), std::string("\x09\x01\x02"),
                                   std::string("\x00\x01", 2), std::string("\x0b")}) {
    WireReader reader(bytes, "Test");
    auto field = reader.next();
    ASSERT_FALSE(field) << testing::PrintToString(bytes);
    EXPECT_EQ(field.error().category(), ErrorCategory::validation);
  }
}

TEST(WireTest, ErrorsNameTheMessageAndCarryTheCallersSuggestion) {
  const std::string bytes("\x0b");       // a tag of wire type 3, which is not supported
  WireReader plain(bytes, "Directory");  // views the bytes: they must outlive it
  auto field = plain.next();
  ASSERT_FALSE(field);
  EXPECT_NE(field.error().message().find("malformed Directory"), std::string::npos);
  EXPECT_NE(field.error().to_string().find("v2.Directory; check the digest"), std::string::npos);

  WireReader custom(bytes, "ActionResult", "use the raw keyspace");
  field = custom.next();
  ASSERT_FALSE(field);
  EXPECT_NE(field.error().message().find("malformed ActionResult"), std::string::npos);
  EXPECT_NE(field.error().to_string().find("use the raw keyspace"), std::string::npos);
  EXPECT_EQ(field.error().to_string().find("check the digest"), std::string::npos);
}

RC_GTEST_PROP(WireTest, AnyVarintRoundTrips, (std::uint64_t value, std::uint32_t number)) {
  const std::uint32_t field_number = number % 0x1fffffff + 1;
  WireWriter writer;
  writer.varint_field(field_number, value);
  WireReader reader(writer.bytes(), "Test");
  auto field = reader.next();
  RC_ASSERT(field.has_value());
  RC_ASSERT(field->number == field_number);
  RC_ASSERT(field->varint == value);
  RC_ASSERT(reader.done());
}

}  // namespace
}  // namespace forge::cache
