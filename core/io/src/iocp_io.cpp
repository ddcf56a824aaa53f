// IocpIO: the Windows backend. Every file is opened for overlapped I/O and bound to one I/O
// completion port; up to `window` files are read at once (one ReadFile in flight each, so a
// file's chunks are hashed in order), and a small pool of workers takes completions with
// GetQueuedCompletionStatusEx, hashes or keeps each chunk and issues the file's next read.
// The calling thread opens files (blocking on the ResourceManager when every handle is held:
// Property 13) and waits for its batch; workers never block on anything but the port.
// Stats and writes are direct calls (win32_file.cpp), each holding a handle while it runs.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "forge/core/io/iocp_io_win32.h"
#include "win32_file.h"

namespace forge::io {
namespace {

constexpr std::size_t k_chunk_size = 256 * 1024;  // as the fallback backend
constexpr ULONG_PTR k_file_key = 1;
constexpr ULONG_PTR k_stop_key = 2;  // posted once per worker by the destructor
constexpr ULONG k_entries_per_wait = 16;
constexpr std::string_view k_name = "iocp";

// The files of one batch call that are open; the caller waits on it.
class Batch {
 public:
  void started() {
    std::lock_guard lock(m_mutex);
    ++m_in_flight;
  }
  void finished() {
    {
      std::lock_guard lock(m_mutex);
      --m_in_flight;
    }
    m_changed.notify_all();
  }
  void wait_below(std::size_t limit) {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return m_in_flight < limit; });
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::size_t m_in_flight = 0;  // GUARDED_BY(m_mutex)
};

enum class Goal { hash, read_all, read_prefix };

// One open file being read. Owned by whoever holds it: the issuing thread until ReadFile
// returns pending, then the completion packet (a worker), then finish() deletes it.
struct FileOp {
  OVERLAPPED overlapped{};
  Goal goal = Goal::read_all;
  std::filesystem::path path;
  detail::OpenedFile file;
  support::HandleGuard guard;
  std::uint64_t offset = 0;
  std::uint64_t limit = 0;  // bytes to read at most: size at open + 1 (proves growth)
  std::vector<std::byte> buffer;
  std::optional<hash::MultiHasher> hasher;
  std::vector<std::byte> data;
  Result<HashResult>* hash_slot = nullptr;
  Result<std::vector<std::byte>>* data_slot = nullptr;
  Batch* batch = nullptr;
};

class IocpIo final : public PlatformIO {
 public:
  IocpIo(UniqueHandle port, std::shared_ptr<support::ResourceManager> handles, std::size_t window,
         std::size_t workers)
      : m_port(std::move(port)), m_handles(std::move(handles)), m_window(window) {
    for (std::size_t i = 0; i < workers; ++i) m_workers.emplace_back([this] { work(); });
  }

  ~IocpIo() override {
    for (std::size_t i = 0; i < m_workers.size(); ++i) {
      ::PostQueuedCompletionStatus(m_port.get(), 0, k_stop_key, nullptr);
    }
    m_workers.clear();  // joins; every batch has finished, so no read is in flight
  }

  std::string_view backend_name() const override { return k_name; }

  Result<std::size_t> read(const std::filesystem::path& path, std::span<std::byte> buf) override {
    std::vector<Result<std::vector<std::byte>>> out(1, std::vector<std::byte>{});
    run({&path, 1}, Goal::read_prefix, {}, Follow::yes, nullptr, out.data(), buf.size());
    if (!out[0]) return fail(std::move(out[0]).error());
    std::copy(out[0]->begin(), out[0]->end(), buf.begin());
    return out[0]->size();
  }

  Result<std::vector<std::byte>> read_all(const std::filesystem::path& path) override {
    std::vector<Result<std::vector<std::byte>>> out(1, std::vector<std::byte>{});
    run({&path, 1}, Goal::read_all, {}, Follow::yes, nullptr, out.data(), 0);
    return std::move(out[0]);
  }

  Result<void> write_all(const std::filesystem::path& path, std::span<const std::byte> data,
                         Sync sync) override {
    FORGE_TRY(auto handle, m_handles->acquire());
    auto result = detail::atomic_write(path, data, sync);
    if (!result) return fail(std::move(result).error().with_backend(k_name));
    return ok();
  }

