// `forge agent` as a real process, driven over its real Unix socket.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "forge/agent/client.h"
#include "forge/agent/protocol.h"
#include "forge/core/support/unique_fd.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge {
namespace {

using namespace std::chrono_literals;

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(m_dir / "ws1");
    std::filesystem::create_directories(m_dir / "ws2");
    m_dir.write_file("ws1/a.txt", "alpha\n");
    m_dir.write_file("ws2/b.txt", "beta\n");
    m_socket = m_dir / "run/agent.sock";
  }
  void write_config(const std::vector<std::string>& workspaces, int max_connections = 64,
                    const std::string& extra = "") {
    std::string list;
    for (const auto& name : workspaces) {
      list += (list.empty() ? "\"" : ", \"") + (m_dir / name).string() + "\"";
    }
    m_dir.write_file("agent.json",
                     "{\"version\": 1, \"socket\": \"" + m_socket.string() +
                         "\", \"store_dir\": \"" + (m_dir / "store").string() +
                         "\", \"max_connections\": " + std::to_string(max_connections) + extra +
                         ", \"workspaces\": [" + list + "]}");
  }
  // Starts the agent; returns once it answers `status`.
  void start(std::vector<std::string> prefix = {}) {
    prefix.push_back(test::forge_binary().string());
    for (const char* arg : {"agent", "--config"}) prefix.emplace_back(arg);
    prefix.push_back((m_dir / "agent.json").string());
    m_agent = std::make_unique<test::BackgroundProcess>(prefix, m_dir / "agent.log");
    for (auto deadline = std::chrono::steady_clock::now() + 30s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
      if (auto client = agent::Client::connect(m_socket, 5s); client && client->result("status"))
        return;
    }
    FAIL() << "the agent did not answer; log:\n" << m_dir.read_file("agent.log");
  }
  agent::Client client() {
    auto connected = agent::Client::connect(m_socket, 20s);
    EXPECT_TRUE(connected) << connected.error().to_string();
    return std::move(*connected);
  }
  test::TempDir m_dir;
  std::filesystem::path m_socket;
  std::unique_ptr<test::BackgroundProcess> m_agent;
};

TEST_F(AgentTest, SinceAndHashAnswerFromTheWarmAgent) {
  write_config({"ws1", "ws2"});
  start();
  auto c = client();
  auto status = c.result("status");
  ASSERT_TRUE(status) << status.error().to_string();
  EXPECT_EQ((*status)["workspaces"].size(), 2u);
  struct stat dir {};
  ASSERT_EQ(::stat(m_socket.parent_path().c_str(), &dir), 0);
  EXPECT_EQ(dir.st_mode & 0777, 0700u);

  const std::string ws1 = std::filesystem::canonical(m_dir / "ws1").string();
  auto first = c.result("since", {{"workspace", ws1}});
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_TRUE((*first)["fresh_instance"].get<bool>());
  m_dir.write_file("ws1/new.txt", "new\n");
  auto next = c.result("since", {{"workspace", ws1}, {"cursor", (*first)["cursor"]}});
  ASSERT_TRUE(next) << next.error().to_string();
  EXPECT_FALSE((*next)["fresh_instance"].get<bool>());
  EXPECT_EQ((*next)["source"], "watcher");
  ASSERT_EQ((*next)["changes"].size(), 1u) << next->dump();
  EXPECT_EQ((*next)["changes"][0]["path"], "new.txt");

  const std::string file = ws1 + "/a.txt";
  std::this_thread::sleep_for(100ms);  // past the racy window of a.txt's mtime
  auto hashed = c.result("hash", {{"paths", {file}}});
  ASSERT_TRUE(hashed) << hashed.error().to_string();
  const auto sha = test::run_shell("sha256sum " + test::shell_quote(file)).out.substr(0, 64);
  EXPECT_EQ((*hashed)["results"][0]["sha256"], sha);
  auto again = c.result("hash", {{"paths", {file, ws1 + "/absent"}}});
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)["results"][0]["cached"].get<bool>());
  EXPECT_TRUE((*again)["results"][1].contains("error"));
  EXPECT_FALSE(c.result("since", {{"workspace", "/not/watched"}}));

  auto put = c.result("put", {{"path", file}});
  ASSERT_TRUE(put) << put.error().to_string();
  auto missing = c.result(
      "find_missing",
      {{"digests",
        {(*put)["digest"], "0000000000000000000000000000000000000000000000000000000000000000/1"}}});
  ASSERT_TRUE(missing);
  EXPECT_EQ((*missing)["missing"].size(), 1u);
  auto got = c.result("get", {{"digest", (*put)["digest"]}, {"path", (m_dir / "copy").string()}});
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(m_dir.read_file("copy"), "alpha\n");
  EXPECT_EQ(m_agent->stop(SIGTERM, 20s), 0);
  EXPECT_FALSE(std::filesystem::exists(m_socket));
}

