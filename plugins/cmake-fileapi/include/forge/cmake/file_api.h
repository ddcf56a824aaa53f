#pragma once
// The client side of CMake's file API (cmake-file-api(7)) for the client "client-forge".
//
// Query: a stateful query file <build>/.cmake/api/v1/query/client-forge/query.json asking
// for codemodel v2, cache v2, cmakeFiles v1 and toolchains v1. CMake answers it at every
// configure (including the re-runs Ninja/Make trigger), so one write is enough forever.
//
// Reply: <build>/.cmake/api/v1/reply/index-<timestamp>.json (the lexically last one is the
// newest, as cmake-file-api(7) specifies) lists the reply objects; our client's responses
// name the objects answering our requests. An object of a major version we do not know is
// left out with a note ("what is understood is used, what is not is said"); a missing
// codemodel v2 is an error, because nothing can be done without it.
//
// Errors name the file and the fix: no build directory, no reply (run cmake once), corrupt
// JSON (re-run cmake to rewrite it). Not thread-safe against a cmake run writing the reply
// at the same time (CMake writes the index last, so a reader sees an old or new index).

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "forge/core/support/error.h"

namespace forge::cmake {

inline constexpr std::string_view k_client = "client-forge";
// The major versions this client understands, per object kind.
inline constexpr int k_codemodel_major = 2;
inline constexpr int k_cache_major = 2;
inline constexpr int k_cmake_files_major = 1;
inline constexpr int k_toolchains_major = 1;

struct ReplyObject {
  std::string kind;  // "codemodel", "cache", "cmakeFiles", "toolchains"
  int major = 0;
  int minor = 0;
  std::filesystem::path file;  // absolute path of the object's JSON file
};

struct Reply {
  std::filesystem::path build_dir;
  std::filesystem::path index_file;
  std::string generator;
  bool multi_config = false;
  std::string cmake_version;
  std::filesystem::path ctest;  // the ctest of the cmake that configured (may be empty)
  std::map<std::string, ReplyObject> objects;  // by kind; only understood versions
  std::vector<std::string> notes;              // versions not understood, stale reply, ...
};

// <build>/.cmake/api/v1/query/client-forge/query.json
std::filesystem::path query_file(const std::filesystem::path& build_dir);

// Writes the query file unless it already asks for exactly our requests. Returns true when
// it wrote (the next cmake run will answer it). REQUIRES: build_dir exists.
Result<bool> write_query(const std::filesystem::path& build_dir);

// The newest reply index file of `build_dir` (cmake-file-api(7): the lexicographically
// largest index-*.json name), or nullopt when there is none.
std::optional<std::filesystem::path> newest_reply_index(const std::filesystem::path& build_dir);

// Reads the newest reply index of `build_dir` and picks our objects from it. Adds a note
// when the reply is older than build.ninja or CMakeCache.txt (stale).
Result<Reply> read_reply(const std::filesystem::path& build_dir);

// Parses one reply JSON file; a missing, unreadable or corrupt file is an error naming it.
Result<nlohmann::json> read_json_file(const std::filesystem::path& file);

}  // namespace forge::cmake
