#include "forge/core/store/lmdb.h"
#include "forge/core/store/lmdb_check.h"

#include <lmdb.h>
#ifdef __linux__
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "forge/core/support/path_text.h"

namespace forge::store {
namespace {

// The open transactions of one MDB_env (kept as its user context), so a resize can wait until
// there are none (see lmdb_check.h, "Map growth"). Fast path: one atomic increment per begin
// and one decrement per end; a resize sets `resizing`, after which begins wait on the mutex.
struct TxnGate {
  std::atomic<int> active{0};
  std::atomic<bool> resizing{false};
  std::mutex mutex;
  std::condition_variable changed;

  void enter() {
    for (;;) {
      active.fetch_add(1);
      if (!resizing.load()) return;
      leave();
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return !resizing.load(); });
    }
  }
  void leave() {
    if (active.fetch_sub(1) == 1 && resizing.load()) {
      std::lock_guard lock(mutex);
      changed.notify_all();
    }
  }
};

void close_env(MDB_env* env) {
  auto* gate = static_cast<TxnGate*>(mdb_env_get_userctx(env));
  mdb_env_close(env);
  delete gate;
}

TxnGate& gate_of(MDB_env* env) {
  return *static_cast<TxnGate*>(mdb_env_get_userctx(env));
}

// Ends a transaction's membership of its environment's gate (after commit or abort).
void leave_gate(MDB_env* env) {
  gate_of(env).leave();
}

// mdb_env_set_mapsize(size) with no transaction of this process open.
Result<void> resize_map(MDB_env* env, std::size_t size, const std::filesystem::path& dir) {
  TxnGate& gate = gate_of(env);
  std::unique_lock lock(gate.mutex);
  // One resize at a time; a second waits for the first, then does its own.
  gate.changed.wait(lock, [&] { return !gate.resizing.load(); });
  gate.resizing.store(true);
  const bool idle =
      gate.changed.wait_for(lock, k_resize_wait, [&] { return gate.active.load() == 0; });
  const int rc = idle ? mdb_env_set_mapsize(env, size) : 0;
  gate.resizing.store(false);
  gate.changed.notify_all();
  if (!idle) {
    return fail(Error(ErrorCategory::file_system,
                      fmt::format("the LMDB map of '{}' must be resized, but transactions stayed "
                                  "open for {} s",
                                  path_utf8(dir), k_resize_wait.count()),
                      MDB_MAP_FULL)
                    .with_operation("lmdb.set_mapsize")
                    .with_file(path_utf8(dir))
                    .with_suggestion("retry; if it persists, raise the initial map size (a thread "
                                     "held a transaction while it wrote)"));
  }
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.set_mapsize", path_utf8(dir)));
  return ok();
}

// mdb_txn_begin inside the gate; on MDB_MAP_RESIZED (another process grew the map) adopts
// the new size with no transaction open and retries once.
Result<MDB_txn*> begin_txn(MDB_env* env, unsigned flags, const std::filesystem::path& dir) {
  for (int attempt = 0;; ++attempt) {
    gate_of(env).enter();
    MDB_txn* txn = nullptr;
    const int rc = mdb_txn_begin(env, nullptr, flags, &txn);
    if (rc == 0) return txn;
    gate_of(env).leave();
    if (rc != MDB_MAP_RESIZED || attempt > 0) {
      return fail(lmdb_error(rc, "lmdb.txn_begin", path_utf8(dir)));
    }
    FORGE_TRY_VOID(resize_map(env, 0, dir));
  }
}

MDB_val to_val(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}
std::string_view from_val(const MDB_val& val) {
  return {static_cast<const char*>(val.mv_data), val.mv_size};
}

}  // namespace

