// `forge cmake` as a user runs it: every way of naming the changes (--files, --stdin,
// --since a scan cursor), the targets listing, and bad input (no build dir, no reply, a
// Makefiles build, a corrupt reply) answered with an error naming the file and the fix.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "demo_project.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge::test {
namespace {

namespace fs = std::filesystem;

class CmakeCliTest : public ::testing::Test {
 protected:
  ProcessResult forge(const std::string& args, const std::string& input = {}) {
    return run_shell("cd " + shell_quote(m_source.string()) + " && " +
                         shell_quote(forge_binary().string()) + " cmake " + args,
                     input);
  }
  nlohmann::json json_of(const ProcessResult& result) {
    EXPECT_EQ(result.exit_code, 0) << result.err;
    auto json = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << result.out;
    return json;
  }
  void built_demo() {
    write_demo_project(m_source);
    std::string log;
    ASSERT_EQ(configure(m_source, m_build, &log), 0) << log;
    ASSERT_EQ(build(m_build, &log), 0) << log;
  }
  std::string build_arg() const { return " -B " + shell_quote(m_build.string()); }

  TempDir m_dir;
  fs::path m_source = fs::canonical(m_dir.path()) / "src";
  fs::path m_build = fs::canonical(m_dir.path()) / "build";
};

TEST_F(CmakeCliTest, FilesStdinAndSinceGiveTheSameAnswer) {
  ASSERT_NO_FATAL_FAILURE(built_demo());
  const auto index = shell_quote((m_dir / "index").string());
  const auto scanned =
      run_shell(shell_quote(forge_binary().string()) + " scan --json --index-dir " + index + " " +
                shell_quote(m_source.string()));
  ASSERT_EQ(scanned.exit_code, 0) << scanned.err;
  const std::string cursor = nlohmann::json::parse(scanned.out)["cursor"];
  std::ofstream(m_source / "core/src/private.h", std::ios::app) << "// edit\n";

  const auto files = json_of(forge("affected --json --files core/src/private.h" + build_arg()));
  const auto stdin_answer = json_of(forge("affected --json --stdin" + build_arg(),
                                          (m_source / "core/src/private.h").string() + "\n"));
  const auto since = json_of(forge("affected --json --index-dir " + index + " --since " +
                                   shell_quote(cursor) + build_arg()));
  for (const auto* answer : {&files, &stdin_answer, &since}) {
    EXPECT_EQ((*answer)["changed"], nlohmann::json::array({"core/src/private.h"}));
    EXPECT_EQ((*answer)["directly_affected"], nlohmann::json::array({"core"}));
    EXPECT_EQ((*answer)["transitively_affected"], nlohmann::json::array({"app"}));
    EXPECT_EQ((*answer)["tests"], nlohmann::json::array({"app_runs"}));
    EXPECT_EQ((*answer)["test_regex"], "^(app_runs)$");
    EXPECT_TRUE((*answer)["headers_exact"]);
  }
  EXPECT_NE(since["cursor"], cursor);
  // The first call read the build dir; the later ones answered from the model cache.
  EXPECT_FALSE(files["model_from_cache"]);
  EXPECT_TRUE(stdin_answer["model_from_cache"]);
  EXPECT_TRUE(since["model_from_cache"]);
  const auto uncached =
      json_of(forge("affected --json --no-cache --files core/src/private.h" + build_arg()));
  EXPECT_FALSE(uncached["model_from_cache"]);
  EXPECT_EQ(uncached["affected"], files["affected"]);
  // The regex selects exactly the affected tests in ctest.
  const auto listed =
      run_shell("cd " + shell_quote(m_build.string()) + " && ctest -N -R '^(app_runs)$'");
  EXPECT_NE(listed.out.find("Total Tests: 1"), std::string::npos) << listed.out;
}

TEST_F(CmakeCliTest, HumanOutputNamesTargetsTestsAndTheCtestCommand) {
  ASSERT_NO_FATAL_FAILURE(built_demo());
  const auto result = forge("affected --files iface/include/iface/iface.h" + build_arg());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("directly affected (2): core solo"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("ctest -R '^(app_runs|solo_runs)$'"), std::string::npos) << result.out;
  const auto targets = forge("targets" + build_arg());
  ASSERT_EQ(targets.exit_code, 0) << targets.err;
  EXPECT_NE(targets.out.find("5 targets, 2 tests"), std::string::npos) << targets.out;
}

// The README's CI recipe, run as written (bash, git, jq, cmake, ctest) in a checkout whose
// branch changed one private header since origin/main: it builds what the change needs and
// runs exactly the affected test.
TEST_F(CmakeCliTest, ReadmeCiRecipeBuildsAndRunsExactlyTheAffectedTests) {
  std::ifstream readme(FORGE_README);
  std::stringstream text;
  text << readme.rdbuf();
  const std::string all = text.str();
  const auto heading = all.find("CI recipe: run exactly the affected tests.");
  ASSERT_NE(heading, std::string::npos) << "README.md lost its CMake CI recipe";
  const auto begin = all.find("```sh\n", heading) + 6;
  const std::string recipe = all.substr(begin, all.find("```", begin) - begin);

  write_demo_project(m_source);
  std::ofstream(m_source / ".gitignore") << "build/\n";
  const std::string git = "cd " + shell_quote(m_source.string()) +
                          " && git -c user.name=forge -c user.email=forge@localhost ";
  ASSERT_EQ(run_shell(git + "init -q && " + git + "add -A && " + git + "commit -qm base && " + git +
                      "update-ref refs/remotes/origin/main HEAD")
                .exit_code,
            0);
  std::string log;
  ASSERT_EQ(configure(m_source, m_source / "build", &log), 0) << log;
  ASSERT_EQ(build(m_source / "build", &log), 0) << log;
  std::ofstream(m_source / "core/src/private.h", std::ios::app) << "// edit\n";
  ASSERT_EQ(run_shell(git + "commit -qam edit").exit_code, 0);

  const auto ran = run_shell("cd " + shell_quote(m_source.string()) +
                             " && PATH=" + shell_quote(forge_binary().parent_path().string()) +
                             ":$PATH bash -euo pipefail -c " + shell_quote(recipe) + " 2>&1");
  ASSERT_EQ(ran.exit_code, 0) << ran.out;
  EXPECT_NE(ran.out.find("app_runs"), std::string::npos) << ran.out;
  EXPECT_EQ(ran.out.find("solo_runs"), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("0 tests failed out of 1"), std::string::npos) << ran.out;
  const auto rest = run_shell("ninja -C " + shell_quote((m_source / "build").string()) + " -n");
  EXPECT_NE(rest.out.find("no work to do"), std::string::npos) << rest.out;
}

TEST_F(CmakeCliTest, UsageErrors) {
  EXPECT_EQ(forge("affected --files a.cc").exit_code, 2);  // no -B
  EXPECT_EQ(forge("bogus -B x").exit_code, 2);
  EXPECT_EQ(forge("affected -B x").exit_code, 2);  // no change source
  EXPECT_EQ(forge("affected -B x --stdin --files a.cc").exit_code, 2);
  EXPECT_EQ(forge("targets -B x --frobnicate").exit_code, 2);
}

TEST_F(CmakeCliTest, MissingBuildDirNamesIt) {
  fs::create_directories(m_source);
  const auto result = forge("targets -B " + shell_quote((m_dir / "nope").string()));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find((m_dir / "nope").string()), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("cmake -S SRC -B BUILD"), std::string::npos) << result.err;
}

