// The io_uring backend. Each worker thread drives its own ring (a ring is single-issuer);
// on this 2-core machine two workers overlap one file's hashing with another's I/O.
//
// Per file, one submission chain, no per-file syscalls besides two statx calls:
//   OPENAT (direct descriptor in slot s) -link-> READ_FIXED (registered buffer s)
//     [small files: -hardlink-> CLOSE (slot s), so the whole file costs one chain]
//     [large files: further READ_FIXED at increasing offsets, then CLOSE]
// The file's statx before and after reading (size, mtime, inode) must agree with the
// bytes read, else the result is an Error "changed while reading" (never a wrong digest).
// A slot's ResourceManager handle is held from before OPENAT until its CLOSE completes, so
// in-flight opens count against io.max_file_handles.
#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "forge/core/io/backend_selector.h"
#include "sync_file.h"
#include "sync_io_base.h"

namespace forge::io {
namespace {

// 128 KiB per read: one read covers nearly every source file. 64 slots x 128 KiB = 8 MiB
// per ring, which is exactly the default RLIMIT_MEMLOCK: unprivileged users may not get
// registered buffers and then read into the same, unregistered, buffers.
constexpr std::size_t k_chunk_size = 128 * 1024;

// Files in flight per ring while the page cache answers every read at submission: the
// kernel copies each file into its slot's buffer at submit time and the hasher reads it
// after the whole batch is reaped, so every slot in flight pushes the first buffers out of
// the CPU caches before they are hashed. 8 keeps a batch within L2; on a 10k-file warm
// tree it cut `forge hash` CPU by ~25% against 64 (issue 20). When reads wait for the
// disk, the window doubles up to every slot, so cold trees still get a deep queue.
constexpr unsigned k_warm_window = 8;

enum class Op : std::uint64_t { open = 0, read = 1, close = 2 };

std::uint64_t user_data(std::size_t slot, Op op) {
  return (static_cast<std::uint64_t>(slot) << 2) | static_cast<std::uint64_t>(op);
}

// Receives one file's content. Created when the file starts; reset() discards partial
// data when the file has to be read again through the synchronous path.
class FileConsumer {
 public:
  virtual ~FileConsumer() = default;
  virtual void data(std::span<const std::byte> chunk) = 0;
  virtual void reset() = 0;
  virtual void done(Result<FileStat> stat) = 0;
};
using ConsumerFactory = std::function<std::unique_ptr<FileConsumer>(std::size_t index)>;

Result<FileStat> stat_following(const std::filesystem::path& path) {
  struct statx stx {};
  if (statx(AT_FDCWD, path.c_str(), AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, &stx) != 0) {
    return fail(Error::from_errno(errno, "statx", path.string()));
  }
  return to_file_stat(stx);
}

class Ring {
 public:
  static Result<std::unique_ptr<Ring>> create(unsigned depth) {
    if (depth == 0) {
      return fail(Error::from_errno(EINVAL, "io_uring_setup").with_backend("io_uring"));
    }
    auto ring = std::unique_ptr<Ring>(new Ring());
    io_uring_params params{};
    // Not SINGLE_ISSUER: pooled rings move between threads from one batch to the next.
    params.flags = IORING_SETUP_COOP_TASKRUN;
    int rc = io_uring_queue_init_params(depth, &ring->m_ring, &params);
    if (rc == -EINVAL) {  // kernels before 6.0 do not know these flags
      params = {};
      rc = io_uring_queue_init_params(depth, &ring->m_ring, &params);
    }
    if (rc < 0) return fail(Error::from_errno(-rc, "io_uring_setup").with_backend("io_uring"));
    ring->m_initialised = true;
    // At most 3 SQEs per slot are outstanding, so depth / 4 slots never overfill the SQ,
    // and CQ (2 x depth) can never overflow.
    ring->m_slots = std::clamp(depth / 4, 1u, 64u);
    ring->m_buffers.resize(ring->m_slots);
    std::vector<iovec> iovecs(ring->m_slots);
    for (unsigned s = 0; s < ring->m_slots; ++s) {
      void* memory = std::aligned_alloc(4096, k_chunk_size);
      if (memory == nullptr) std::abort();
      ring->m_buffers[s] = static_cast<std::byte*>(memory);
      iovecs[s] = iovec{memory, k_chunk_size};
    }
    // Registered buffers are pinned memory, charged to RLIMIT_MEMLOCK for unprivileged
    // users: when the limit is too low (ENOMEM), plain reads into the same buffers work.
    rc = io_uring_register_buffers(&ring->m_ring, iovecs.data(), ring->m_slots);
    ring->m_registered_buffers = rc == 0;
    if (rc < 0 && rc != -ENOMEM && rc != -EPERM) {
      return fail(Error::from_errno(-rc, "io_uring_register_buffers").with_backend("io_uring"));
    }
    rc = io_uring_register_files_sparse(&ring->m_ring, ring->m_slots);
    if (rc < 0) {
      return fail(Error::from_errno(-rc, "io_uring_register_files").with_backend("io_uring"));
    }
    return ring;
  }

