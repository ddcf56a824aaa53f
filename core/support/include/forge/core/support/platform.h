#pragma once
// Facts about the machine Forge runs on, for `forge doctor`, logs and error context.
// Every field is read fresh on each call (cheap: uname, getrlimit, a few /proc files).
// A value that cannot be read is 0 or empty, never an error. Thread-safe.

#include <cstdint>
#include <string>

namespace forge::support {

struct PlatformInfo {
  std::string os;              // "Linux", "MacOS", "Windows": matches the build (Property 1)
  std::string kernel_release;  // uname -r
  std::string architecture;    // uname -m
  unsigned cpu_count = 0;
  std::uint64_t page_size = 0;
  std::uint64_t nofile_soft = 0;  // RLIMIT_NOFILE
  std::uint64_t nofile_hard = 0;
  std::uint64_t inotify_max_user_watches = 0;
  std::uint64_t inotify_max_user_instances = 0;
  std::uint64_t inotify_max_queued_events = 0;
  int io_uring_disabled = -1;  // kernel.io_uring_disabled; -1 when the sysctl is absent
  std::string lmdb_version;    // mdb_version()
};

PlatformInfo detect_platform();

}  // namespace forge::support