  std::vector<Result<FileStat>> batch_stat(std::span<const std::filesystem::path> paths) override {
    std::vector<Result<FileStat>> results(paths.size(), FileStat{});
    for (std::size_t i = 0; i < paths.size(); ++i) {
      auto handle = m_handles->acquire();
      if (!handle) {
        results[i] = fail(std::move(handle).error());
        continue;
      }
      results[i] = detail::lstat_path(paths[i]);
      if (!results[i]) results[i] = fail(std::move(results[i]).error().with_backend(k_name));
    }
    return results;
  }

  std::vector<Result<void>> batch_write(std::span<const WriteOp> ops) override {
    std::vector<Result<void>> results(ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
      results[i] = write_all(ops[i].path, ops[i].data, ops[i].sync);
    }
    return results;
  }

 private:
  void read_into(std::span<const std::filesystem::path> paths,
                 std::span<Result<std::vector<std::byte>>> out) override {
    run(paths, Goal::read_all, {}, Follow::yes, nullptr, out.data(), 0);
  }

  void hash_into(std::span<const std::filesystem::path> paths, hash::AlgorithmSet algorithms,
                 Follow follow, std::span<Result<HashResult>> out) override {
    run(paths, Goal::hash, algorithms, follow, out.data(), nullptr, 0);
  }

  // Opens each file in turn (at most m_window open at once) and starts its first read;
  // returns when every file of the batch is finished and its slot filled.
  void run(std::span<const std::filesystem::path> paths, Goal goal, hash::AlgorithmSet algorithms,
           Follow follow, Result<HashResult>* hash_slots,
           Result<std::vector<std::byte>>* data_slots, std::size_t prefix) {
    Batch batch;
    for (std::size_t i = 0; i < paths.size(); ++i) {
      auto set_error = [&](Error error) {
        error.with_backend(k_name);
        if (hash_slots != nullptr) hash_slots[i] = fail(error);
        if (data_slots != nullptr) data_slots[i] = fail(std::move(error));
      };
      batch.wait_below(m_window);
      auto guard = m_handles->acquire();
      if (!guard) {
        set_error(std::move(guard).error());
        continue;
      }
      auto opened = detail::open_for_read(paths[i], follow);
      if (!opened) {
        set_error(std::move(opened).error());
        continue;
      }
      if (::CreateIoCompletionPort(opened->handle.get(), m_port.get(), k_file_key, 0) == nullptr) {
        set_error(detail::win32_error(::GetLastError(), "CreateIoCompletionPort", paths[i]));
        continue;
      }
      auto op = std::make_unique<FileOp>();
      op->goal = goal;
      op->path = paths[i];
      op->file = std::move(*opened);
      op->guard = std::move(*guard);
      op->limit = goal == Goal::read_prefix ? prefix : op->file.stat.size + 1;
      op->buffer.resize(
          static_cast<std::size_t>(std::clamp<std::uint64_t>(op->limit, 1, k_chunk_size)));
      if (goal == Goal::hash) op->hasher.emplace(algorithms);
      op->hash_slot = hash_slots != nullptr ? &hash_slots[i] : nullptr;
      op->data_slot = data_slots != nullptr ? &data_slots[i] : nullptr;
      op->batch = &batch;
      batch.started();
      issue(op.release());
    }
    batch.wait_below(1);
  }

  // Starts the next read of `op`, or finishes it when nothing is left to read. A read that
  // completes at once still queues its packet (the port has no skip-on-success mode set).
  static void issue(FileOp* op) {
    if (op->offset >= op->limit) return finish(op, ERROR_SUCCESS);
    const auto want =
        static_cast<DWORD>(std::min<std::uint64_t>(op->buffer.size(), op->limit - op->offset));
    op->overlapped = OVERLAPPED{};
    op->overlapped.Offset = static_cast<DWORD>(op->offset);
    op->overlapped.OffsetHigh = static_cast<DWORD>(op->offset >> 32);
    if (::ReadFile(op->file.handle.get(), op->buffer.data(), want, nullptr, &op->overlapped)) {
      return;
    }
    const DWORD error = ::GetLastError();
    if (error == ERROR_IO_PENDING) return;
    finish(op, error == ERROR_HANDLE_EOF ? ERROR_SUCCESS : error);
  }

