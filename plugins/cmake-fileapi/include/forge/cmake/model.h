#pragma once
// The target model of one configured CMake build directory: what the CMake file API
// (codemodel v2, cmakeFiles v1, toolchains v1), Ninja's deps log and ctest say about it.
//
// Paths: every path held here is absolute and lexically normal ("a/./b" -> "a/b"), so a
// path from one source (a reply, `ninja -t deps`, ctest) compares equal to the same path
// from another. Relative paths appear only in JSON output and fingerprints (relative to the
// source or build directory, so they are stable across checkouts and build dirs).
//
// A Model is a plain value: copyable, thread-compatible, no references into other objects.
// Errors are the loader's (loader.h); nothing here fails.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace forge::cmake {

struct CompileGroup {
  std::string language;                // "CXX", "C", ...
  std::vector<std::string> fragments;  // compile flags, in order
  std::vector<std::string> defines;    // "NAME" or "NAME=VALUE", in order
  std::vector<std::string> includes;   // include directories (absolute), in order
  std::vector<std::string> system_includes;
  std::string sysroot;
};

struct Source {
  std::string path;                          // absolute
  std::optional<std::size_t> compile_group;  // index into Target::compile_groups; none for
                                             // headers, object files and other inputs
  bool generated = false;
};

struct Target {
  std::string id;          // the file API's unique id ("name::@hash")
  std::string name;        // unique within a project
  std::string type;        // EXECUTABLE, STATIC_LIBRARY, SHARED_LIBRARY, MODULE_LIBRARY,
                           // OBJECT_LIBRARY, INTERFACE_LIBRARY, UTILITY
  std::string source_dir;  // the target's CMakeLists.txt directory (absolute)
  std::string build_dir;   // its build directory (absolute)
  std::vector<Source> sources;
  std::vector<CompileGroup> compile_groups;
  std::vector<std::string> artifacts;       // absolute: executables, libraries, objects
  std::vector<std::string> link_libraries;  // link command "libraries" fragments that name
                                            // files (absolute); flags are left out
  std::vector<std::string> link_flags;      // the other link fragments, in order
  std::vector<std::size_t> dependencies;    // direct dependencies (indices into targets)
  // Header (and other implicit) dependencies of the compiled sources, sorted, unique. From
  // Ninja's deps log; empty when unknown (see Model::headers_exact and headers_known).
  std::vector<std::string> headers;
  bool headers_known = false;  // false: never built, or a generator without a deps log
};

struct Test {
  std::string name;
  std::vector<std::string> command;  // command[0] is the program (absolute when a target)
  std::string working_directory;
  std::vector<std::string> labels;
  std::optional<std::size_t> target;  // the target whose artifact command[0] runs
};

struct Toolchain {
  std::string language;
  std::string compiler_id;
  std::string compiler_version;
  std::string compiler_path;
};

struct Model {
  std::string source_dir;  // top-level source directory (absolute)
  std::string build_dir;   // top-level build directory (absolute)
  std::string generator;   // "Ninja", "Ninja Multi-Config", "Unix Makefiles", ...
  bool multi_config = false;
  std::string config;  // the configuration described ("" for a single-config default)
  std::string cmake_version;
  std::vector<Target> targets;  // sorted by name
  std::vector<Test> tests;      // in ctest's order
  // Files CMake read while configuring (CMakeLists.txt, included .cmake files,
  // configure_file templates), absolute; generated and external ones left out.
  std::vector<std::string> cmake_inputs;
  std::vector<Toolchain> toolchains;
  // True when every compiled target's header dependencies come from Ninja's deps log; false
  // means some were approximated from include directories (conservative: may over-report).
  bool headers_exact = false;
  std::vector<std::string> notes;  // things the user should know (stale reply, fallbacks, ...)
  // True when load_model() answered from the model cache (model_cache.h); not cached itself.
  bool from_cache = false;

  // The index of the target named `name`, or nullopt.
  std::optional<std::size_t> find_target(const std::string& name) const;
};

// Lexically normal absolute form of `path`; a relative path is taken against `base`.
std::string normalize_path(const std::string& path, const std::string& base);

// `path` relative to `root` when it lies inside it, otherwise nullopt.
std::optional<std::string> relative_to(const std::string& path, const std::string& root);

}  // namespace forge::cmake
