#pragma once
// The build graph, read from build.ninja by Forge's own manifest reader.
//
// Why our own reader and not `ninja -t ...`: settle needs, for every edge, the exact
// command Ninja hashes into .ninja_log (the evaluated command plus ";rspfile=CONTENT"), the
// explicit / implicit / order-only split of its inputs, and its restat / generator / deps /
// depfile bindings. No Ninja tool prints all of that (`-t commands` has no outputs,
// `-t graph` no commands or flags, `-t query` one target per call), and spawning several
// tools per run would cost more than Ninja's own no-op, which `forge ninja` must stay close
// to. The reader follows Ninja 1.11's grammar and scoping: rules, pools, top-level and
// per-edge variables, include (same scope) and subninja (child scope), `$` escapes, line
// continuations, phony, default, implicit outputs (`|`), implicit (`|`), order-only (`||`)
// and validation (`|@`) inputs. `dyndep` is refused (a Validation error: Forge then leaves
// the build to plain Ninja). Paths are canonicalised like Ninja's CanonicalizePath.
//
// Variable lookup for an edge's rule bindings follows Ninja's BindingEnv: $in / $out
// (shell-escaped explicit paths), then the edge's own bindings (or, for an edge without
// bindings, its file scope), then the rule's binding, then the enclosing scopes.
//
// Errors: an unreadable file is a FileSystem error; a syntax error is a Validation error
// naming file and line. Threading: read_manifest is a pure function of the files.

#include <cstddef>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "forge/core/support/error.h"

namespace forge::ninja {

struct Edge {
  std::string rule;                  // "phony" for phony edges
  std::vector<std::string> outputs;  // explicit first, then implicit
  std::size_t explicit_outputs = 0;
  std::vector<std::string> inputs;  // explicit, implicit, order-only, in that order
  std::size_t explicit_inputs = 0;
  std::size_t implicit_inputs = 0;
  std::size_t order_only_inputs = 0;
  std::string command;  // what Ninja hashes: command [+ ";rspfile=" + rspfile_content]
  std::string deps;     // "gcc", "msvc" or empty
  std::string depfile;
  bool restat = false;
  bool generator = false;

  bool is_phony() const { return rule == "phony"; }
  // explicit + implicit: the inputs whose mtimes (and contents) matter.
  std::size_t dirtying_inputs() const { return explicit_inputs + implicit_inputs; }
};

struct Manifest {
  std::vector<Edge> edges;
  std::unordered_map<std::string, std::size_t> producer;  // output path -> edge index
  std::vector<std::string> defaults;
  // Every manifest file read (build.ninja first, then includes and subninjas), as named:
  // relative to the build dir unless absolute.
  std::vector<std::string> files;

  const Edge* producer_of(const std::string& path) const {
    const auto it = producer.find(path);
    return it == producer.end() ? nullptr : &edges[it->second];
  }
};

// Reads `dir`/`file` (build.ninja by default) and everything it includes. Relative paths
// in the manifest are relative to `dir`, as for ninja -C dir.
Result<Manifest> read_manifest(const std::filesystem::path& dir,
                               const std::string& file = "build.ninja");

// Ninja's CanonicalizePath for POSIX paths: drops "." components and empty ones, folds
// "x/.." where x is not "..", keeps a leading "/".
std::string canonicalize_path(std::string_view path);

// Ninja's POSIX shell escaping of one path in $in / $out.
std::string shell_escape(std::string_view path);

}  // namespace forge::ninja
