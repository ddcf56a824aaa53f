// The query index answers `affected` exactly as the whole model does: a rapidcheck property
// over random models and change sets against a reference written from affected.h's
// definition (every target scanned per file, as before the index existed), through the
// in-memory index and through its encoding (what the model cache stores).
#include "forge/cmake/query_index.h"

#include <algorithm>
#include <deque>
#include <set>
#include <unordered_set>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "forge/cmake/affected.h"

namespace forge::cmake {
namespace {

bool inside(const std::string& path, const std::string& dir) {
  return !dir.empty() && path.size() > dir.size() && path.starts_with(dir) &&
         (dir.back() == '/' || path[dir.size()] == '/');
}

std::string parent(const std::string& path) {
  return std::string(parent_dir(path));
}

// affected.h's definition, target by target (the tests and unmapped parts are shared code
// and covered by affected_test.cpp).
std::pair<std::set<std::size_t>, std::set<std::size_t>> reference(
    const Model& model, const std::vector<std::string>& changed) {
  const std::size_t n = model.targets.size();
  std::vector<bool> affected(n, false);
  auto compiled = [&](const std::string& file) {
    for (const auto& target : model.targets) {
      for (const auto& source : target.sources) {
        if (source.compile_group && source.path == file) return true;
      }
    }
    return false;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const Target& target = model.targets[i];
    for (const auto& file : changed) {
      for (const auto& source : target.sources) affected[i] = affected[i] || source.path == file;
      for (const auto& header : target.headers) affected[i] = affected[i] || header == file;
      if (target.headers_known || compiled(file)) continue;
      for (const auto& group : target.compile_groups) {
        for (const auto& dir : group.includes) affected[i] = affected[i] || inside(file, dir);
        for (const auto& dir : group.system_includes)
          affected[i] = affected[i] || inside(file, dir);
      }
      for (const auto& source : target.sources) {
        if (source.compile_group && parent(source.path) == parent(file)) affected[i] = true;
      }
    }
  }
  std::set<std::size_t> direct;
  for (std::size_t i = 0; i < n; ++i) {
    if (affected[i]) direct.insert(i);
  }
  std::set<std::size_t> transitive;
  std::deque<std::size_t> queue(direct.begin(), direct.end());
  while (!queue.empty()) {
    const std::size_t u = queue.front();
    queue.pop_front();
    for (std::size_t t = 0; t < n; ++t) {
      if (affected[t] || t == u) continue;
      bool consumes = false;
      for (const auto& artifact : model.targets[u].artifacts) {
        // The first target naming an artifact owns it (as the index builds it).
        std::size_t owner = n;
        for (std::size_t o = 0; o < n && owner == n; ++o) {
          const auto& a = model.targets[o].artifacts;
          if (std::find(a.begin(), a.end(), artifact) != a.end()) owner = o;
        }
        if (owner != u) continue;
        for (const auto& source : model.targets[t].sources) consumes |= source.path == artifact;
        for (const auto& lib : model.targets[t].link_libraries) consumes |= lib == artifact;
      }
      if (consumes) {
        affected[t] = true;
        transitive.insert(t);
        queue.push_back(t);
      }
    }
  }
  return {direct, transitive};
}

// Paths from a small alphabet so that random models share directories and files.
rc::Gen<std::string> gen_path(const char* prefix) {
  return rc::gen::map(
      rc::gen::tuple(rc::gen::inRange(0, 3), rc::gen::inRange(0, 3), rc::gen::inRange(0, 4)),
      [prefix](const std::tuple<int, int, int>& t) {
        return std::string("/s/d") + std::to_string(std::get<0>(t)) +
               (std::get<1>(t) == 0 ? "" : "/e" + std::to_string(std::get<1>(t))) + "/" + prefix +
               std::to_string(std::get<2>(t));
      });
}

Model gen_model() {
  Model model;
  model.source_dir = "/s";
  model.build_dir = "/b";
  const int n = *rc::gen::inRange(1, 7);
  for (int i = 0; i < n; ++i) {
    Target target;
    target.name = "t" + std::to_string(i);
    target.type = "STATIC_LIBRARY";
    target.headers_known = *rc::gen::arbitrary<bool>();
    target.compile_groups.emplace_back();
    for (int k = *rc::gen::inRange(0, 3); k > 0; --k) {
      const std::string dir = "/s/d" + std::to_string(*rc::gen::inRange(0, 3));
      (*rc::gen::arbitrary<bool>() ? target.compile_groups[0].includes
                                   : target.compile_groups[0].system_includes)
          .push_back(*rc::gen::arbitrary<bool>() ? dir : dir + "/");
    }
    for (int k = *rc::gen::inRange(0, 4); k > 0; --k) {
      Source source{.path = *gen_path("c")};
      if (*rc::gen::arbitrary<bool>()) source.compile_group = 0;
      target.sources.push_back(source);
    }
    if (target.headers_known) {
      for (int k = *rc::gen::inRange(0, 3); k > 0; --k) target.headers.push_back(*gen_path("h"));
    }
    target.artifacts.push_back("/b/a" + std::to_string(*rc::gen::inRange(0, n + 1)));
    for (int k = *rc::gen::inRange(0, 3); k > 0; --k) {
      const std::string artifact = "/b/a" + std::to_string(*rc::gen::inRange(0, n + 1));
      if (*rc::gen::arbitrary<bool>()) {
        target.link_libraries.push_back(artifact);
      } else {
        target.sources.push_back(Source{.path = artifact});  // an OBJECT library's objects
      }
    }
    model.targets.push_back(std::move(target));
  }
  return model;
}

std::set<std::size_t> as_set(const std::vector<std::size_t>& v) {
  return {v.begin(), v.end()};
}

RC_GTEST_PROP(QueryIndexProperty, IndexAnswersEqualTheWholeModelsAndSurviveEncoding, ()) {
  const Model model = gen_model();
  std::vector<std::string> changed;
  for (int k = *rc::gen::inRange(0, 4); k > 0; --k) {
    changed.push_back(*rc::gen::oneOf(gen_path("c"), gen_path("h"), gen_path("x")));
  }
  const auto [direct, transitive] = reference(model, changed);

  const Affected whole = compute_affected(model, changed);
  RC_ASSERT(as_set(whole.direct) == direct);
  RC_ASSERT(as_set(whole.transitive) == transitive);

  // Through the bytes the model cache keeps.
  const BuiltIndex built = build_query_index(model);
  auto decoded = decode_query_index(encode_query_index(built.index));
  RC_ASSERT(decoded.has_value());
  FileUses files;
  for (const auto& [path, use] : built.files) {
    auto back = decode_file_use(encode_file_use(use), model.targets.size());
    RC_ASSERT(back.has_value());
    files.emplace(path, *back);
  }
  auto indexed = compute_affected(
      *decoded,
      [&](const std::string& path) -> Result<FileUse> {
        const auto it = files.find(path);
        return it == files.end() ? FileUse{} : it->second;
      },
      changed);
  RC_ASSERT(indexed.has_value());
  RC_ASSERT(indexed->direct == whole.direct);
  RC_ASSERT(indexed->transitive == whole.transitive);
  RC_ASSERT(indexed->unmapped == whole.unmapped);
  RC_ASSERT(decoded->slim.targets.size() == model.targets.size());
  for (std::size_t i = 0; i < model.targets.size(); ++i) {
    RC_ASSERT(decoded->slim.targets[i].name == model.targets[i].name);
    RC_ASSERT(decoded->slim.targets[i].sources.empty());
  }
}

TEST(QueryIndexTest, DamagedBytesDoNotDecode) {
  Model model;
  model.source_dir = "/s";
  model.targets.push_back(Target{.name = "a"});
  model.targets[0].sources.push_back(Source{.path = "/s/a.cc", .compile_group = std::nullopt});
  const BuiltIndex built = build_query_index(model);
  const std::string bytes = encode_query_index(built.index);
  ASSERT_TRUE(decode_query_index(bytes));
  EXPECT_FALSE(decode_query_index(bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(decode_query_index(bytes + "x"));
  std::string other_version = bytes;
  other_version[0] = '\2';
  EXPECT_FALSE(decode_query_index(other_version));
  const std::string use = encode_file_use(FileUse{.compiled = true, .targets = {0}});
  EXPECT_TRUE(decode_file_use(use, 1));
  EXPECT_FALSE(decode_file_use(use, 0));  // target out of range
  EXPECT_FALSE(decode_file_use(use.substr(0, use.size() - 1), 1));
  EXPECT_FALSE(decode_file_use("", 1));
}

}  // namespace
}  // namespace forge::cmake
