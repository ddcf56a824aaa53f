#include "forge/ninja/planner.h"

#include <fstream>

#include <gtest/gtest.h>

#include "forge/core/io/backend_selector.h"
#include "forge/ninja/build_state.h"
#include "tiny_project.h"

namespace forge::ninja {
namespace {

class PlannerTest : public test::TinyNinjaProject {
 protected:
  // The planner's pure simulation of what ninja would run now.
  std::set<std::string> simulated() {
    auto io = io::create_platform_io(support::IoConfig{});
    EXPECT_TRUE(io);
    auto state = BuildState::load(**io, m_dir.path(), 0);
    EXPECT_TRUE(state) << state.error().to_string();
    auto plan = make_plan(state->plan_context(), SettleCheck());
    EXPECT_TRUE(plan) << plan.error().to_string();
    std::set<std::string> out;
    for (std::size_t i = 0; i < plan->edges.size(); ++i) {
      if (plan->edges[i].verdict == Verdict::dirty) {
        out.insert(state->manifest().edges[i].outputs.front());
      }
    }
    return out;
  }

  void touch(const std::string& relative) {
    ASSERT_EQ(test::run_shell("touch " + test::shell_quote((m_dir / relative).string())).exit_code,
              0);
  }
};

TEST_F(PlannerTest, AgreesWithNinjaAfterABuild) {
  EXPECT_EQ(simulated(), std::set<std::string>{});
  EXPECT_EQ(ninja_would_run(), std::set<std::string>{});
}

TEST_F(PlannerTest, AgreesWithNinjaOnATouchedSource) {
  touch("a.txt");
  EXPECT_EQ(simulated(), (std::set<std::string>{"a.out", "all.out"}));
  EXPECT_EQ(simulated(), ninja_would_run());
}

TEST_F(PlannerTest, AgreesWithNinjaOnAHeaderFromTheDepsLog) {
  touch("hdr.h");
  EXPECT_EQ(simulated(), (std::set<std::string>{"a.out", "b.out", "all.out"}));
  EXPECT_EQ(simulated(), ninja_would_run());
}

TEST_F(PlannerTest, AgreesWithNinjaOnADeletedOutput) {
  std::filesystem::remove(m_dir / "b.out");
  EXPECT_EQ(simulated(), (std::set<std::string>{"b.out", "all.out"}));
  EXPECT_EQ(simulated(), ninja_would_run());
}

TEST_F(PlannerTest, AgreesWithNinjaOnAChangedCommand) {
  std::string manifest = test::k_tiny_manifest;
  manifest.replace(manifest.find("cat $in > $out"), 14, "cat $in  > $out");
  m_dir.write_file("build.ninja", manifest);
  EXPECT_EQ(simulated(), (std::set<std::string>{"all.out"}));
  EXPECT_EQ(simulated(), ninja_would_run());
}

TEST_F(PlannerTest, AgreesWithNinjaOnAMissingDepsRecord) {
  std::filesystem::remove(m_dir / ".ninja_deps");
  EXPECT_EQ(simulated(), (std::set<std::string>{"a.out", "b.out", "all.out"}));
  EXPECT_EQ(simulated(), ninja_would_run());
}

TEST_F(PlannerTest, ACycleIsAValidationError) {
  m_dir.write_file("build.ninja",
                   "rule cp\n  command = cp $in $out\nbuild x: cp y\nbuild y: cp x\n");
  auto io = io::create_platform_io(support::IoConfig{});
  ASSERT_TRUE(io);
  auto state = BuildState::load(**io, m_dir.path(), 0);
  ASSERT_TRUE(state);
  auto plan = make_plan(state->plan_context(), SettleCheck());
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().category(), ErrorCategory::validation);
}

}  // namespace
}  // namespace forge::ninja
