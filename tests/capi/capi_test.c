/* The C API from C (compiled as C99, not C++): every function of forge.h, including its
 * error paths. Run by ctest against the build tree's libforge.so and, by the install and
 * package tests, against an installed one. Usage: forge_capi_test (uses a fresh temp dir). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <forge/forge.h>

static int g_failures = 0;

#define CHECK(cond)                                                                            \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
              forge_last_error());                                                             \
      ++g_failures;                                                                            \
    }                                                                                          \
  } while (0)
#define CHECK_STATUS(expr, expected) CHECK((expr) == (expected))

static char g_dir[256];

static void path_in(char* out, size_t size, const char* name) {
  snprintf(out, size, "%s/%s", g_dir, name);
}

static void write_file(const char* path, const char* content) {
  FILE* f = fopen(path, "wb");
  if (f == NULL) {
    perror(path);
    exit(2);
  }
  fputs(content, f);
  fclose(f);
}

/* ---- status, version, errors ---- */
static void test_basics(void) {
  CHECK(strcmp(forge_status_name(FORGE_OK), "FORGE_OK") == 0);
  CHECK(strcmp(forge_status_name(FORGE_E_NOT_FOUND), "FORGE_E_NOT_FOUND") == 0);
  CHECK(strcmp(forge_status_name((forge_status)99), "FORGE_E_UNKNOWN") == 0);
  CHECK(forge_version() != NULL && strchr(forge_version(), '.') != NULL);
  CHECK(FORGE_ABI_VERSION == 0);
  forge_free(NULL);
}

/* ---- logging ---- */
static int g_log_calls = 0;
static char g_log_message[256];
static void on_log(void* user, forge_log_level level, const char* message, const char* fields) {
  (void)level;
  *(int*)user += 1;
  CHECK(fields != NULL && fields[0] == '{');
  snprintf(g_log_message, sizeof g_log_message, "%s", message);
}

static void test_logging(void) {
  CHECK_STATUS(forge_log_set_level((forge_log_level)42), FORGE_E_CONFIGURATION);
  CHECK(strstr(forge_last_error(), "42") != NULL);
  CHECK_STATUS(forge_log_set_sink(on_log, &g_log_calls), FORGE_OK);
  CHECK_STATUS(forge_log_set_level(FORGE_LOG_DEBUG), FORGE_OK);
  /* Opening a backend logs the choice at debug or info level. */
  forge_io* io = NULL;
  CHECK_STATUS(forge_io_open("fallback", &io), FORGE_OK);
  CHECK(g_log_calls > 0);
  CHECK(strstr(g_log_message, "io backend") != NULL);
  CHECK_STATUS(forge_io_close(&io), FORGE_OK);
  /* Level off: nothing reaches the sink. */
  const int before = g_log_calls;
  CHECK_STATUS(forge_log_set_level(FORGE_LOG_OFF), FORGE_OK);
  CHECK_STATUS(forge_io_open("fallback", &io), FORGE_OK);
  CHECK(g_log_calls == before);
  CHECK_STATUS(forge_io_close(&io), FORGE_OK);
  CHECK_STATUS(forge_log_set_sink(NULL, NULL), FORGE_OK);
  CHECK_STATUS(forge_log_set_level(FORGE_LOG_WARN), FORGE_OK);
}

