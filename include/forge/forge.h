/* forge.h: the stable C API of Forge (libforge.so.0). C99; usable from C, C++, Rust
 * (bindgen), Python (ctypes/cffi) and Go (cgo).
 *
 * Conventions (every function):
 * - Returns a forge_status. FORGE_OK is success; FORGE_END ends an iteration and is not an
 *   error; everything else is an error whose message is available from forge_last_error()
 *   (thread-local, set by every failing call) and, for calls on a handle, from
 *   forge_<handle>_error(handle) as well.
 * - Handles are opaque and owned by the caller until the matching close function, which
 *   takes the handle's address and sets it to NULL: a closed handle is a NULL handle, and a
 *   NULL handle is FORGE_E_INVALID_HANDLE, never a crash. Using a freed copy of a handle
 *   pointer is undefined.
 * - Strings are NUL-terminated UTF-8; paths are file system paths. Strings returned by the
 *   library stay valid as documented per function and are never freed by the caller, except
 *   buffers documented as "free with forge_free()".
 * - No C++ exception ever leaves a function (an unexpected one is FORGE_E_INTERNAL).
 * - Digests are lower-case hex. A CAS digest is SHA-256 hex plus the size in bytes.
 *
 * ABI: FORGE_ABI_VERSION is the SONAME major (libforge.so.FORGE_ABI_VERSION). Exported
 * symbols are checked against a committed list in CI; structs below never change layout
 * without a new ABI version. */
#ifndef FORGE_FORGE_H
#define FORGE_FORGE_H

#include <stddef.h>
#include <stdint.h>

#define FORGE_ABI_VERSION 0

#if defined(__GNUC__)
#define FORGE_API __attribute__((visibility("default")))
#else
#define FORGE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum forge_status {
  FORGE_OK = 0,
  FORGE_END = 1,                /* an iterator has no more items (not an error) */
  FORGE_E_INVALID_ARGUMENT = 2, /* NULL pointer, malformed digest, key or option */
  FORGE_E_INVALID_HANDLE = 3,   /* NULL (or closed) handle */
  FORGE_E_NOT_FOUND = 4,        /* file, blob or key absent */
  FORGE_E_IO = 5,               /* any other file system error */
  FORGE_E_BUFFER_TOO_SMALL = 6, /* the caller's buffer cannot hold the result */
  FORGE_E_CONFIGURATION = 7,    /* bad option value (log level, backend name) */
  FORGE_E_DEPENDENCY = 8,       /* a platform feature is missing (forced io_uring) */
  FORGE_E_NO_MEMORY = 9,
  FORGE_E_INTERNAL = 10 /* anything else; the message says what */
} forge_status;

/* Thread-safe. "FORGE_OK", "FORGE_E_NOT_FOUND", ...; "FORGE_E_UNKNOWN" for other values. */
FORGE_API const char* forge_status_name(forge_status status);
/* Thread-safe. The library version, e.g. "0.1.0" (the ABI is FORGE_ABI_VERSION). */
FORGE_API const char* forge_version(void);
/* Thread-safe. The message of the calling thread's last failed call ("" if none); valid
 * until that thread's next call into the library. */
FORGE_API const char* forge_last_error(void);
/* Thread-safe. Frees a buffer the library allocated (forge_ac_get); NULL is a no-op. */
FORGE_API void forge_free(void* buffer);

/* ---- Logging --------------------------------------------------------------------- */
typedef enum forge_log_level {
  FORGE_LOG_TRACE = 0,
  FORGE_LOG_DEBUG = 1,
  FORGE_LOG_INFO = 2,
  FORGE_LOG_WARN = 3,
  FORGE_LOG_ERROR = 4,
  FORGE_LOG_OFF = 6
} forge_log_level;

/* message: one line, no newline. fields_json: a JSON object of structured fields ("{}" when
 * none). Both valid only during the call. Called from whichever thread logs, possibly
 * several at once: the callback must be thread-safe and must not call into the library. */
typedef void (*forge_log_fn)(void* user, forge_log_level level, const char* message,
                             const char* fields_json);
