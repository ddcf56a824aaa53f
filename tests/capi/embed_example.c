/* The README's embedding example: hash a file, store it, read it back. */
#include <forge/forge.h>
#include <stdio.h>

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : argv[0];
  const char* store_dir = argc > 2 ? argv[2] : "forge-example-store";
  forge_io* io = NULL;
  forge_store* store = NULL;
  forge_file_hash hash;
  forge_digest digest;
  if (forge_io_open(NULL, &io) != FORGE_OK ||
      forge_hash_files(io, &path, 1, FORGE_HASH_SHA256, &hash) != FORGE_OK ||
      forge_store_open(store_dir, &store) != FORGE_OK ||
      forge_store_put_file(store, path, &digest) != FORGE_OK) {
    fprintf(stderr, "forge: %s\n", forge_last_error());
    return 1;
  }
  printf("%s  %s (stored as %s/%llu)\n", hash.sha256, path, digest.sha256,
         (unsigned long long)digest.size);
  forge_store_close(&store);
  forge_io_close(&io);
  return 0;
}
