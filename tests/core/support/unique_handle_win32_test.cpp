// UniqueHandle (Windows build, run under wine): closes exactly once, moves ownership.
#include "forge/core/support/unique_handle_win32.h"

#include <gtest/gtest.h>

namespace forge {
namespace {

HANDLE new_event() {
  return ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
}

bool is_open(HANDLE handle) {
  DWORD flags = 0;
  return ::GetHandleInformation(handle, &flags) != 0;
}

TEST(UniqueHandleTest, ClosesWhenDestroyedAndOnReset) {
  HANDLE raw = new_event();
  ASSERT_TRUE(is_open(raw));
  { UniqueHandle owner(raw); }
  EXPECT_FALSE(is_open(raw));
  UniqueHandle owner(new_event());
  HANDLE first = owner.get();
  owner.reset(new_event());
  EXPECT_FALSE(is_open(first));
  EXPECT_TRUE(is_open(owner.get()));
  EXPECT_EQ(owner.close(), 0u);
  EXPECT_FALSE(owner.valid());
  EXPECT_EQ(owner.close(), 0u);  // closing an empty owner is a no-op
}

TEST(UniqueHandleTest, MoveTransfersOwnershipAndReleaseGivesItUp) {
  UniqueHandle a(new_event());
  HANDLE raw = a.get();
  UniqueHandle b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  EXPECT_EQ(b.get(), raw);
  UniqueHandle c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  HANDLE released = c.release();
  EXPECT_FALSE(c.valid());
  EXPECT_TRUE(is_open(released));
  ::CloseHandle(released);
}

TEST(UniqueHandleTest, InvalidHandleValueCountsAsEmpty) {
  UniqueHandle failed(::CreateFileW(L"Z:\\forge\\does\\not\\exist", GENERIC_READ, 0, nullptr,
                                    OPEN_EXISTING, 0, nullptr));
  EXPECT_FALSE(failed.valid());
  EXPECT_FALSE(static_cast<bool>(failed));
  EXPECT_EQ(failed.close(), 0u);
}

}  // namespace
}  // namespace forge