  ~Ring() {
    if (m_initialised) io_uring_queue_exit(&m_ring);
    for (std::byte* buffer : m_buffers) std::free(buffer);
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Streams paths[next++] through the ring until every path is taken and finished.
  void run(std::span<const std::filesystem::path> paths, std::atomic<std::size_t>& next,
           support::ResourceManager& handles, const ConsumerFactory& make_consumer, Follow follow);

 private:
  struct Slot {
    std::size_t index = 0;
    bool busy = false;
    std::unique_ptr<FileConsumer> consumer;
    support::HandleGuard handle;
    FileStat before;
    std::uint64_t offset = 0;
    std::uint32_t pending = 0;
    bool small = false;
    bool opened = false;
    bool close_submitted = false;
    bool read_synchronously = false;  // short read of a small file: redo without the ring
    std::optional<Error> error;
  };

  Ring() = default;
  io_uring_sqe* next_sqe();
  bool start(std::size_t slot_number, std::size_t index, const std::filesystem::path& path,
             support::HandleGuard handle, const ConsumerFactory& make_consumer);
  void submit_read(std::size_t slot_number, std::size_t length, unsigned flags);
  void submit_close(std::size_t slot_number);
  void complete(std::span<const std::filesystem::path> paths, const io_uring_cqe& cqe);
  void finish(std::span<const std::filesystem::path> paths, Slot& slot);
  // Reads a whole file with plain syscalls into slot.consumer.
  Result<FileStat> read_synchronously(Slot& slot, const std::filesystem::path& path);

  io_uring m_ring{};
  bool m_initialised = false;
  bool m_registered_buffers = false;
  unsigned m_slots = 0;
  std::vector<std::byte*> m_buffers;
  std::vector<Slot> m_state;
  std::size_t m_active = 0;
  unsigned m_window = 0;               // slots that may be busy at once (k_warm_window..m_slots)
  std::size_t m_in_kernel = 0;         // SQEs submitted whose CQE has not been reaped
  std::vector<io_uring_cqe> m_reaped;  // scratch: the CQEs of one wait
  Follow m_follow = Follow::yes;       // of the current run()
};

io_uring_sqe* Ring::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&m_ring);
  while (sqe == nullptr) {  // SQ full: hand what we have to the kernel and try again
    if (const int submitted = io_uring_submit(&m_ring); submitted > 0) m_in_kernel += submitted;
    sqe = io_uring_get_sqe(&m_ring);
  }
  return sqe;
}

void Ring::submit_read(std::size_t s, std::size_t length, unsigned flags) {
  Slot& slot = m_state[s];
  io_uring_sqe* sqe = next_sqe();
  if (m_registered_buffers) {
    io_uring_prep_read_fixed(sqe, static_cast<int>(s), m_buffers[s], static_cast<unsigned>(length),
                             slot.offset, static_cast<int>(s));
  } else {
    io_uring_prep_read(sqe, static_cast<int>(s), m_buffers[s], static_cast<unsigned>(length),
                       slot.offset);
  }
  sqe->flags |= IOSQE_FIXED_FILE | flags;
  io_uring_sqe_set_data64(sqe, user_data(s, Op::read));
  ++slot.pending;
}

void Ring::submit_close(std::size_t s) {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_close_direct(sqe, static_cast<unsigned>(s));
  io_uring_sqe_set_data64(sqe, user_data(s, Op::close));
  ++m_state[s].pending;
  m_state[s].close_submitted = true;
}

bool Ring::start(std::size_t s, std::size_t index, const std::filesystem::path& path,
                 support::HandleGuard handle, const ConsumerFactory& make_consumer) {
  Slot& slot = m_state[s];
  slot = Slot{};
  slot.index = index;
  slot.consumer = make_consumer(index);
  auto before = m_follow == Follow::yes ? stat_following(path) : detail::lstat_path(path);
  if (!before) {
    slot.consumer->done(fail(std::move(before).error().with_backend("io_uring")));
    return false;
  }
  if (!S_ISREG(before->mode)) {
    Error error = S_ISDIR(before->mode)   ? Error::from_errno(EISDIR, "read", path.string())
                  : S_ISLNK(before->mode) ? Error::from_errno(ELOOP, "open", path.string())
                                          : detail::not_regular(path, before->mode);
    slot.consumer->done(fail(std::move(error).with_backend("io_uring")));
    return false;
  }
  slot.busy = true;
  slot.handle = std::move(handle);
  slot.before = *before;
  slot.small = before->size < k_chunk_size;
  io_uring_sqe* open = next_sqe();
  // O_NONBLOCK: a FIFO swapped in since the stat cannot block the open (the final stat
  // then sees another inode and fails the read); O_NOFOLLOW: nor can a symlink.
  const int flags = O_RDONLY | O_NOCTTY | O_NONBLOCK | (m_follow == Follow::no ? O_NOFOLLOW : 0);
  io_uring_prep_openat_direct(open, AT_FDCWD, path.c_str(), flags,
                              0,  // no O_CLOEXEC: EINVAL with direct fds
                              static_cast<unsigned>(s));
  open->flags |= IOSQE_IO_LINK;
  io_uring_sqe_set_data64(open, user_data(s, Op::open));
  ++slot.pending;
  if (slot.small) {
    // Ask for one byte more than the size: getting it means the file grew.
    submit_read(s, before->size + 1, IOSQE_IO_HARDLINK);
    submit_close(s);
  } else {
    submit_read(s, k_chunk_size, 0);
  }
  ++m_active;
  return true;
}

void Ring::complete(std::span<const std::filesystem::path> paths, const io_uring_cqe& cqe) {
  const std::size_t s = cqe.user_data >> 2;
  const Op op = static_cast<Op>(cqe.user_data & 3);
  Slot& slot = m_state[s];
  const std::filesystem::path& path = paths[slot.index];
  --slot.pending;
  const int res = cqe.res;
  switch (op) {
    case Op::open:
      if (res >= 0) {
        slot.opened = true;
      } else if (res != -ECANCELED && !slot.error) {
        slot.error = Error::from_errno(-res, "open", path.string()).with_backend("io_uring");
      }
      break;
    case Op::read:
      if (res == -ECANCELED || slot.error) break;
      if (res == -EAGAIN || res == -EINTR) {
        // EAGAIN (O_NONBLOCK on a file system without async reads): read it plainly rather
        // than resubmit in a loop.
        if (slot.small || res == -EAGAIN) {
          slot.read_synchronously = true;
        } else {
          submit_read(s, k_chunk_size, 0);
        }
        break;
      }
      if (res < 0) {
        slot.error = Error::from_errno(-res, "read", path.string()).with_backend("io_uring");
        break;
      }
      slot.consumer->data(std::span<const std::byte>(m_buffers[s], static_cast<std::size_t>(res)));
      slot.offset += static_cast<std::uint64_t>(res);
      if (slot.small) {
        if (slot.offset < slot.before.size) slot.read_synchronously = true;  // short read
      } else if (res == 0 || slot.offset > slot.before.size) {
        // EOF or grown past the size seen at open: check_unchanged() decides.
      } else {
        submit_read(s, k_chunk_size, 0);
      }
      break;
    case Op::close: slot.opened = false; break;
    default: break;
  }
  if (slot.pending == 0) {
    if (slot.opened && !slot.close_submitted) {
      submit_close(s);
    } else {
      finish(paths, slot);
    }
  }
}

void Ring::finish(std::span<const std::filesystem::path> paths, Slot& slot) {
  const std::filesystem::path& path = paths[slot.index];
  Result<FileStat> outcome = FileStat{};
  if (slot.error) {
    outcome = fail(std::move(*slot.error));
  } else if (slot.read_synchronously) {
    slot.consumer->reset();
    outcome = read_synchronously(slot, path);
  } else {
    auto after = stat_following(path);
    if (!after) {
      outcome = fail(std::move(after).error());
    } else if (auto same = detail::check_unchanged(path, slot.before, *after, slot.offset); !same) {
      outcome = fail(std::move(same).error().with_backend("io_uring"));
    } else if (after->ino != slot.before.ino || after->dev != slot.before.dev) {
      outcome = fail(Error(ErrorCategory::file_system,
                           fmt::format("'{}' was replaced while reading", path.string()))
                         .with_file(path.string())
                         .with_backend("io_uring")
                         .with_suggestion("hash it again once the writer is done"));
    } else {
      outcome = *after;
    }
  }
  slot.consumer->done(std::move(outcome));
  slot.consumer.reset();
  slot.handle.release();
  slot.busy = false;
  --m_active;
}

Result<FileStat> Ring::read_synchronously(Slot& slot, const std::filesystem::path& path) {
  FORGE_TRY(const UniqueFd fd, detail::open_sync(path, m_follow));
  std::vector<std::byte> buffer(k_chunk_size);
  return detail::stream_file(fd, path, buffer,
                             [&](std::span<const std::byte> chunk) { slot.consumer->data(chunk); });
}

void Ring::run(std::span<const std::filesystem::path> paths, std::atomic<std::size_t>& next,
               support::ResourceManager& handles, const ConsumerFactory& make_consumer,
               Follow follow) {
  m_follow = follow;
  m_state.clear();
  m_state.resize(m_slots);
  m_active = 0;
  m_in_kernel = 0;
  m_window = std::min(m_slots, k_warm_window);
  bool exhausted = false;
  while (true) {
    for (std::size_t s = 0; s < m_slots && !exhausted && m_active < m_window; ++s) {
      if (m_state[s].busy) continue;
      std::optional<support::HandleGuard> handle = handles.try_acquire();
      if (!handle) {
        if (m_active > 0) break;  // our own completions will free handles
        auto waited = handles.acquire();
        if (!waited) {
          // The manager shut down: fail every remaining path.
          for (std::size_t i = next++; i < paths.size(); i = next++) {
            make_consumer(i)->done(fail(waited.error()));
          }
          exhausted = true;
          break;
        }
        handle = std::move(*waited);
      }
      const std::size_t index = next++;
      if (index >= paths.size()) {
        exhausted = true;
        break;
      }
      start(s, index, paths[index], std::move(*handle), make_consumer);
    }
    if (m_active == 0) {
      if (exhausted || next >= paths.size()) break;
      continue;
    }
    const int submitted = io_uring_submit_and_wait(&m_ring, 1);
    // EINTR: a signal; EAGAIN/EBUSY: the kernel wants completions reaped first (CQ
    // back-pressure). All three resolve by reaping below and entering again.
    if (submitted < 0 && submitted != -EINTR && submitted != -EAGAIN && submitted != -EBUSY) {
      spdlog::critical("io_uring_enter failed: {}",
                       Error::from_errno(-submitted, "io_uring_enter").summary());
      std::abort();  // in-flight requests reference our buffers: no safe way to unwind
    }
    if (submitted > 0) m_in_kernel += static_cast<std::size_t>(submitted);
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned seen = 0;
    m_reaped.clear();
    io_uring_for_each_cqe(&m_ring, head, cqe) {
      m_reaped.push_back(*cqe);
      ++seen;
    }
    io_uring_cq_advance(&m_ring, seen);
    m_in_kernel -= std::min<std::size_t>(m_in_kernel, seen);
    // Requests still with the kernel after the wait are waiting for the disk (or an io-wq
    // worker): widen the window so that more reads queue up; a batch that the page cache
    // answered whole narrows it again, one slot at a time.
    if (m_in_kernel > 0) {
      m_window = std::min(m_slots, m_window * 2);
    } else if (m_window > std::min(m_slots, k_warm_window)) {
      --m_window;
    }
    for (const io_uring_cqe& entry : m_reaped) complete(paths, entry);
  }
}

class RingPool {
 public:
  explicit RingPool(unsigned depth) : m_depth(depth) {}
  Result<std::unique_ptr<Ring>> take() {
    {
      std::lock_guard lock(m_mutex);
      if (!m_free.empty()) {
        auto ring = std::move(m_free.back());
        m_free.pop_back();
        return ring;
      }
    }
    return Ring::create(m_depth);
  }
  void give(std::unique_ptr<Ring> ring) {
    std::lock_guard lock(m_mutex);
    m_free.push_back(std::move(ring));
  }

