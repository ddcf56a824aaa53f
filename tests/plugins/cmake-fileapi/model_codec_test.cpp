#include "forge/cmake/model_codec.h"

#include <gtest/gtest.h>

namespace forge::cmake {
namespace {

// A model with every field set to something other than its default.
Model full_model() {
  Model model;
  model.source_dir = "/s";
  model.build_dir = "/b";
  model.generator = "Ninja Multi-Config";
  model.multi_config = true;
  model.config = "Debug";
  model.cmake_version = "3.31.6";
  Target lib;
  lib.id = "lib::@1";
  lib.name = "lib";
  lib.type = "STATIC_LIBRARY";
  lib.source_dir = "/s";
  lib.build_dir = "/b";
  lib.sources = {Source{.path = "/s/lib.cc", .compile_group = 0},
                 Source{.path = "/b/gen.h", .compile_group = std::nullopt, .generated = true}};
  lib.compile_groups.push_back(CompileGroup{.language = "CXX",
                                            .fragments = {"-O2", "-g"},
                                            .defines = {"A=1"},
                                            .includes = {"/s/include"},
                                            .system_includes = {"/usr/include/x"},
                                            .sysroot = "/sysroot"});
  lib.artifacts = {"/b/liblib.a"};
  lib.headers = {"/s/include/lib.h"};
  lib.headers_known = true;
  Target app = lib;
  app.id = "app::@1";
  app.name = "app";
  app.type = "EXECUTABLE";
  app.artifacts = {"/b/app"};
  app.link_libraries = {"/b/liblib.a"};
  app.link_flags = {"-rdynamic"};
  app.dependencies = {0};
  model.targets = {lib, app};
  model.tests.push_back(Test{.name = "app_runs",
                             .command = {"/b/app", "--flag"},
                             .working_directory = "/b",
                             .labels = {"fast"},
                             .target = 1});
  model.cmake_inputs = {"/s/CMakeLists.txt"};
  model.toolchains.push_back(Toolchain{.language = "CXX",
                                       .compiler_id = "GNU",
                                       .compiler_version = "14.2",
                                       .compiler_path = "/usr/bin/c++"});
  model.headers_exact = true;
  model.notes = {"a note"};
  return model;
}

TEST(ModelCodecTest, RoundTripKeepsEveryField) {
  const Model model = full_model();
  const std::string bytes = encode_model(model);
  auto decoded = decode_model(bytes);
  ASSERT_TRUE(decoded) << decoded.error().to_string();
  EXPECT_EQ(encode_model(*decoded), bytes);
  EXPECT_EQ(decoded->config, "Debug");
  EXPECT_TRUE(decoded->multi_config);
  ASSERT_EQ(decoded->targets.size(), 2u);
  EXPECT_EQ(decoded->targets[0].sources[1].compile_group, std::nullopt);
  EXPECT_TRUE(decoded->targets[0].sources[1].generated);
  EXPECT_EQ(decoded->targets[0].compile_groups[0].sysroot, "/sysroot");
  EXPECT_EQ(decoded->targets[1].dependencies, std::vector<std::size_t>{0});
  EXPECT_EQ(decoded->targets[1].link_flags, std::vector<std::string>{"-rdynamic"});
  EXPECT_EQ(decoded->tests[0].target, 1u);
  EXPECT_EQ(decoded->tests[0].labels, std::vector<std::string>{"fast"});
  EXPECT_EQ(decoded->toolchains[0].compiler_path, "/usr/bin/c++");
  EXPECT_TRUE(decoded->headers_exact);
  EXPECT_FALSE(decoded->from_cache);
}

TEST(ModelCodecTest, EveryTruncationAndTrailingBytesAreValidationErrors) {
  const std::string bytes = encode_model(full_model());
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    auto decoded = decode_model(std::string_view(bytes).substr(0, size));
    ASSERT_FALSE(decoded) << "a prefix of " << size << " bytes decoded";
    EXPECT_EQ(decoded.error().category(), ErrorCategory::validation);
  }
  EXPECT_FALSE(decode_model(bytes + '\0'));
}

TEST(ModelCodecTest, IndicesOutOfRangeAreRejected) {
  Model bad_dependency = full_model();
  bad_dependency.targets[1].dependencies = {2};
  EXPECT_FALSE(decode_model(encode_model(bad_dependency)));
  Model bad_group = full_model();
  bad_group.targets[0].sources[0].compile_group = 1;
  EXPECT_FALSE(decode_model(encode_model(bad_group)));
  Model bad_test = full_model();
  bad_test.tests[0].target = 7;
  EXPECT_FALSE(decode_model(encode_model(bad_test)));
}

TEST(ModelCodecTest, AHugeCountInCorruptBytesFailsWithoutAllocatingIt) {
  std::string bytes = encode_model(Model{});
  // The target count follows five empty strings (u32 lengths) and the multi_config byte.
  const std::size_t count_at = 5 * 4 + 1;
  bytes.replace(count_at, 4, std::string("\xff\xff\xff\x7f", 4));
  EXPECT_FALSE(decode_model(bytes));
}

}  // namespace
}  // namespace forge::cmake
