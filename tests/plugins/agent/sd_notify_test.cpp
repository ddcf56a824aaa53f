#include "forge/agent/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include <gtest/gtest.h>

#include "forge/core/support/unique_fd.h"
#include "forge/test/temp_dir.h"

namespace forge::agent {
namespace {

TEST(SdNotifyTest, SendsOneDatagramToNotifySocket) {
  test::TempDir dir;
  const auto path = (dir / "notify").string();
  UniqueFd receiver(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size());
  ASSERT_EQ(::bind(receiver.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  auto sent = sd_notify("READY=1");
  ::unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(sent) << sent.error().to_string();
  char buffer[64] = {};
  const ssize_t n = ::recv(receiver.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
  ASSERT_EQ(n, 7);
  EXPECT_EQ(std::string(buffer, 7), "READY=1");
}

TEST(SdNotifyTest, WithoutNotifySocketItDoesNothingAndABadOneIsAnError) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(sd_notify("READY=1"));
  ::setenv("NOTIFY_SOCKET", "relative/path", 1);
  auto bad = sd_notify("READY=1");
  ::unsetenv("NOTIFY_SOCKET");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().category(), ErrorCategory::configuration);
}

}  // namespace
}  // namespace forge::agent