 private:
  unsigned m_depth;
  std::mutex m_mutex;
  std::vector<std::unique_ptr<Ring>> m_free;  // guarded by m_mutex
};

class HashConsumer final : public FileConsumer {
 public:
  HashConsumer(hash::AlgorithmSet algorithms, Result<HashResult>& out)
      : m_algorithms(algorithms), m_hasher(algorithms), m_out(out) {}
  void data(std::span<const std::byte> chunk) override { m_hasher.update(chunk); }
  void reset() override { m_hasher = hash::MultiHasher(m_algorithms); }
  void done(Result<FileStat> stat) override {
    if (!stat) {
      m_out = fail(std::move(stat).error());
      return;
    }
    HashResult result;
    result.size = stat->size;
    result.stat = *stat;
    result.digests = m_hasher.finish();
    m_out = std::move(result);
  }

 private:
  hash::AlgorithmSet m_algorithms;
  hash::MultiHasher m_hasher;
  Result<HashResult>& m_out;
};

class ReadConsumer final : public FileConsumer {
 public:
  explicit ReadConsumer(Result<std::vector<std::byte>>& out) : m_out(out) {}
  void data(std::span<const std::byte> chunk) override {
    m_data.insert(m_data.end(), chunk.begin(), chunk.end());
  }
  void reset() override { m_data.clear(); }
  void done(Result<FileStat> stat) override {
    if (!stat) {
      m_out = fail(std::move(stat).error());
    } else {
      m_out = std::move(m_data);
    }
  }

