#pragma once
// forge::store — a thin RAII layer over LMDB, shared by the file index (core/scan) and the
// cache index (cache/).
//
// Contract:
// - Environment is movable, not copyable, and thread-safe: it is opened with MDB_NOTLS, so
//   read transactions are not bound to threads and many threads may read at once. LMDB
//   serialises writers: begin_write() blocks while another write transaction is open.
// - ReadTxn / WriteTxn / Cursor are movable, not copyable, and used by one thread at a time.
//   A transaction that is neither committed nor aborted is aborted by its destructor.
// - Every string_view a transaction or cursor returns points into the memory map and is
//   valid only until that transaction ends (LMDB's rule).
// - Errors: MDB_* codes become forge::Error with a category and a suggestion
//   (MDB_MAP_FULL -> file_system, MDB_READERS_FULL -> file_system, MDB_CORRUPTED /
//   MDB_VERSION_MISMATCH / MDB_INVALID -> validation, errno values via from_errno).
// - Environment::write() reruns its function after growing the map on MDB_MAP_FULL, so
//   callers never see MAP_FULL unless the disk itself is full.
// - Opening runs mdb_reader_check(), which frees reader slots of crashed processes.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "forge/core/support/error.h"

struct MDB_env;
struct MDB_txn;
struct MDB_cursor;

namespace forge::store {

struct EnvOptions {
  std::filesystem::path dir;  // created if missing
  // Address space, not disk: the file grows only as pages are written. Reserved generously
  // (16 GiB: some 80M CAS blobs) because growing it remaps, and LMDB allows a remap only
  // while no other thread of the process has a transaction open (mdb_env_set_mapsize), which
  // a busy server cannot promise. Doubling on MDB_MAP_FULL stays as the rare fallback.
  std::size_t initial_map_size = 16ull << 30;
  unsigned max_databases = 16;
  unsigned max_readers = 256;  // well above the thread count of any Forge process
  bool sync = true;            // false: MDB_NOSYNC (durability traded for speed)
};

class Database {
 public:
  Database() = default;
  explicit Database(unsigned handle) : m_handle(handle) {}
  unsigned handle() const { return m_handle; }

 private:
  unsigned m_handle = 0;
};

using KeyValue = std::pair<std::string_view, std::string_view>;

// Maps an LMDB return code to an Error; `operation` names the call ("lmdb.put"). errno
// values keep their code; MDB_MAP_FULL keeps LMDB's (negative) code so is_map_full() sees it.
Error lmdb_error(int code, std::string_view operation, std::string_view path = {});
bool is_map_full(const Error& error);

class Cursor {
 public:
  Cursor(Cursor&& other) noexcept;
  Cursor& operator=(Cursor&& other) noexcept;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor();

  Result<std::optional<KeyValue>> first();
  Result<std::optional<KeyValue>> next();
  // The first entry whose key is >= key.
  Result<std::optional<KeyValue>> seek(std::string_view key);

 private:
  friend class ReadTxn;
  explicit Cursor(MDB_cursor* cursor) : m_cursor(cursor) {}
  Result<std::optional<KeyValue>> get(int op, std::string_view key = {});
  MDB_cursor* m_cursor = nullptr;
};

class ReadTxn {
 public:
  ReadTxn(ReadTxn&& other) noexcept;
  ReadTxn& operator=(ReadTxn&& other) noexcept;
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;
  ~ReadTxn();

  // nullopt when the key is absent.
  Result<std::optional<std::string_view>> get(Database db, std::string_view key) const;
  Result<Cursor> cursor(Database db) const;
  // Number of entries in db.
  Result<std::size_t> count(Database db) const;
  void abort();

 protected:
  friend class Environment;
  explicit ReadTxn(MDB_txn* txn) : m_txn(txn) {}
  MDB_txn* m_txn = nullptr;
};

class WriteTxn : public ReadTxn {
 public:
  Result<void> put(Database db, std::string_view key, std::string_view value);
  Result<bool> erase(Database db, std::string_view key);  // false if absent
  Result<void> clear(Database db);
  Result<void> commit();

 private:
  friend class Environment;
  explicit WriteTxn(MDB_txn* txn) : ReadTxn(txn) {}
};

class Environment {
 public:
  static Result<Environment> open(const EnvOptions& options);
  Environment(Environment&&) noexcept;
  Environment& operator=(Environment&&) noexcept;
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  ~Environment();

  // Opens (creating if missing) a named database. Call before concurrent use.
  Result<Database> open_database(std::string_view name);
  Result<ReadTxn> begin_read() const;
  Result<WriteTxn> begin_write();
  // Runs fn in a write transaction and commits it; on MDB_MAP_FULL (from fn or commit)
  // the map is doubled and fn runs again from scratch, so fn must be idempotent.
  Result<void> write(const std::function<Result<void>(WriteTxn&)>& fn);
  Result<void> sync_to_disk();
  // Unmaps this process's view of the environment's pages (madvise MADV_DONTNEED on LMDB's
  // read-only map). The data stays in the file and the page cache, and the next read faults
  // the page back in, so nothing changes but resident memory: for long-running processes
  // that read the whole index once (a watcher's start-up scan) and then only a few pages.
  // Thread-safe, also during reads (pointers into the map stay valid).
  Result<void> release_resident_pages() const;
  std::size_t map_size() const;
  // Reader slots freed by mdb_reader_check at open (when another process had the
  // environment open; the first opener resets the whole reader table instead).
  int stale_readers_cleared() const { return m_stale_cleared; }
  // Runs mdb_reader_check now: frees the slots of dead processes, returns how many.
  Result<int> clear_stale_readers();
  const std::filesystem::path& dir() const { return m_dir; }

 private:
  Environment() = default;
  Result<void> grow_map();
  MDB_env* m_env = nullptr;
  std::filesystem::path m_dir;
  int m_stale_cleared = 0;
};

}  // namespace forge::store
