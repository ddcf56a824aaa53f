// The Windows half of keeper_process.h.
#include <windows.h>

#include <string>

#include "forge/core/support/path_text.h"
#include "forge/core/support/unique_handle_win32.h"
#include "forge/core/watch/index_sync.h"
#include "keeper_process.h"

namespace forge::watch {

pid_t this_process_id() {
  return static_cast<pid_t>(::GetCurrentProcessId());
}

namespace detail {

bool process_alive(long pid) {
  const UniqueHandle process(::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE,
                                           static_cast<DWORD>(pid)));
  // ERROR_ACCESS_DENIED: it exists but is not ours to open; any other error: no such process.
  if (!process) return ::GetLastError() == ERROR_ACCESS_DENIED;
  return ::WaitForSingleObject(process.get(), 0) == WAIT_TIMEOUT;  // not yet exited
}

bool create_new_file(const std::filesystem::path& path) {
  const UniqueHandle file(::CreateFileW(win32_path(path).c_str(), GENERIC_WRITE, FILE_SHARE_READ,
                                        nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr));
  return file.valid();
}

}  // namespace detail
}  // namespace forge::watch