TEST_F(CmakeCliTest, BuildDirWithoutReplyTellsToRunCmakeOnceAndThenWorks) {
  write_demo_project(m_source);
  std::string log;
  ASSERT_EQ(configure(m_source, m_build, &log, "Ninja", /*with_query=*/false), 0) << log;
  const auto first = forge("targets --json" + build_arg());
  EXPECT_EQ(first.exit_code, 1);
  EXPECT_NE(first.err.find("run cmake once"), std::string::npos) << first.err;
  EXPECT_TRUE(fs::exists(m_build / ".cmake/api/v1/query/client-forge/query.json"));
  ASSERT_EQ(run_shell("cmake " + shell_quote(m_build.string())).exit_code, 0);
  EXPECT_EQ(json_of(forge("targets --json" + build_arg()))["targets"].size(), 5u);
}

TEST_F(CmakeCliTest, MakefilesGeneratorWorksConservativelyWithANote) {
  write_demo_project(m_source);
  std::string log;
  ASSERT_EQ(configure(m_source, m_build, &log, "Unix Makefiles"), 0) << log;
  const auto answer = json_of(forge("affected --json --files core/src/private.h" + build_arg()));
  EXPECT_FALSE(answer["headers_exact"]);
  // private.h sits beside core.cc and obj.cc: without a deps log both targets are reported
  // (a superset of what a build redoes: only core), and app, which links them.
  EXPECT_EQ(answer["directly_affected"], nlohmann::json::array({"core", "objs"}));
  EXPECT_EQ(answer["transitively_affected"], nlohmann::json::array({"app"}));
  bool noted = false;
  for (const auto& note : answer["notes"]) {
    noted = noted || note.get<std::string>().find("conservative") != std::string::npos;
  }
  EXPECT_TRUE(noted) << answer["notes"].dump();
}

TEST_F(CmakeCliTest, CorruptReplyNamesTheFileAndTheFix) {
  write_demo_project(m_source);
  std::string log;
  ASSERT_EQ(configure(m_source, m_build, &log), 0) << log;
  fs::path codemodel;
  for (const auto& entry : fs::directory_iterator(m_build / ".cmake/api/v1/reply")) {
    if (entry.path().filename().string().starts_with("codemodel-v2")) codemodel = entry.path();
  }
  ASSERT_FALSE(codemodel.empty());
  std::ofstream(codemodel, std::ios::trunc) << "{\"configurations\": [";
  const auto result = forge("targets" + build_arg());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find(codemodel.string()), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("re-run cmake"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace forge::test