 private:
  std::vector<std::byte> m_data;
  Result<std::vector<std::byte>>& m_out;
};

class UringIo final : public detail::SyncIoBase {
 public:
  UringIo(const support::IoConfig& config, std::shared_ptr<support::ResourceManager> handles)
      : SyncIoBase(std::move(handles)), m_pool(config.io_uring_queue_depth) {}

  Result<void> warm_up() {
    FORGE_TRY(auto ring, m_pool.take());
    m_pool.give(std::move(ring));
    return ok();
  }

  std::string_view backend_name() const override { return "io_uring"; }

  Result<std::size_t> read(const std::filesystem::path& path, std::span<std::byte> buf) override {
    FORGE_TRY(auto data, read_all(path));
    const std::size_t n = std::min(buf.size(), data.size());
    std::copy_n(data.begin(), n, buf.begin());
    return n;
  }

  Result<std::vector<std::byte>> read_all(const std::filesystem::path& path) override {
    return std::move(batch_read(std::span(&path, 1)).front());
  }

 private:
  void read_into(std::span<const std::filesystem::path> paths,
                 std::span<Result<std::vector<std::byte>>> out) override {
    run(paths, [&](std::size_t i) { return std::make_unique<ReadConsumer>(out[i]); });
  }

  void hash_into(std::span<const std::filesystem::path> paths, hash::AlgorithmSet algorithms,
                 Follow follow, std::span<Result<HashResult>> out) override {
    run(
        paths, [&](std::size_t i) { return std::make_unique<HashConsumer>(algorithms, out[i]); },
        follow);
  }

