#pragma once
// Windows only: the IOCP backend (iocp_io.cpp) - overlapped ReadFile on one I/O completion
// port, a window of files read at once (io.io_uring_queue_depth bounds it, as it bounds the
// ring on Linux), GetQueuedCompletionStatusEx on a pool of 2-4 workers. Same PlatformIO
// contract as the Linux backends (platform_io.h), with Windows meanings: a device, pipe or
// console is "not a regular file"; a file another process opened without sharing is EBUSY;
// write_all flushes with FlushFileBuffers and renames with MoveFileExW(WRITE_THROUGH).
//
// create_platform_io() on Windows (backend_selector_win32.cpp) chooses it for "auto" (the
// fallback when no completion port can be created) and the portable fallback for
// "fallback"; io_uring is not built for Windows, so "uring" is a Dependency error naming the
// reason, and probe_io_uring() says why io_uring is not used.
// Thread-safe, as every PlatformIO is.

#ifndef _WIN32
#error "iocp_io_win32.h is for the Windows build only"
#endif

#include <memory>

#include "forge/core/io/platform_io.h"
#include "forge/core/support/config.h"
#include "forge/core/support/resource_manager.h"

namespace forge::io {

// Fails with a Dependency error when no completion port can be created. Owns a
// ResourceManager(config.max_file_handles) unless one is given.
Result<std::unique_ptr<PlatformIO>> create_iocp_io(
    const support::IoConfig& config, std::shared_ptr<support::ResourceManager> handles);

}  // namespace forge::io
