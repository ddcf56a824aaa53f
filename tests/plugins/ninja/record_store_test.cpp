#include "forge/ninja/record_store.h"

#include <gtest/gtest.h>

#include "forge/core/store/encoding.h"
#include "forge/test/temp_dir.h"

namespace forge::ninja {
namespace {

hash::Digest digest_of(std::string_view text) {
  return hash::xxh3_of(text);
}

TEST(RecordStore, EdgeRecordsAndFileStatesRoundTrip) {
  test::TempDir dir;
  auto store = RecordStore::open(dir.path());
  ASSERT_TRUE(store) << store.error().to_string();
  EXPECT_FALSE(*store->has_records());
  EdgeRecord record{
      0x1234, {{"a.c", digest_of("a")}, {"/abs/h.h", digest_of("h")}}, {{"a.o", digest_of("o")}}};
  FileState state{10, 20, 30, 40, 50, digest_of("a")};
  ASSERT_TRUE(store->write({{"a.c", state}}, {{"a.o", record}}));
  EXPECT_TRUE(*store->has_records());
  auto read = store->edge("a.o");
  ASSERT_TRUE(read && *read);
  EXPECT_EQ((*read)->command_hash, record.command_hash);
  EXPECT_EQ((*read)->inputs, record.inputs);
  EXPECT_EQ((*read)->outputs, record.outputs);
  auto missing = store->edge("b.o");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  auto files = store->load_files();
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ(files->at("a.c").hashed_at_ns, 50);
  EXPECT_EQ(files->at("a.c").xxh3, state.xxh3);
}

TEST(RecordStore, RecordsSurviveReopening) {
  test::TempDir dir;
  {
    auto store = RecordStore::open(dir.path());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->write({}, {{"x", EdgeRecord{1, {}, {{"x", digest_of("x")}}}}}));
  }
  auto store = RecordStore::open(dir.path());
  ASSERT_TRUE(store);
  EXPECT_TRUE(*store->has_records());
}

TEST(RecordStore, TruncatedValuesDoNotDecode) {
  const std::string edge =
      encode_edge_record({7, {{"in", digest_of("i")}}, {{"out", digest_of("o")}}});
  for (std::size_t size = 0; size < edge.size(); ++size) {
    auto decoded = decode_edge_record(std::string_view(edge).substr(0, size));
    ASSERT_FALSE(decoded) << size;
    EXPECT_EQ(decoded.error().category(), ErrorCategory::validation);
  }
  EXPECT_TRUE(decode_edge_record(edge));
  const std::string file = encode_file_state({1, 2, 3, 4, 5, digest_of("f")});
  EXPECT_FALSE(decode_file_state(file.substr(1)));
  EXPECT_TRUE(decode_file_state(file));
}

}  // namespace
}  // namespace forge::ninja