TEST_F(AgentTest, GetOfACorruptBlobFailsAndWritesNothing) {
  write_config({});
  start();
  auto c = client();
  const auto file = m_dir.write_file("data", "precious bytes\n");
  auto put = c.result("put", {{"path", file.string()}});
  ASSERT_TRUE(put) << put.error().to_string();
  const std::string digest = (*put)["digest"];
  const auto blob = m_dir / "store/cas" / digest.substr(0, 2) / digest.substr(0, 64);
  ASSERT_TRUE(std::filesystem::exists(blob));
  { std::ofstream(blob, std::ios::trunc) << "PRECIOUS BYTES\n"; }  // same size, other bytes
  auto got = c.result("get", {{"digest", digest}, {"path", (m_dir / "out").string()}});
  EXPECT_FALSE(got);
  EXPECT_FALSE(std::filesystem::exists(m_dir / "out"));
  EXPECT_EQ(
      test::run_shell("ls " + test::shell_quote(m_dir.path().string()) + " | grep -c forge-get")
          .out,
      "0\n");
  EXPECT_EQ(m_agent->stop(SIGTERM, 20s), 0);
}

TEST_F(AgentTest, MalformedRequestsAreAnsweredAndCloseOnlyTheirConnection) {
  write_config({"ws1"});
  start();
  const std::string huge(2 << 20, 'x');
  for (const std::string& bad :
       {std::string("{not json\n"), std::string("{\"v\":1,\"method\":\"rm\"}\n"), huge}) {
    auto c = client();
    // The agent may close before a huge line is sent whole (EPIPE here); its answer is
    // already on the way.
    (void)c.send_raw(bad);
    auto line = c.read_line();
    ASSERT_TRUE(line) << line.error().to_string();
    const auto response = nlohmann::json::parse(*line, nullptr, false);
    ASSERT_TRUE(response.is_object()) << *line;
    EXPECT_EQ(response["ok"], false);
    EXPECT_EQ(response["error"]["category"], "Validation");
    auto closed = c.read_line();  // then EOF: the connection is closed
    ASSERT_TRUE(closed);
    EXPECT_EQ(*closed, "");
  }
  auto c = client();
  EXPECT_TRUE(c.result("status"));
  EXPECT_EQ(m_agent->stop(SIGTERM, 20s), 0);
}

TEST_F(AgentTest, ConnectionsBeyondTheLimitAreRefusedNotQueued) {
  write_config({}, 2);
  start();
  auto one = client();
  // start()'s probe connection is being closed: wait until `one` is the only one.
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
    auto status = one.result("status");
    ASSERT_TRUE(status);
    if ((*status)["connections"] == 1) break;
  }
  auto two = client();
  ASSERT_TRUE(two.result("status"));
  auto three = client();
  auto refused = three.read_line();
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->find("at most 2"), std::string::npos) << *refused;
  EXPECT_TRUE(one.result("status"));
  EXPECT_EQ(m_agent->stop(SIGTERM, 20s), 0);
}

TEST_F(AgentTest, AnotherUsersProcessIsRefused) {
  if (::getuid() != 0) GTEST_SKIP() << "dropping to nobody needs root";
  write_config({"ws1"});
  start();
  // Let nobody reach the socket at all, so the refusal tested is the agent's uid check.
  ::chmod(m_dir.path().c_str(), 0755);
  ::chmod(m_socket.parent_path().c_str(), 0711);
  ::chmod(m_socket.c_str(), 0666);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, m_socket.c_str(), m_socket.native().size());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
      ::_exit(11);
    const char request[] = "{\"v\":1,\"id\":1,\"method\":\"status\"}\n";
    // The refusal may arrive (and the agent close) before this is sent: ignore EPIPE.
    (void)::send(fd.get(), request, sizeof(request) - 1, MSG_NOSIGNAL);
    std::string answer;
    char buffer[4096];
    for (ssize_t n; (n = ::read(fd.get(), buffer, sizeof(buffer))) > 0;) answer.append(buffer, n);
    const bool refused = answer.find("\"ok\":false") != std::string::npos &&
                         answer.find("may not use") != std::string::npos;
    ::_exit(refused ? 0 : 13);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 setuid, 11 connect, 13 served";
  auto c = client();
  EXPECT_TRUE(c.result("status"));  // the agent is unharmed
  EXPECT_EQ(m_agent->stop(SIGTERM, 20s), 0);
}

