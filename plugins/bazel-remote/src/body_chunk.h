#pragma once
// The buffer a request body is read into (http_body.h), k_chunk_size bytes, taken from a small
// per-thread free list. Bodies arrive back to back on keep-alive connections; a fresh
// zero-filled 256 KiB vector per body cost an mmap, its page faults and a memset each time
// (a fifth of the server's CPU under 1 MiB PUTs). Internal to forge_bazel_remote.
//
// Ownership: a BodyChunk owns its bytes until destroyed, then hands them to the free list of
// the thread that destroys it (a coroutine may resume on another thread; each list is only
// touched by its own thread). At most k_spare_body_chunks are kept per thread; the rest are
// freed, so idle memory stays bounded whatever the load was.
// Contents are uninitialized: read only what was written.

#include <cstddef>
#include <memory>

#include "http_common.h"

namespace forge::bazel_remote {

inline constexpr std::size_t k_spare_body_chunks = 4;

class BodyChunk {
 public:
  BodyChunk();
  ~BodyChunk();
  BodyChunk(const BodyChunk&) = delete;
  BodyChunk& operator=(const BodyChunk&) = delete;
  BodyChunk(BodyChunk&&) = delete;
  BodyChunk& operator=(BodyChunk&&) = delete;

  char* data() { return m_bytes.get(); }
  static constexpr std::size_t size() { return k_chunk_size; }

  // Buffers waiting in this thread's free list (for tests).
  static std::size_t spare_on_this_thread();

 private:
  std::unique_ptr<char[]> m_bytes;
};

}  // namespace forge::bazel_remote
