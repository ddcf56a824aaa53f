// Gradle (Debian's gradle 4.4.1) against a real `forge serve` through its HTTP build cache
// (GET/PUT <url>/<key>, raw entries under /gradle/), with HTTP Basic credentials: a small
// Java project built twice with the local build cache and the outputs wiped in between; the
// second build's compileJava comes FROM-CACHE, i.e. from the server.
#include <gtest/gtest.h>

#include "serve_fixture.h"

namespace forge::test {
namespace {

TEST(GradleIntegrationTest, SecondBuildAfterWipingTheLocalCacheIsFromTheRemoteCache) {
  if (run_shell("gradle --version").exit_code != 0) {
    GTEST_SKIP() << "gradle is not installed (scripts/install-deps.sh installs it)";
  }
  TempDir secrets;
  const auto hashed = run_shell("openssl passwd -6 -salt gradlesalt s3cret");
  ASSERT_EQ(hashed.exit_code, 0) << hashed.err;
  secrets.write_file("htpasswd", "ci:" + hashed.out);
  ServeFixture server({"--htpasswd", (secrets / "htpasswd").string(), "--raw-prefix", "/gradle/"});
  ASSERT_TRUE(server.started()) << server.log();
  const auto& dir = server.dir();
  dir.write_file("project/settings.gradle",
                 "rootProject.name = 'demo'\n"
                 "buildCache {\n"
                 "  local(DirectoryBuildCache) { directory = new File(rootDir, 'local-cache') }\n"
                 "  remote(HttpBuildCache) {\n"
                 "    url = '" +
                     server.url() +
                     "/gradle/'\n"
                     "    push = true\n"
                     "    credentials { username = 'ci'; password = 's3cret' }\n"
                     "  }\n"
                     "}\n");
  dir.write_file("project/build.gradle", "apply plugin: 'java'\n");
  dir.write_file("project/src/main/java/demo/Hello.java",
                 "package demo;\npublic class Hello {\n"
                 "  public static String greet() { return \"hello from the cache\"; }\n}\n");
  // No dependencies, so nothing is downloaded (--offline would turn the remote cache off).
  const std::string gradle = "cd " + shell_quote((dir / "project").string()) +
                             " && gradle --build-cache --no-daemon --console=plain -g " +
                             shell_quote((dir / "gradle-home").string()) + " jar 2>&1";
  const auto first = run_shell(gradle);
  ASSERT_EQ(first.exit_code, 0) << first.out << server.log();
  EXPECT_EQ(first.out.find("FROM-CACHE"), std::string::npos) << first.out;

  const auto second =
      run_shell("rm -rf " + shell_quote((dir / "project/build").string()) + " " +
                shell_quote((dir / "project/local-cache").string()) + " && " + gradle);
  ASSERT_EQ(second.exit_code, 0) << second.out << server.log();
  EXPECT_NE(second.out.find(":compileJava FROM-CACHE"), std::string::npos) << second.out;
  EXPECT_TRUE(std::filesystem::exists(dir / "project/build/classes/java/main/demo/Hello.class"));
  EXPECT_EQ(server.stop(), 0) << server.log();
}

}  // namespace
}  // namespace forge::test