Error lmdb_error(int code, std::string_view operation, std::string_view path) {
  if (code > 0) return Error::from_errno(code, operation, path);  // LMDB passes errno through
  const std::string text = fmt::format("{} failed: {}", operation, mdb_strerror(code));
  switch (code) {
    case MDB_MAP_FULL:
      return Error(ErrorCategory::file_system, text, MDB_MAP_FULL)
          .with_operation(operation)
          .with_file(path)
          .with_suggestion("the LMDB map is full and could not grow: free disk space");
    case MDB_READERS_FULL:
      return Error(ErrorCategory::file_system, text)
          .with_operation(operation)
          .with_file(path)
          .with_suggestion(
              "too many concurrent readers: stop stale Forge processes; their slots are "
              "freed at the next open");
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
      return Error(ErrorCategory::validation, text)
          .with_operation(operation)
          .with_file(path)
          .with_suggestion(fmt::format(
              "the index at '{}' is unreadable: delete it; Forge rebuilds it on the next run",
              path));
    default:
      return Error(ErrorCategory::unknown, text)
          .with_operation(operation)
          .with_file(path)
          .with_suggestion("report this LMDB error with the log to the Forge maintainers");
  }
}

bool is_map_full(const Error& error) {
  return error.code() == MDB_MAP_FULL;
}

// --- Cursor -------------------------------------------------------------------------
Cursor::Cursor(Cursor&& other) noexcept : m_cursor(std::exchange(other.m_cursor, nullptr)) {}
Cursor& Cursor::operator=(Cursor&& other) noexcept {
  if (this != &other) {
    if (m_cursor != nullptr) mdb_cursor_close(m_cursor);
    m_cursor = std::exchange(other.m_cursor, nullptr);
  }
  return *this;
}
Cursor::~Cursor() {
  if (m_cursor != nullptr) mdb_cursor_close(m_cursor);
}

Result<std::optional<KeyValue>> Cursor::get(int op, std::string_view key) {
  MDB_val k = to_val(key);
  MDB_val v{};
  const int rc = mdb_cursor_get(m_cursor, &k, &v, static_cast<MDB_cursor_op>(op));
  if (rc == MDB_NOTFOUND) return std::nullopt;
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.cursor_get"));
  return KeyValue{from_val(k), from_val(v)};
}
Result<std::optional<KeyValue>> Cursor::first() {
  return get(MDB_FIRST);
}
Result<std::optional<KeyValue>> Cursor::next() {
  return get(MDB_NEXT);
}
Result<std::optional<KeyValue>> Cursor::seek(std::string_view key) {
  return get(MDB_SET_RANGE, key);
}

// --- ReadTxn ------------------------------------------------------------------------
ReadTxn::ReadTxn(ReadTxn&& other) noexcept : m_txn(std::exchange(other.m_txn, nullptr)) {}
ReadTxn& ReadTxn::operator=(ReadTxn&& other) noexcept {
  if (this != &other) {
    abort();
    m_txn = std::exchange(other.m_txn, nullptr);
  }
  return *this;
}
ReadTxn::~ReadTxn() {
  abort();
}

void ReadTxn::abort() {
  if (m_txn == nullptr) return;
  MDB_env* env = mdb_txn_env(m_txn);
  mdb_txn_abort(std::exchange(m_txn, nullptr));
  leave_gate(env);
}

