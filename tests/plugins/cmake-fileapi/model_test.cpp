#include "forge/cmake/model.h"

#include <gtest/gtest.h>

namespace forge::cmake {
namespace {

TEST(CmakeModelTest, NormalizePathResolvesRelativeAndDotSegments) {
  EXPECT_EQ(normalize_path("CMakeFiles/objs.dir/./core/obj.cc.o", "/b"),
            "/b/CMakeFiles/objs.dir/core/obj.cc.o");
  EXPECT_EQ(normalize_path("/s/a/../b/", "/x"), "/s/b");
  EXPECT_EQ(normalize_path("../s/c.h", "/b/sub"), "/b/s/c.h");
}

TEST(CmakeModelTest, RelativeToOnlyMatchesWholeDirectoryNames) {
  EXPECT_EQ(relative_to("/src/a/b.cc", "/src"), "a/b.cc");
  EXPECT_EQ(relative_to("/src", "/src"), ".");
  EXPECT_FALSE(relative_to("/src2/a.cc", "/src").has_value());
  EXPECT_FALSE(relative_to("/other", "/src").has_value());
}

TEST(CmakeModelTest, FindTargetByName) {
  Model model;
  model.targets.push_back(Target{.name = "a"});
  model.targets.push_back(Target{.name = "b"});
  EXPECT_EQ(model.find_target("b"), 1u);
  EXPECT_FALSE(model.find_target("c").has_value());
}

}  // namespace
}  // namespace forge::cmake