  static void on_completion(FileOp* op) {
    DWORD bytes = 0;
    if (!::GetOverlappedResult(op->file.handle.get(), &op->overlapped, &bytes, FALSE)) {
      const DWORD error = ::GetLastError();
      return finish(op, error == ERROR_HANDLE_EOF ? ERROR_SUCCESS : error);
    }
    if (bytes == 0) return finish(op, ERROR_SUCCESS);
    const auto chunk = std::span<const std::byte>(op->buffer).first(bytes);
    if (op->hasher) {
      op->hasher->update(chunk);
    } else {
      op->data.insert(op->data.end(), chunk.begin(), chunk.end());
    }
    op->offset += bytes;
    issue(op);
  }

  // Fills the file's slot, closes it (releasing its ResourceManager handle) and tells the
  // batch. `error` is a Win32 error, ERROR_SUCCESS at the end of the file.
  static void finish(FileOp* raw, DWORD error) {
    std::unique_ptr<FileOp> op(raw);
    Batch* batch = op->batch;
    fill_slot(*op, error);
    op.reset();
    batch->finished();
  }

  static void fill_slot(FileOp& op, DWORD error) {
    auto set = [&](Result<void> problem) {
      Error e = std::move(problem).error().with_backend(k_name);
      if (op.hash_slot != nullptr) *op.hash_slot = fail(e);
      if (op.data_slot != nullptr) *op.data_slot = fail(std::move(e));
    };
    if (error != ERROR_SUCCESS) return set(fail(detail::win32_error(error, "read", op.path)));
    if (op.goal == Goal::read_prefix) {
      *op.data_slot = std::move(op.data);
      return;
    }
    auto after = detail::stat_handle(op.file.handle.get(), op.path);
    if (!after) return set(fail(std::move(after).error()));
    if (auto same = detail::check_unchanged(op.path, op.file.stat, *after, op.offset); !same) {
      return set(std::move(same));
    }
    if (op.goal == Goal::read_all) {
      *op.data_slot = std::move(op.data);
      return;
    }
    HashResult result;
    result.size = op.offset;
    result.stat = *after;
    result.digests = op.hasher->finish();
    *op.hash_slot = std::move(result);
  }

  void work() {
    OVERLAPPED_ENTRY entries[k_entries_per_wait];
    for (;;) {
      ULONG count = 0;
      if (!::GetQueuedCompletionStatusEx(m_port.get(), entries, k_entries_per_wait, &count,
                                         INFINITE, FALSE)) {
        return;  // the port is gone
      }
      std::size_t stops = 0;
      for (ULONG i = 0; i < count; ++i) {
        if (entries[i].lpCompletionKey == k_stop_key) {
          ++stops;
          continue;
        }
        on_completion(CONTAINING_RECORD(entries[i].lpOverlapped, FileOp, overlapped));
      }
      if (stops > 0) {
        // One stop per worker: hand back any taken beyond this worker's own.
        for (std::size_t i = 1; i < stops; ++i) {
          ::PostQueuedCompletionStatus(m_port.get(), 0, k_stop_key, nullptr);
        }
        return;
      }
    }
  }

  UniqueHandle m_port;
  std::shared_ptr<support::ResourceManager> m_handles;
  std::size_t m_window;
  std::vector<std::jthread> m_workers;  // last: joined before the port closes
};

}  // namespace

Result<std::unique_ptr<PlatformIO>> create_iocp_io(
    const support::IoConfig& config, std::shared_ptr<support::ResourceManager> handles) {
  if (!handles) handles = std::make_shared<support::ResourceManager>(config.max_file_handles);
  const std::size_t workers = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 2, 4);
  UniqueHandle port(
      ::CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, static_cast<DWORD>(workers)));
  if (!port) {
    return fail(
        Error(ErrorCategory::dependency,
              fmt::format("CreateIoCompletionPort failed (Win32 error {})", ::GetLastError()))
            .with_operation("io.iocp")
            .with_suggestion("this Windows (or wine) refused an I/O completion port; "
                             "io.backend = \"fallback\" reads without one"));
  }
  // io.io_uring_queue_depth bounds the reads in flight on every native backend.
  const std::size_t window = std::max<std::size_t>(1, config.io_uring_queue_depth);
  return std::unique_ptr<PlatformIO>(
      std::make_unique<IocpIo>(std::move(port), std::move(handles), window, workers));
}

}  // namespace forge::io