  void run(std::span<const std::filesystem::path> paths, const ConsumerFactory& make_consumer,
           Follow follow = Follow::yes) {
    std::atomic<std::size_t> next{0};
    // Small batches are not worth a second ring.
    const std::size_t threads = paths.size() < 32 ? 1 : std::min(m_threads, paths.size());
    detail::parallel_for(threads, threads, [&](std::size_t) {
      auto ring = m_pool.take();
      if (!ring) {
        for (std::size_t i = next++; i < paths.size(); i = next++) {
          make_consumer(i)->done(fail(ring.error()));
        }
        return;
      }
      (*ring)->run(paths, next, *m_handles, make_consumer, follow);
      m_pool.give(std::move(*ring));
    });
  }

  RingPool m_pool;
};

}  // namespace

Result<std::unique_ptr<PlatformIO>> create_uring_io(
    const support::IoConfig& config, std::shared_ptr<support::ResourceManager> handles,
    bool verify) {
  if (!handles) handles = std::make_shared<support::ResourceManager>(config.max_file_handles);
  // io_uring_setup's own bounds (IORING_MAX_ENTRIES): checked here so that a lazy ring
  // cannot fail later for a reason known now.
  constexpr std::uint32_t k_max_entries = 32768;
  if (config.io_uring_queue_depth == 0 || config.io_uring_queue_depth > k_max_entries) {
    return fail(Error(ErrorCategory::dependency,
                      fmt::format("io_uring queue depth {} is outside 1..{}",
                                  config.io_uring_queue_depth, k_max_entries),
                      EINVAL)
                    .with_backend("io_uring")
                    .with_suggestion("set io.io_uring_queue_depth to a power of two such as 256"));
  }
  auto io = std::make_unique<UringIo>(config, std::move(handles));
  if (!verify) return std::unique_ptr<PlatformIO>(std::move(io));
  auto warm = io->warm_up();
  if (!warm) {
    return fail(Error(ErrorCategory::dependency,
                      fmt::format("io_uring cannot be set up here: {}", warm.error().summary()),
                      warm.error().code())
                    .with_backend("io_uring")
                    .with_suggestion("use the fallback backend: FORGE_IO_BACKEND=fallback"));
  }
  return std::unique_ptr<PlatformIO>(std::move(io));
}

}  // namespace forge::io