/* Routes the library's log to `sink` (NULL: to stderr). Until the first call, messages go
 * to spdlog's default logger (stdout unless a C++ host configured spdlog): a C host that
 * wants stdout clean calls this once at start. Thread-safe. */
FORGE_API forge_status forge_log_set_sink(forge_log_fn sink, void* user);
/* Drops messages below `level` (default FORGE_LOG_INFO). Thread-safe. */
FORGE_API forge_status forge_log_set_level(forge_log_level level);

/* ---- Batch hashing through the I/O backend -------------------------------------- */
typedef struct forge_io forge_io;

#define FORGE_HASH_SHA256 1u
#define FORGE_HASH_XXH3 2u /* XXH3-128 */

typedef struct forge_file_hash {
  forge_status status; /* FORGE_OK, or why this file failed (the others are still hashed) */
  uint64_t size;       /* bytes hashed */
  char sha256[65];     /* hex, "" when not asked for or failed */
  char xxh3[33];       /* hex, "" when not asked for or failed */
} forge_file_hash;

/* Opens the I/O backend: "auto" (or NULL: io_uring when it works, else the thread-pool
 * fallback), "uring" (FORGE_E_DEPENDENCY where it cannot work) or "fallback". The
 * FORGE_IO_BACKEND environment variable overrides it. Thread-safe. */
FORGE_API forge_status forge_io_open(const char* backend, forge_io** out);
/* Sets *io to NULL. Thread-safe against other handles; not against calls on *io. */
FORGE_API forge_status forge_io_close(forge_io** io);
/* *name = "io_uring" or "fallback", valid until the handle is closed. Thread-safe. */
FORGE_API forge_status forge_io_backend(const forge_io* io, const char** name);
/* Hashes `count` files (following symlinks) with `algorithms` (FORGE_HASH_* bits), filling
 * results[i] for paths[i]. Returns FORGE_OK when every file was hashed, else the status of
 * the first file that failed (its message names the path); every slot is filled either
 * way. Blocks. Thread-safe: calls on one handle may run concurrently. */
FORGE_API forge_status forge_hash_files(forge_io* io, const char* const* paths, size_t count,
                                        unsigned algorithms, forge_file_hash* results);
/* The message of the last failed call on `io`; valid until the next failing call on it.
 * Under concurrent use prefer forge_last_error(). NULL handle: a fixed message. */
FORGE_API const char* forge_io_error(const forge_io* io);

/* ---- Change detection: a scan index of one root --------------------------------- */
typedef struct forge_index forge_index;
typedef struct forge_changes forge_changes;

typedef enum forge_change_kind {
  FORGE_CHANGE_ADDED = 0,
  FORGE_CHANGE_MODIFIED = 1,
  FORGE_CHANGE_REMOVED = 2,
  FORGE_CHANGE_TYPE_CHANGED = 3
} forge_change_kind;

typedef enum forge_entry_type {
  FORGE_ENTRY_FILE = 1,
  FORGE_ENTRY_DIRECTORY = 2,
  FORGE_ENTRY_SYMLINK = 3,
  FORGE_ENTRY_OTHER = 4
} forge_entry_type;

typedef struct forge_change {
  const char* path; /* root-relative, '/'-separated; valid until the next
                       forge_changes_next or forge_changes_free */
  forge_change_kind kind;
  forge_entry_type type; /* the current type (the old one for removals) */
  char xxh3[33];         /* files: content fingerprint; "" otherwise */
  char sha256[65];       /* files scanned with FORGE_SCAN_SHA256; "" otherwise */
} forge_change;

typedef struct forge_changes_info {
  const char* cursor; /* pass to forge_index_since next time; valid until freed */
  int fresh_instance; /* 1: the cursor was unknown, every file is listed as added */
  size_t count;       /* changes in the set */
  size_t entries;     /* entries walked (0 for since) */
  size_t hashed;      /* files hashed (0 for since) */
  size_t errors;      /* paths that could not be read; they keep their old record */
} forge_changes_info;

