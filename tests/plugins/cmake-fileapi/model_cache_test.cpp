// The model cache on the demo project with the real cmake and ninja: a hit equals a fresh
// load, and every change that can change the model (a configure, a build that changes the
// deps log or builds test programs) makes the next load a miss.
#include "forge/cmake/model_cache.h"

#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "demo_project.h"
#include "forge/cmake/affected.h"
#include "forge/cmake/loader.h"
#include "forge/cmake/model_codec.h"
#include "forge/core/store/lmdb.h"
#include "forge/test/temp_dir.h"

namespace forge::cmake {
namespace {

namespace fs = std::filesystem;

class ModelCacheTest : public ::testing::Test {
 protected:
  void configure() {
    std::string log;
    ASSERT_EQ(test::configure(m_source, m_build, &log), 0) << log;
  }
  void build() {
    std::string log;
    ASSERT_EQ(test::build(m_build, &log), 0) << log;
  }
  Model load(LoadOptions options = {}) {
    options.build_dir = m_build;
    auto model = load_model(options);
    EXPECT_TRUE(model) << model.error().to_string();
    return model ? std::move(*model) : Model{};
  }
  const Target& target(const Model& model, const std::string& name) {
    static const Target none;
    const auto index = model.find_target(name);
    EXPECT_TRUE(index) << name;
    return index ? model.targets[*index] : none;
  }

