// detect_platform() on Windows (the Linux build's platform.cpp reads uname and /proc).
// Windows has no descriptor rlimit and no inotify or io_uring, so those fields stay 0 / -1;
// lmdb_version is the LMDB built from Debian's source package (scripts/build-windows-deps.sh).
#include <lmdb.h>
#include <windows.h>

#include <fmt/format.h>

#include "forge/core/support/platform.h"

namespace forge::support {
namespace {

// The true version: GetVersionExW reports what the executable's manifest claims to support,
// RtlGetVersion what the kernel is. ntdll.dll is mapped into every process.
std::string kernel_version() {
  using RtlGetVersionFn = LONG(WINAPI*)(OSVERSIONINFOW*);
  const HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  if (ntdll == nullptr) return {};
  const auto rtl_get_version = reinterpret_cast<RtlGetVersionFn>(
      reinterpret_cast<void*>(::GetProcAddress(ntdll, "RtlGetVersion")));
  if (rtl_get_version == nullptr) return {};
  OSVERSIONINFOW version{};
  version.dwOSVersionInfoSize = sizeof version;
  if (rtl_get_version(&version) != 0) return {};
  return fmt::format("{}.{}.{}", version.dwMajorVersion, version.dwMinorVersion,
                     version.dwBuildNumber);
}

std::string architecture_name(WORD architecture) {
  switch (architecture) {
    case PROCESSOR_ARCHITECTURE_AMD64: return "x86_64";
    case PROCESSOR_ARCHITECTURE_ARM64: return "aarch64";
    case PROCESSOR_ARCHITECTURE_INTEL: return "i686";
    default: return {};
  }
}

}  // namespace

PlatformInfo detect_platform() {
  PlatformInfo info;
  info.os = "Windows";
  info.kernel_release = kernel_version();
  SYSTEM_INFO system{};
  ::GetNativeSystemInfo(&system);
  info.architecture = architecture_name(system.wProcessorArchitecture);
  info.cpu_count = system.dwNumberOfProcessors;
  info.page_size = system.dwPageSize;
  info.lmdb_version = mdb_version(nullptr, nullptr, nullptr);
  return info;
}

}  // namespace forge::support
