// A C++ program on the installed static libraries (Forge::cache, which brings Forge::core):
// hashes "abc" and round-trips it through a CasStore. Usage: cxx_consumer STORE_DIR
#include <cstdio>
#include <span>
#include <string_view>

#include "forge/cache/cas_store.h"
#include "forge/core/hash/digest.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const auto digest = forge::hash::sha256_of(std::string_view("abc"));
  auto store = forge::cache::CasStore::open(forge::cache::StoreOptions{.dir = argv[1]});
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().to_string().c_str());
    return 1;
  }
  auto put = (*store)->put(std::as_bytes(std::span(std::string_view("abc"))));
  if (!put || put->sha256 != digest) return 1;
  auto got = (*store)->get(*put);
  if (!got || !*got || **got != "abc") return 1;
  std::printf("cxx consumer: %s\n", put->to_string().c_str());
  return 0;
}