  test::TempDir m_dir;
  fs::path m_source = fs::canonical(m_dir.path()) / "src";
  fs::path m_build = fs::canonical(m_dir.path()) / "build";
};

TEST_F(ModelCacheTest, SecondLoadIsAHitEqualToAFreshLoadPerSetOfOptions) {
  test::write_demo_project(m_source);
  ASSERT_NO_FATAL_FAILURE(configure());
  ASSERT_NO_FATAL_FAILURE(build());
  EXPECT_FALSE(load().from_cache);
  const Model cached = load();
  EXPECT_TRUE(cached.from_cache);
  const Model fresh = load({.cache = UseCache::no});
  EXPECT_FALSE(fresh.from_cache);
  EXPECT_EQ(encode_model(cached), encode_model(fresh));
  EXPECT_FALSE(target(cached, "core").headers.empty());
  EXPECT_EQ(cached.tests.size(), 2u);
  // Other options are another entry; each stays valid beside the other.
  const Model without_tests = load({.tests = false});
  EXPECT_FALSE(without_tests.from_cache);
  EXPECT_TRUE(without_tests.tests.empty());
  EXPECT_TRUE(load({.tests = false}).from_cache);
  EXPECT_TRUE(load().from_cache);
}

TEST_F(ModelCacheTest, UseCacheNoNeitherReadsNorWrites) {
  test::write_demo_project(m_source);
  ASSERT_NO_FATAL_FAILURE(configure());
  EXPECT_FALSE(load({.cache = UseCache::no}).from_cache);
  EXPECT_FALSE(load({.cache = UseCache::no}).from_cache);
  EXPECT_FALSE(fs::exists(m_build / ".forge" / "cmake"));
}

// Regression: a cache keyed by the reply alone kept the header dependencies and the test
// programs of the first load after later builds.
TEST_F(ModelCacheTest, ABuildThatChangesDepsOrBuildsTestProgramsIsAMiss) {
  test::write_demo_project(m_source);
  ASSERT_NO_FATAL_FAILURE(configure());
  const Model unbuilt = load();
  EXPECT_FALSE(target(unbuilt, "util").headers_known);
  EXPECT_TRUE(load().from_cache);
  ASSERT_NO_FATAL_FAILURE(build());
  const Model built = load();
  EXPECT_FALSE(built.from_cache);
  EXPECT_TRUE(target(built, "util").headers_known);
  EXPECT_TRUE(std::all_of(built.tests.begin(), built.tests.end(),
                          [](const cmake::Test& t) { return t.target.has_value(); }));
  EXPECT_TRUE(load().from_cache);

  const std::string iface_h = (m_source / "iface/include/iface/iface.h").string();
  const Model cached = load();  // kept alive: `before` refers into it
  const auto& before = target(cached, "util").headers;
  EXPECT_EQ(std::count(before.begin(), before.end(), iface_h), 0);
  std::ofstream(m_source / "util.cc", std::ios::app) << "#include \"iface/iface.h\"\n";
  ASSERT_NO_FATAL_FAILURE(build());
  const Model rebuilt = load();
  EXPECT_FALSE(rebuilt.from_cache);
  const auto& after = target(rebuilt, "util").headers;
  EXPECT_EQ(std::count(after.begin(), after.end(), iface_h), 1);
}

// Also the README's claim that the re-runs of cmake Ninja triggers refresh the reply.
TEST_F(ModelCacheTest, AReconfigureByNinjaIsAMiss) {
  test::write_demo_project(m_source);
  ASSERT_NO_FATAL_FAILURE(configure());
  EXPECT_FALSE(load().find_target("extra"));
  EXPECT_TRUE(load().from_cache);
  std::ofstream(m_source / "CMakeLists.txt", std::ios::app)
      << "add_library(extra STATIC util.cc)\ntarget_link_libraries(extra PRIVATE core)\n";
  ASSERT_NO_FATAL_FAILURE(build());  // ninja re-runs cmake first
  const Model after = load();
  EXPECT_FALSE(after.from_cache);
  EXPECT_TRUE(after.find_target("extra"));
}

TEST_F(ModelCacheTest, ACorruptEntryIsAMissAndIsRewritten) {
  test::write_demo_project(m_source);
  ASSERT_NO_FATAL_FAILURE(configure());
  const Model first = load();
  {
    store::EnvOptions options{.dir = m_build / ".forge" / "cmake"};
    auto env = store::Environment::open(options);
    ASSERT_TRUE(env) << env.error().to_string();
    auto models = env->open_database("models");
    ASSERT_TRUE(models);
    auto written = env->write([&](store::WriteTxn& txn) -> Result<void> {
      std::vector<std::pair<std::string, std::string>> entries;
      FORGE_TRY(auto cursor, txn.cursor(*models));
      for (auto entry = cursor.first(); entry && *entry; entry = cursor.next()) {
        const auto& [key, value] = **entry;
        entries.emplace_back(std::string(key), std::string(value.substr(0, value.size() - 9)));
      }
      EXPECT_EQ(entries.size(), 1u);
      for (const auto& [key, value] : entries) FORGE_TRY_VOID(txn.put(*models, key, value));
      return ok();
    });
    ASSERT_TRUE(written) << written.error().to_string();
  }
  const Model reread = load();
  EXPECT_FALSE(reread.from_cache);
  EXPECT_EQ(encode_model(reread), encode_model(first));
  EXPECT_TRUE(load().from_cache);
}

class ModelCacheIndexTest : public ModelCacheTest {
 protected:
  // Every file of `model` (sources, headers, CMake inputs, one unused) answered through the
  // cached query index equals the answer from the whole model.
  void expect_index_answers_like(const Model& model) {
    auto indexed = IndexedModel::open({.build_dir = m_build});
    ASSERT_TRUE(indexed) << "no usable query index";
    EXPECT_TRUE(indexed->model().from_cache);
    std::vector<std::string> files{(m_source / "no_such_file.h").string()};
    for (const auto& t : model.targets) {
      for (const auto& source : t.sources) files.push_back(source.path);
      files.insert(files.end(), t.headers.begin(), t.headers.end());
    }
    files.insert(files.end(), model.cmake_inputs.begin(), model.cmake_inputs.end());
    for (const auto& file : files) {
      const Affected whole = compute_affected(model, {file});
      auto answer = indexed->affected({file});
      ASSERT_TRUE(answer) << answer.error().to_string();
      EXPECT_EQ(answer->direct, whole.direct) << file;
      EXPECT_EQ(answer->transitive, whole.transitive) << file;
      EXPECT_EQ(answer->tests, whole.tests) << file;
      EXPECT_EQ(answer->unmapped, whole.unmapped) << file;
      EXPECT_EQ(answer->reconfigure_needed, whole.reconfigure_needed) << file;
    }
  }
};

TEST_F(ModelCacheIndexTest, TheQueryIndexFollowsTheReplyAndAnswersLikeTheWholeModel) {
  test::write_demo_project(m_source);
  ASSERT_NO_FATAL_FAILURE(configure());
  EXPECT_FALSE(IndexedModel::open({.build_dir = m_build}));  // nothing cached yet
  const Model unbuilt = load();  // fills model and index (headers unknown: conservative)
  ASSERT_NO_FATAL_FAILURE(expect_index_answers_like(unbuilt));
  EXPECT_FALSE(IndexedModel::open({.build_dir = m_build, .cache = UseCache::no}));

  // A reply that gains a target and a build that learns the headers: the old index is not
  // used, and the one stored with the next load answers for the new model.
  std::ofstream(m_source / "extra.cc") << "int extra() { return 1; }\n";
  std::ofstream(m_source / "CMakeLists.txt", std::ios::app)
      << "add_library(extra STATIC extra.cc)\ntarget_link_libraries(extra PRIVATE core)\n";
  ASSERT_NO_FATAL_FAILURE(build());
  EXPECT_FALSE(IndexedModel::open({.build_dir = m_build}));
  const Model rebuilt = load();
  ASSERT_TRUE(rebuilt.find_target("extra"));
  ASSERT_NO_FATAL_FAILURE(expect_index_answers_like(rebuilt));
  auto indexed = IndexedModel::open({.build_dir = m_build});
  ASSERT_TRUE(indexed);
  auto extra = indexed->affected({(m_source / "extra.cc").string()});
  ASSERT_TRUE(extra);
  ASSERT_EQ(extra->direct.size(), 1u);
  EXPECT_EQ(indexed->model().targets[extra->direct[0]].name, "extra");
}

TEST_F(ModelCacheTest, AMakefilesBuildIsNotCached) {
  test::write_demo_project(m_source);
  std::string log;
  ASSERT_EQ(test::configure(m_source, m_build, &log, "Unix Makefiles"), 0) << log;
  EXPECT_FALSE(load().from_cache);
  EXPECT_FALSE(load().from_cache);
}

TEST(BuildIdentityTest, ChangesWithEachFileItCovers) {
  test::TempDir dir;
  const fs::path build = fs::canonical(dir.path());
  fs::create_directories(build / ".cmake/api/v1/reply");
  auto identity = build_identity(build, "");
  for (const char* file : {".cmake/api/v1/reply/index-1.json", ".cmake/api/v1/reply/index-2.json",
                           "build.ninja", "CMakeCache.txt", ".ninja_deps", ".ninja_log"}) {
    std::ofstream(build / file) << "x";
    const auto next = build_identity(build, "");
    EXPECT_NE(next, identity) << file << " appeared";
    identity = next;
    std::ofstream(build / file, std::ios::app) << "y";
    EXPECT_NE(build_identity(build, ""), identity) << file << " grew";
    identity = build_identity(build, "");
  }
  EXPECT_EQ(build_identity(build, ""), identity);
  std::ofstream(build / "build-Debug.ninja") << "x";
  EXPECT_EQ(build_identity(build, ""), identity);  // not the configuration asked for
  EXPECT_NE(build_identity(build, "Debug"), build_identity(build, "Release"));
}

}  // namespace
}  // namespace forge::cmake