/* ---- hashing ---- */
static void test_hash(void) {
  char abc[512], missing[512];
  path_in(abc, sizeof abc, "abc.txt");
  path_in(missing, sizeof missing, "no-such-file");
  write_file(abc, "abc");

  forge_io* io = NULL;
  CHECK_STATUS(forge_io_open("no-such-backend", &io), FORGE_E_CONFIGURATION);
  CHECK(io == NULL);
  CHECK(strstr(forge_last_error(), "no-such-backend") != NULL);
  CHECK_STATUS(forge_io_open(NULL, NULL), FORGE_E_INVALID_ARGUMENT);
  CHECK_STATUS(forge_io_open(NULL, &io), FORGE_OK);
  const char* backend = NULL;
  CHECK_STATUS(forge_io_backend(io, &backend), FORGE_OK);
  CHECK(backend != NULL && (strcmp(backend, "io_uring") == 0 || strcmp(backend, "fallback") == 0));

  const char* paths[2] = {abc, missing};
  forge_file_hash results[2];
  CHECK_STATUS(forge_hash_files(io, paths, 2, FORGE_HASH_SHA256 | FORGE_HASH_XXH3, results),
               FORGE_E_NOT_FOUND);
  CHECK(strstr(forge_io_error(io), "no-such-file") != NULL);
  CHECK_STATUS(results[0].status, FORGE_OK);
  CHECK(results[0].size == 3);
  /* FIPS 180-2 test vector for "abc". */
  CHECK(strcmp(results[0].sha256,
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
  CHECK(strlen(results[0].xxh3) == 32);
  CHECK_STATUS(results[1].status, FORGE_E_NOT_FOUND);
  CHECK(results[1].sha256[0] == '\0');

  CHECK_STATUS(forge_hash_files(io, paths, 1, FORGE_HASH_XXH3, results), FORGE_OK);
  CHECK(results[0].sha256[0] == '\0' && strlen(results[0].xxh3) == 32);
  CHECK_STATUS(forge_hash_files(io, paths, 1, 0, results), FORGE_E_INVALID_ARGUMENT);
  CHECK_STATUS(forge_hash_files(io, paths, 1, 8, results), FORGE_E_INVALID_ARGUMENT);
  CHECK_STATUS(forge_hash_files(io, NULL, 1, FORGE_HASH_SHA256, results), FORGE_E_INVALID_ARGUMENT);
  CHECK_STATUS(forge_hash_files(io, paths, 0, FORGE_HASH_SHA256, NULL), FORGE_OK);

  CHECK_STATUS(forge_io_close(&io), FORGE_OK);
  CHECK(io == NULL);
  /* A closed handle is a NULL handle: every call reports it. */
  CHECK_STATUS(forge_io_close(&io), FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_io_backend(io, &backend), FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_hash_files(io, paths, 1, FORGE_HASH_SHA256, results), FORGE_E_INVALID_HANDLE);
  CHECK(strlen(forge_io_error(io)) > 0);
  CHECK_STATUS(forge_io_close(NULL), FORGE_E_INVALID_ARGUMENT);
}

/* ---- scan index ---- */
static int find_change(forge_changes* changes, const char* path, forge_change* out) {
  while (forge_changes_next(changes, out) == FORGE_OK) {
    if (strcmp(out->path, path) == 0) return 1;
  }
  return 0;
}

static void test_scan(void) {
  char root[512], index_dir[512], file[600], not_dir[512];
  path_in(root, sizeof root, "tree");
  path_in(index_dir, sizeof index_dir, "index");
  path_in(not_dir, sizeof not_dir, "abc.txt");
  mkdir(root, 0755);
  snprintf(file, sizeof file, "%s/a.txt", root);
  write_file(file, "one");

  forge_index* index = NULL;
  CHECK_STATUS(forge_index_open("/no/such/root", index_dir, &index), FORGE_E_NOT_FOUND);
  CHECK_STATUS(forge_index_open(not_dir, index_dir, &index), FORGE_E_IO);
  CHECK_STATUS(forge_index_open(NULL, index_dir, &index), FORGE_E_INVALID_ARGUMENT);
  CHECK_STATUS(forge_index_open(root, index_dir, &index), FORGE_OK);

  forge_changes* changes = NULL;
  CHECK_STATUS(forge_index_scan(index, 99, &changes), FORGE_E_INVALID_ARGUMENT);
  CHECK_STATUS(forge_index_scan(index, FORGE_SCAN_SHA256, &changes), FORGE_OK);
  forge_changes_info info;
  CHECK_STATUS(forge_changes_info_get(changes, &info), FORGE_OK);
  CHECK(info.count == 1 && info.entries >= 1 && info.hashed == 1 && info.errors == 0);
  char cursor[128];
  snprintf(cursor, sizeof cursor, "%s", info.cursor);
  forge_change change;
  CHECK(find_change(changes, "a.txt", &change));
  CHECK(change.kind == FORGE_CHANGE_ADDED && change.type == FORGE_ENTRY_FILE);
  CHECK(strlen(change.xxh3) == 32 && strlen(change.sha256) == 64);
  CHECK_STATUS(forge_changes_next(changes, &change), FORGE_END);
  CHECK_STATUS(forge_changes_free(&changes), FORGE_OK);
  CHECK(changes == NULL);

  /* Change the tree: since(cursor) reports exactly that, after a scan records it. */
  write_file(file, "two, longer");
  snprintf(file, sizeof file, "%s/b.txt", root);
  write_file(file, "new");
  CHECK_STATUS(forge_index_scan(index, 0, &changes), FORGE_OK);
  CHECK_STATUS(forge_changes_free(&changes), FORGE_OK);
  CHECK_STATUS(forge_index_since(index, cursor, &changes), FORGE_OK);
  CHECK_STATUS(forge_changes_info_get(changes, &info), FORGE_OK);
  CHECK(info.count == 2 && info.fresh_instance == 0);
  CHECK_STATUS(forge_changes_next(changes, &change), FORGE_OK);
  CHECK(strcmp(change.path, "a.txt") == 0 && change.kind == FORGE_CHANGE_MODIFIED);
  CHECK_STATUS(forge_changes_next(changes, &change), FORGE_OK);
  CHECK(strcmp(change.path, "b.txt") == 0 && change.kind == FORGE_CHANGE_ADDED);
  CHECK_STATUS(forge_changes_free(&changes), FORGE_OK);

  /* A cursor of another index: a fresh instance listing every file. */
  CHECK_STATUS(forge_index_since(index, "0123456789abcdef:1", &changes), FORGE_OK);
  CHECK_STATUS(forge_changes_info_get(changes, &info), FORGE_OK);
  CHECK(info.fresh_instance == 1 && info.count == 2);
  CHECK_STATUS(forge_changes_free(&changes), FORGE_OK);
  CHECK_STATUS(forge_index_since(index, "not a cursor", &changes), FORGE_E_INVALID_ARGUMENT);
  CHECK(strstr(forge_index_error(index), "not a cursor") != NULL);
  CHECK(changes == NULL);

  CHECK_STATUS(forge_changes_free(&changes), FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_changes_next(changes, &change), FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_changes_info_get(changes, &info), FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_index_close(&index), FORGE_OK);
  CHECK_STATUS(forge_index_close(&index), FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_index_scan(index, 0, &changes), FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_index_since(index, cursor, &changes), FORGE_E_INVALID_HANDLE);
  CHECK(strlen(forge_index_error(index)) > 0);
}

/* ---- store and action cache ---- */
static void test_store(void) {
  char dir[512], src[512], dst[512], missing[512];
  path_in(dir, sizeof dir, "store");
  path_in(src, sizeof src, "blob-src.txt");
  path_in(dst, sizeof dst, "blob-out.txt");
  path_in(missing, sizeof missing, "no-such-file");
  write_file(src, "file blob content");

  forge_store* store = NULL;
  CHECK_STATUS(forge_store_open(NULL, &store), FORGE_E_INVALID_ARGUMENT);
  CHECK_STATUS(forge_store_open(dir, &store), FORGE_OK);

  forge_digest from_buffer, from_file;
  CHECK_STATUS(forge_store_put_buffer(store, "abc", 3, &from_buffer), FORGE_OK);
  CHECK(strcmp(from_buffer.sha256,
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
  CHECK(from_buffer.size == 3);
  CHECK_STATUS(forge_store_put_file(store, src, &from_file), FORGE_OK);
  CHECK(from_file.size == 17);
  CHECK_STATUS(forge_store_put_file(store, missing, &from_file), FORGE_E_NOT_FOUND);
  CHECK(strstr(forge_store_error(store), "no-such-file") != NULL);

  forge_digest absent = from_buffer;
  absent.sha256[0] = absent.sha256[0] == '0' ? '1' : '0';
  forge_digest malformed = from_buffer;
  strcpy(malformed.sha256, "xyz");
  forge_digest query[3] = {from_buffer, absent, from_file};
  unsigned char flags[3];
  size_t missing_count = 99;
  CHECK_STATUS(forge_store_find_missing(store, query, 3, flags, &missing_count), FORGE_OK);
  CHECK(missing_count == 1 && flags[0] == 0 && flags[1] == 1 && flags[2] == 0);
  query[1] = malformed;
  CHECK_STATUS(forge_store_find_missing(store, query, 3, flags, &missing_count),
               FORGE_E_INVALID_ARGUMENT);
  CHECK(strstr(forge_store_error(store), "digests[1]") != NULL);

  char buffer[64];
  size_t size = 0;
  CHECK_STATUS(forge_store_get_buffer(store, &from_buffer, buffer, sizeof buffer, &size), FORGE_OK);
  CHECK(size == 3 && memcmp(buffer, "abc", 3) == 0);
  CHECK_STATUS(forge_store_get_buffer(store, &from_file, buffer, 4, &size),
               FORGE_E_BUFFER_TOO_SMALL);
  CHECK(size == 17);
  CHECK_STATUS(forge_store_get_buffer(store, &absent, buffer, sizeof buffer, &size),
               FORGE_E_NOT_FOUND);
  CHECK_STATUS(forge_store_get_buffer(store, &malformed, buffer, sizeof buffer, &size),
               FORGE_E_INVALID_ARGUMENT);
  CHECK_STATUS(forge_store_get_file(store, &from_file, dst), FORGE_OK);
  FILE* f = fopen(dst, "rb");
  CHECK(f != NULL);
  if (f != NULL) {
    size = fread(buffer, 1, sizeof buffer, f);
    fclose(f);
    CHECK(size == 17 && memcmp(buffer, "file blob content", 17) == 0);
  }
  CHECK_STATUS(forge_store_get_file(store, &absent, dst), FORGE_E_NOT_FOUND);
  CHECK_STATUS(forge_store_get_file(store, &malformed, dst), FORGE_E_INVALID_ARGUMENT);

  void* value = NULL;
  CHECK_STATUS(forge_ac_put(store, "key-1", "value one", 9), FORGE_OK);
  CHECK_STATUS(forge_ac_get(store, "key-1", &value, &size), FORGE_OK);
  CHECK(size == 9 && value != NULL && memcmp(value, "value one", 9) == 0);
  forge_free(value);
  CHECK_STATUS(forge_ac_get(store, "key-2", &value, &size), FORGE_E_NOT_FOUND);
  CHECK(value == NULL);
  CHECK_STATUS(forge_ac_put(store, "bad key!", "x", 1), FORGE_E_INVALID_ARGUMENT);
  CHECK_STATUS(forge_ac_get(store, "bad key!", &value, &size), FORGE_E_INVALID_ARGUMENT);
  CHECK_STATUS(forge_ac_put(store, NULL, "x", 1), FORGE_E_INVALID_ARGUMENT);

  CHECK_STATUS(forge_store_close(&store), FORGE_OK);
  CHECK(store == NULL);
  CHECK_STATUS(forge_store_close(&store), FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_store_put_buffer(store, "abc", 3, &from_buffer), FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_store_put_file(store, src, &from_buffer), FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_store_find_missing(store, query, 1, flags, &missing_count),
               FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_store_get_buffer(store, &from_buffer, buffer, 3, &size),
               FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_store_get_file(store, &from_buffer, dst), FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_ac_put(store, "key-1", "v", 1), FORGE_E_INVALID_HANDLE);
  CHECK_STATUS(forge_ac_get(store, "key-1", &value, &size), FORGE_E_INVALID_HANDLE);
  CHECK(strlen(forge_store_error(store)) > 0);
  CHECK(strlen(forge_last_error()) > 0);

  /* The blobs survive a reopen. */
  CHECK_STATUS(forge_store_open(dir, &store), FORGE_OK);
  CHECK_STATUS(forge_store_get_buffer(store, &from_buffer, buffer, sizeof buffer, &size), FORGE_OK);
  CHECK_STATUS(forge_ac_get(store, "key-1", &value, &size), FORGE_OK);
  forge_free(value);
  CHECK_STATUS(forge_store_close(&store), FORGE_OK);
}

static void remove_tree(const char* dir) {
  char command[600];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  if (system(command) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

int main(void) {
  const char* tmp = getenv("TMPDIR");
  snprintf(g_dir, sizeof g_dir, "%s/forge-capi-test-XXXXXX", tmp != NULL ? tmp : "/tmp");
  if (mkdtemp(g_dir) == NULL) {
    perror("mkdtemp");
    return 2;
  }
  test_basics();
  test_logging();
  test_hash();
  test_scan();
  test_store();
  remove_tree(g_dir);
  if (g_failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", g_failures);
    return 1;
  }
  printf("forge C API: all checks passed (libforge %s)\n", forge_version());
  return 0;
}