Result<std::optional<std::string_view>> ReadTxn::get(Database db, std::string_view key) const {
  MDB_val k = to_val(key);
  MDB_val v{};
  const int rc = mdb_get(m_txn, db.handle(), &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.get"));
  return from_val(v);
}

Result<Cursor> ReadTxn::cursor(Database db) const {
  MDB_cursor* cursor = nullptr;
  const int rc = mdb_cursor_open(m_txn, db.handle(), &cursor);
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.cursor_open"));
  return Cursor(cursor);
}

Result<std::size_t> ReadTxn::count(Database db) const {
  MDB_stat stat{};
  const int rc = mdb_stat(m_txn, db.handle(), &stat);
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.stat"));
  return stat.ms_entries;
}

// --- WriteTxn -----------------------------------------------------------------------
Result<void> WriteTxn::put(Database db, std::string_view key, std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  const int rc = mdb_put(m_txn, db.handle(), &k, &v, 0);
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.put").with_retry_count(0));
  return ok();
}

Result<bool> WriteTxn::erase(Database db, std::string_view key) {
  MDB_val k = to_val(key);
  const int rc = mdb_del(m_txn, db.handle(), &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.del"));
  return true;
}

Result<void> WriteTxn::clear(Database db) {
  const int rc = mdb_drop(m_txn, db.handle(), 0);
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.drop"));
  return ok();
}

Result<void> WriteTxn::commit() {
  MDB_txn* txn = std::exchange(m_txn, nullptr);
  MDB_env* env = mdb_txn_env(txn);
  const int rc = mdb_txn_commit(txn);
  leave_gate(env);
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.commit"));
  return ok();
}

// --- Environment --------------------------------------------------------------------
Result<Environment> Environment::open(const EnvOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return fail(Error::from_error_code(ec, "lmdb.create_dir", path_utf8(options.dir)));

  FORGE_TRY_VOID(check_data_file(options.dir));
  Environment env;
  env.m_dir = options.dir;
  int rc = mdb_env_create(&env.m_env);
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.env_create", path_utf8(options.dir)));
  mdb_env_set_userctx(env.m_env, new TxnGate());  // deleted with the environment
  mdb_env_set_maxdbs(env.m_env, options.max_databases);
  mdb_env_set_maxreaders(env.m_env, options.max_readers);
#ifdef _WIN32
  // LMDB 0.9 on Windows sizes the file to the whole map (a section cannot outgrow its file),
  // so the map starts at 64 MiB at most there and grows by doubling (see EnvOptions).
  mdb_env_set_mapsize(env.m_env, std::min<std::size_t>(options.initial_map_size, 64ull << 20));
#else
  mdb_env_set_mapsize(env.m_env, options.initial_map_size);
#endif
  unsigned flags = MDB_NOTLS;
  if (!options.sync) flags |= MDB_NOSYNC;
  // LMDB takes UTF-8 (on Windows it converts to UTF-16 itself).
  rc = mdb_env_open(env.m_env, path_utf8(options.dir).c_str(), flags, 0644);
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.env_open", path_utf8(options.dir)));
  // A map larger than asked (another process grew it) is picked up by set_mapsize(0).
  mdb_env_set_mapsize(env.m_env, 0);
  rc = mdb_reader_check(env.m_env, &env.m_stale_cleared);
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.reader_check", path_utf8(options.dir)));
  return env;
}

Environment::Environment(Environment&& other) noexcept
    : m_env(std::exchange(other.m_env, nullptr)),
      m_dir(std::move(other.m_dir)),
      m_stale_cleared(other.m_stale_cleared) {}
Environment& Environment::operator=(Environment&& other) noexcept {
  if (this != &other) {
    if (m_env != nullptr) close_env(m_env);
    m_env = std::exchange(other.m_env, nullptr);
    m_dir = std::move(other.m_dir);
    m_stale_cleared = other.m_stale_cleared;
  }
  return *this;
}
Environment::~Environment() {
  if (m_env != nullptr) close_env(m_env);
}

Result<Database> Environment::open_database(std::string_view name) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(m_env, nullptr, 0, &txn);
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.txn_begin", path_utf8(m_dir)));
  MDB_dbi dbi = 0;
  const std::string name_z(name);
  rc = mdb_dbi_open(txn, name_z.c_str(), MDB_CREATE, &dbi);
  if (rc != 0) {
    mdb_txn_abort(txn);
    return fail(lmdb_error(rc, "lmdb.dbi_open", path_utf8(m_dir)));
  }
  rc = mdb_txn_commit(txn);
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.commit", path_utf8(m_dir)));
  return Database(dbi);
}

Result<ReadTxn> Environment::begin_read() const {
  FORGE_TRY(MDB_txn * txn, begin_txn(m_env, MDB_RDONLY, m_dir));
  return ReadTxn(txn);
}

Result<WriteTxn> Environment::begin_write() {
  FORGE_TRY(MDB_txn * txn, begin_txn(m_env, 0, m_dir));
  return WriteTxn(txn);
}

Result<int> Environment::clear_stale_readers() {
  int cleared = 0;
  const int rc = mdb_reader_check(m_env, &cleared);
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.reader_check", path_utf8(m_dir)));
  return cleared;
}

std::size_t Environment::map_size() const {
  MDB_envinfo info{};
  mdb_env_info(m_env, &info);
  return info.me_mapsize;
}

Result<void> Environment::grow_map() {
  // Doubling keeps the number of regrowths logarithmic in the final index size. Only with
  // no transaction open (resize_map waits for that), which LMDB requires.
  return resize_map(m_env, map_size() * 2, m_dir);
}

Result<void> Environment::write(const std::function<Result<void>(WriteTxn&)>& fn) {
  // 16 doublings of 64 MiB reach 4 TiB: more is a bug, not an index.
  for (int attempt = 0; attempt < 16; ++attempt) {
    FORGE_TRY(WriteTxn txn, begin_write());
    Result<void> result = fn(txn);
    if (result) result = txn.commit();
    if (result) return ok();
    if (!is_map_full(result.error())) return result;
    txn.abort();
    FORGE_TRY_VOID(grow_map());
  }
  return fail(lmdb_error(MDB_MAP_FULL, "lmdb.write", path_utf8(m_dir)));
}

#ifdef __linux__
namespace {

// The address and length of this process's mapping of the file (dev, ino), from
// /proc/self/maps: LMDB does not say where it mapped data.mdb (mdb_env_info's me_mapaddr is
// only set for MDB_FIXEDMAP), and the map moves when it grows.
std::optional<std::pair<void*, std::size_t>> find_mapping(dev_t dev, ino_t ino) {
  std::FILE* maps = std::fopen("/proc/self/maps", "re");
  if (maps == nullptr) return std::nullopt;
  std::optional<std::pair<void*, std::size_t>> found;
  char line[4096];
  while (!found && std::fgets(line, sizeof line, maps) != nullptr) {
    unsigned long start = 0, end = 0, offset = 0, inode = 0;
    unsigned major_id = 0, minor_id = 0;
    char perms[8] = {};
    if (std::sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &start, &end, perms, &offset, &major_id,
                    &minor_id, &inode) == 7 &&
        inode == ino && offset == 0 && makedev(major_id, minor_id) == dev) {
      found = std::pair{reinterpret_cast<void*>(start), static_cast<std::size_t>(end - start)};
    }
  }
  std::fclose(maps);
  return found;
}

}  // namespace
#endif