#define FORGE_SCAN_SHA256 1u /* record SHA-256 as well as XXH3 */
#define FORGE_SCAN_NO_GITIGNORE 2u

/* Opens (creating it if needed) the index of the directory `root`, kept in `index_dir`
 * (NULL: $XDG_CACHE_HOME/forge/index/<hash of root>). FORGE_E_NOT_FOUND when root is not
 * a directory. Thread-safe. */
FORGE_API forge_status forge_index_open(const char* root, const char* index_dir, forge_index** out);
FORGE_API forge_status forge_index_close(forge_index** index);
/* Walks the root and records what changed since the previous scan (everything on the
 * first). Thread-safe: scans on one handle run one at a time. Blocks. */
FORGE_API forge_status forge_index_scan(forge_index* index, unsigned flags, forge_changes** out);
/* What changed since `cursor`, from the index alone (no walk). A cursor of another index
 * or a newer one gives fresh_instance = 1 and every file; a malformed one is
 * FORGE_E_INVALID_ARGUMENT. Thread-safe, also against a running scan. */
FORGE_API forge_status forge_index_since(forge_index* index, const char* cursor,
                                         forge_changes** out);
FORGE_API const char* forge_index_error(const forge_index* index);

/* Change sets are iterated by one thread at a time. */
FORGE_API forge_status forge_changes_info_get(const forge_changes* changes,
                                              forge_changes_info* info);
/* Fills *change with the next change (sorted by path); FORGE_END after the last. */
FORGE_API forge_status forge_changes_next(forge_changes* changes, forge_change* change);
FORGE_API forge_status forge_changes_free(forge_changes** changes);

/* ---- Content-addressed store and action cache ----------------------------------- */
typedef struct forge_store forge_store;

typedef struct forge_digest {
  char sha256[65]; /* 64 hex digits */
  uint64_t size;
} forge_digest;

/* Opens (creating it if needed) the store in directory `dir`. One handle per directory
 * per process; share it between threads. Thread-safe. */
FORGE_API forge_status forge_store_open(const char* dir, forge_store** out);
FORGE_API forge_status forge_store_close(forge_store** store);
/* missing[i] = 1 when digests[i] is not stored, else 0; *missing_count = how many.
 * FORGE_E_INVALID_ARGUMENT names the first malformed digest. Thread-safe. */
FORGE_API forge_status forge_store_find_missing(forge_store* store, const forge_digest* digests,
                                                size_t count, unsigned char* missing,
                                                size_t* missing_count);
/* Stores `size` bytes; *out = their digest. Durable (fsync) before it returns. */
FORGE_API forge_status forge_store_put_buffer(forge_store* store, const void* data, size_t size,
                                              forge_digest* out);
/* Streams the file at `path` into the store; *out = its digest. */
FORGE_API forge_status forge_store_put_file(forge_store* store, const char* path,
                                            forge_digest* out);
/* Copies the blob into buffer[0..capacity); *size = its size. FORGE_E_NOT_FOUND when
 * absent; FORGE_E_BUFFER_TOO_SMALL (with *size set) when capacity < the blob's size. */
FORGE_API forge_status forge_store_get_buffer(forge_store* store, const forge_digest* digest,
                                              void* buffer, size_t capacity, size_t* size);
/* Writes the blob to `path` atomically (temp file + rename: never a partial file). */
FORGE_API forge_status forge_store_get_file(forge_store* store, const forge_digest* digest,
                                            const char* path);
/* Action cache, raw keyspace (opaque values, ccache-style). Keys: 1-256 characters from
 * [0-9A-Za-z._-]. Thread-safe. */
FORGE_API forge_status forge_ac_put(forge_store* store, const char* key, const void* value,
                                    size_t size);
/* *value = a copy of the value (free with forge_free()), *size = its length.
 * FORGE_E_NOT_FOUND on a miss. */
FORGE_API forge_status forge_ac_get(forge_store* store, const char* key, void** value,
                                    size_t* size);
FORGE_API const char* forge_store_error(const forge_store* store);

#ifdef __cplusplus
}
#endif

#endif /* FORGE_FORGE_H */
