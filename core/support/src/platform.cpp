#include "forge/core/support/platform.h"

#include <lmdb.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <thread>

namespace forge::support {
namespace {

std::uint64_t read_number(const char* path, std::uint64_t fallback = 0) {
  std::ifstream in(path);
  std::uint64_t value = 0;
  return (in >> value) ? value : fallback;
}

}  // namespace

PlatformInfo detect_platform() {
  PlatformInfo info;
#if defined(__linux__)
  info.os = "Linux";
#elif defined(__APPLE__)
  info.os = "MacOS";
#elif defined(_WIN32)
  info.os = "Windows";
#else
  info.os = "Unknown";
#endif
  utsname name{};
  if (uname(&name) == 0) {
    info.kernel_release = name.release;
    info.architecture = name.machine;
  }
  info.cpu_count = std::thread::hardware_concurrency();
  info.page_size = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    info.nofile_soft = limit.rlim_cur;
    info.nofile_hard = limit.rlim_max;
  }
  info.inotify_max_user_watches = read_number("/proc/sys/fs/inotify/max_user_watches");
  info.inotify_max_user_instances = read_number("/proc/sys/fs/inotify/max_user_instances");
  info.inotify_max_queued_events = read_number("/proc/sys/fs/inotify/max_queued_events");
  std::ifstream disabled("/proc/sys/kernel/io_uring_disabled");
  int value = -1;
  if (disabled >> value) info.io_uring_disabled = value;
  info.lmdb_version = mdb_version(nullptr, nullptr, nullptr);
  return info;
}

}  // namespace forge::support