Result<void> Environment::release_resident_pages() const {
#ifdef __linux__
  MDB_envinfo info{};
  MDB_stat stat{};
  mdb_filehandle_t fd{};
  if (const int rc = mdb_env_info(m_env, &info); rc != 0) {
    return fail(lmdb_error(rc, "lmdb.release_pages", path_utf8(m_dir)));
  }
  if (const int rc = mdb_env_stat(m_env, &stat); rc != 0) {
    return fail(lmdb_error(rc, "lmdb.release_pages", path_utf8(m_dir)));
  }
  if (const int rc = mdb_env_get_fd(m_env, &fd); rc != 0) {
    return fail(lmdb_error(rc, "lmdb.release_pages", path_utf8(m_dir)));
  }
  struct stat file {};
  if (::fstat(fd, &file) != 0) {
    return fail(Error::from_errno(errno, "lmdb.release_pages", path_utf8(m_dir)));
  }
  const auto mapping = find_mapping(file.st_dev, file.st_ino);
  if (!mapping) return ok();  // not mapped (yet): nothing is resident
  // Only pages up to the last one in use can be resident.
  const std::size_t used = std::min<std::size_t>(
      mapping->second, (static_cast<std::size_t>(info.me_last_pgno) + 1) * stat.ms_psize);
  if (::madvise(mapping->first, used, MADV_DONTNEED) != 0) {
    return fail(Error::from_errno(errno, "lmdb.release_pages", path_utf8(m_dir)));
  }
#endif  // elsewhere the OS trims a process's working set itself; there is nothing to ask for
  return ok();
}

Result<void> Environment::sync_to_disk() {
  const int rc = mdb_env_sync(m_env, 1);
  if (rc != 0) return fail(lmdb_error(rc, "lmdb.sync", path_utf8(m_dir)));
  return ok();
}

}  // namespace forge::store