TEST_F(AgentTest, SighupAddsAndRemovesWorkspaces) {
  write_config({"ws1"});
  start();
  write_config({"ws2"});
  ASSERT_EQ(::kill(m_agent->pid(), SIGHUP), 0);
  const std::string ws2 = std::filesystem::canonical(m_dir / "ws2").string();
  nlohmann::json workspaces;
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    auto status = client().result("status");
    ASSERT_TRUE(status);
    workspaces = (*status)["workspaces"];
    if (workspaces.size() == 1 && workspaces[0]["root"] == ws2) break;
  }
  ASSERT_EQ(workspaces.size(), 1u) << workspaces.dump();
  EXPECT_EQ(workspaces[0]["root"], ws2);
  auto c = client();
  auto first = c.result("since", {{"workspace", ws2}});
  ASSERT_TRUE(first) << first.error().to_string();
  m_dir.write_file("ws2/added.txt", "x");
  auto next = c.result("since", {{"workspace", ws2}, {"cursor", (*first)["cursor"]}});
  ASSERT_TRUE(next);
  ASSERT_EQ((*next)["changes"].size(), 1u) << next->dump();
  EXPECT_EQ((*next)["source"], "watcher");
  EXPECT_EQ(m_agent->stop(SIGTERM, 20s), 0);
}

TEST_F(AgentTest, SigtermDuringAPutLeavesNothingPartialAndExitsZero) {
  write_config({});
  const std::string big(32 << 20, 'z');
  const auto file = m_dir.write_file("big.bin", big);
  start();
  auto c = client();
  ASSERT_TRUE(c.send_raw(agent::request_line(1, "put", {{"path", file.string()}})));
  std::this_thread::sleep_for(20ms);
  const int exit_code = m_agent->stop(SIGTERM, 30s);
  EXPECT_EQ(exit_code, 0) << m_dir.read_file("agent.log");
  auto line = c.read_line();
  const bool completed = line && line->find("\"ok\":true") != std::string::npos;
  // Whatever the answer, the store holds the whole blob or nothing.
  const auto listing = test::run_shell("find " + test::shell_quote((m_dir / "store/cas").string()) +
                                       " -type f -size +1M -exec sha256sum {} +");
  const auto expected =
      test::run_shell("sha256sum " + test::shell_quote(file.string())).out.substr(0, 64);
  if (completed) {
    EXPECT_NE(listing.out.find(expected), std::string::npos) << listing.out;
  }
  if (!listing.out.empty()) {
    EXPECT_NE(listing.out.find(expected), std::string::npos) << "a partial blob: " << listing.out;
  }
  EXPECT_EQ(test::run_shell("ls -A " + test::shell_quote((m_dir / "store/tmp").string())).out, "");
}

TEST_F(AgentTest, TellsSystemdWhenReady) {
  write_config({"ws1"});
  const auto path = (m_dir / "notify").string();
  UniqueFd receiver(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size());
  ASSERT_EQ(::bind(receiver.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  start({"/usr/bin/env", "NOTIFY_SOCKET=" + path});
  timeval tv{5, 0};
  ::setsockopt(receiver.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buffer[64] = {};
  const ssize_t n = ::recv(receiver.get(), buffer, sizeof(buffer), 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(n)), "READY=1");
  EXPECT_EQ(m_agent->stop(SIGTERM, 20s), 0);
  const ssize_t stopping = ::recv(receiver.get(), buffer, sizeof(buffer), 0);
  ASSERT_GT(stopping, 0);
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(stopping)), "STOPPING=1");
}

