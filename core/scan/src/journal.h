#pragma once
// The cursor journal (internal to forge::scan): what each scan changed, so that
// Scanner::since(C) is a range read of O(changes after C).
//
// Entry key: u64 big-endian cursor (store::put_be64, so cursors sort numerically) followed
// by record_key(path). Value: u8 ChangeKind, followed by the path itself when the key holds
// the path's digest (a path longer than k_max_inline_path). Part of index format
// k_index_format (file_index.h).
//
// Errors: LMDB errors, including failed cursor steps, are returned. Threading: as the
// transactions passed in.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "forge/core/scan/scanner.h"
#include "forge/core/store/lmdb.h"

namespace forge::scan::journal {

// Records `changes` under `cursor`.
Result<void> append(store::WriteTxn& txn, store::Database journal, std::uint64_t cursor,
                    const std::vector<Change>& changes);

// Erases every entry of a cursor below `floor`.
Result<void> trim(store::WriteTxn& txn, store::Database journal, std::uint64_t floor);

// Every path changed at a cursor above `since`, with its kinds in cursor order.
Result<std::map<std::string, std::vector<ChangeKind>>> read_after(const store::ReadTxn& txn,
                                                                  store::Database journal,
                                                                  std::uint64_t since);

}  // namespace forge::scan::journal
