#pragma once
// What forge::store (lmdb.h) does about LMDB's two sharp edges: resizing the map and
// trusting its file.
//
// Map growth. LMDB allows mdb_env_set_mapsize only while no transaction of the process is
// open. Every Environment counts its open transactions (a gate kept as the MDB_env's user
// context); a resize (growing on MDB_MAP_FULL in write(), adopting a size another process
// grew the file to on MDB_MAP_RESIZED) stops new transactions from starting, waits up to
// k_resize_wait for the open ones to end, then resizes. If they do not end (a thread that
// holds a transaction while it writes through write() would wait for itself) it gives up
// with a file_system error (code MDB_MAP_FULL) instead of hanging or remapping under a
// reader. The map is reserved large (EnvOptions::initial_map_size), so this is rare.
//
// Damage. LMDB trusts its file: a damaged one can crash the process (SIGSEGV/SIGBUS) on a
// later read. Environment::open() therefore runs check_data_file() first and refuses a
// damaged file with a validation error for which is_damaged_index() is true.
//   Detected: a file too short for its two meta pages, no valid meta page (P_META flag,
//   magic, data version), a bad page size, a file truncated below the last page the newest
//   meta page names (the common damage: a partial copy, a full disk, a truncating tool), a
//   main or free-list root page outside the file.
//   Not detected (LMDB keeps no page checksums): a corrupted branch or leaf page inside the
//   file, including the roots of named databases. LMDB returns MDB_CORRUPTED /
//   MDB_PAGE_NOTFOUND where it notices; a bad page it does not notice can still crash a
//   reader. Both Forge indexes are derived data: the scan index is rebuilt by a full scan,
//   and CasStore moves a damaged store index aside and rebuilds it from cas/ (verify), so
//   moving an index directory away is always safe.
// Threading: check_data_file reads the file with pread; call it before the environment is
// opened (Environment::open does).

#include <chrono>
#include <filesystem>

#include "forge/core/support/error.h"

namespace forge::store {

inline constexpr int k_damaged_index_code = 0x1DB0;
// How long a resize waits for the open transactions to end (see "Map growth").
inline constexpr std::chrono::seconds k_resize_wait{10};

// Checks <dir>/data.mdb before LMDB maps it. A missing or empty file is fine (a new index).
Result<void> check_data_file(const std::filesystem::path& dir);
bool is_damaged_index(const Error& error);

}  // namespace forge::store