TEST_F(AgentTest, ScanSinceAndHashAskTheAgentAndFallBackSilentlyWithout) {
  write_config({"ws1"});
  start();
  const std::string forge = "FORGE_AGENT_SOCKET=" + test::shell_quote(m_socket.string()) + " " +
                            test::shell_quote(test::forge_binary().string());
  const std::string ws1 = test::shell_quote((m_dir / "ws1").string());
  const auto first = test::run_shell(forge + " scan " + ws1 + " --json --since none");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto first_json = nlohmann::json::parse(first.out);
  EXPECT_EQ(first_json["backend"], "agent");
  m_dir.write_file("ws1/later.txt", "later\n");
  const std::string since = " --json --since " + first_json["cursor"].get<std::string>();
  const auto via_agent = test::run_shell(forge + " scan " + ws1 + since);
  const auto local = test::run_shell(forge + " scan " + ws1 + since + " --no-agent");
  ASSERT_EQ(via_agent.exit_code, 0) << via_agent.err;
  ASSERT_EQ(local.exit_code, 0) << local.err;
  const auto agent_answer = nlohmann::json::parse(via_agent.out);
  const auto local_answer = nlohmann::json::parse(local.out);
  EXPECT_EQ(agent_answer["backend"], "agent");
  EXPECT_NE(local_answer["backend"], "agent");
  EXPECT_EQ(agent_answer["changes"], local_answer["changes"]);
  ASSERT_EQ(agent_answer["changes"].size(), 1u);
  EXPECT_EQ(agent_answer["changes"][0]["path"], "later.txt");

  const std::string files = " " + test::shell_quote((m_dir / "ws1/a.txt").string()) + " " +
                            test::shell_quote((m_dir / "ws1/later.txt").string());
  const auto hashed = test::run_shell(forge + " hash --json" + files);
  const auto hashed_here = test::run_shell(forge + " hash --json --no-agent" + files);
  ASSERT_EQ(hashed.exit_code, 0) << hashed.err;
  EXPECT_EQ(hashed.out, hashed_here.out);
  auto status = client().result("status");
  ASSERT_TRUE(status);
  EXPECT_GE((*status)["hash_cache_entries"].get<int>(), 1);  // the agent did the hashing

  EXPECT_EQ(m_agent->stop(SIGTERM, 20s), 0);
  const auto without = test::run_shell(forge + " scan " + ws1 + since);
  EXPECT_EQ(without.exit_code, 0);
  EXPECT_EQ(without.err, "");
  EXPECT_NE(nlohmann::json::parse(without.out)["backend"], "agent");
  const auto hashed_without = test::run_shell(forge + " hash --json" + files);
  EXPECT_EQ(hashed_without.out, hashed_here.out);
  EXPECT_EQ(hashed_without.err, "");
}

TEST_F(AgentTest, ServesTheStoreOverHttpThroughForgeServe) {
  const auto port_file = m_dir / "ports.json";
  write_config({}, 64,
               ", \"serve\": [\"--http-port\", \"0\", \"--no-grpc\", \"--no-fsync\", "
               "\"--port-file\", \"" +
                   port_file.string() + "\"]");
  start();
  ASSERT_TRUE(test::wait_for_file(port_file, 30s)) << m_dir.read_file("agent.log");
  const int port = nlohmann::json::parse(m_dir.read_file("ports.json"))["http"];
  const auto body = m_dir.write_file("body", "served by the agent's forge serve\n");
  const std::string sha =
      test::run_shell("sha256sum " + test::shell_quote(body.string())).out.substr(0, 64);
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/cas/" + sha;
  const auto put = test::run_shell("curl -sf -X PUT --data-binary @" +
                                   test::shell_quote(body.string()) + " " + url);
  ASSERT_EQ(put.exit_code, 0) << put.err;
  // The agent answers from the same store.
  auto c = client();
  const std::string digest = sha + "/" + std::to_string(std::filesystem::file_size(body));
  auto missing = c.result("find_missing", {{"digests", {digest}}});
  ASSERT_TRUE(missing) << missing.error().to_string();
  EXPECT_TRUE((*missing)["missing"].empty());
  auto status = c.result("status");
  ASSERT_TRUE(status);
  EXPECT_EQ((*status)["serve"]["running"], true);
  const pid_t serve_pid = (*status)["serve"]["pid"];
  EXPECT_EQ(m_agent->stop(SIGTERM, 45s), 0) << m_dir.read_file("agent.log");
  EXPECT_NE(::kill(serve_pid, 0), 0);  // forge serve stopped with the agent
}

}  // namespace
}  // namespace forge
