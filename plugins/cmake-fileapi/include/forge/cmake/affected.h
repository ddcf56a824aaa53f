#pragma once
// From changed files to the targets a build would redo and the tests to run.
//
// A target is *directly* affected when one of its own inputs changed: a source (compiled
// or not, e.g. a custom command's main dependency), a header its objects include (Ninja's
// deps log), or - when its headers are unknown - a file in one of its include or source
// directories (conservative), or when `also_direct` names it (its compile settings changed,
// see reconfigure.h). It is *transitively* affected when it consumes an output of an
// affected target: object files of an OBJECT library among its sources, or an affected
// library among the files it links. Only consumption propagates: a static library does not
// re-archive when a library it "links" changes, just as Ninja would not rebuild it.
//
// A test is affected when the target whose artifact it runs is affected, when its program
// itself changed, or when an argument or its working directory (inside the source tree but
// not its root) names a changed file or a directory holding one. Changed CMake inputs
// (cmakeFiles v1) set reconfigure_needed.
//
// Pure functions of their inputs; thread-safe (the lookup's own safety aside).

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "forge/cmake/model.h"
#include "forge/cmake/query_index.h"
#include "forge/core/support/error.h"

namespace forge::cmake {

struct Affected {
  std::vector<std::string> changed;               // absolute, sorted, unique
  std::vector<std::string> cmake_inputs_changed;  // subset of changed
  bool reconfigure_needed = false;
  std::vector<std::size_t> direct;      // target indices, sorted
  std::vector<std::size_t> transitive;  // affected only through what they consume, sorted
  std::vector<std::size_t> tests;       // indices into Model::tests, in ctest's order
  std::vector<std::string> unmapped;    // changed files no target or test uses
};

// `changed`: absolute paths (normalized here).
// Paths as a user typed them (relative to `cwd`, possibly through symlinks) made absolute
// in the model's spelling: a path whose real location is inside the source or build dir is
// rewritten under model.source_dir / model.build_dir as CMake spells them.
std::vector<std::string> resolve_user_paths(const Model& model,
                                            const std::vector<std::string>& paths,
                                            const std::filesystem::path& cwd);

Affected compute_affected(const Model& model, std::vector<std::string> changed,
                          const std::vector<std::size_t>& also_direct = {});

// The same answer from a query index (query_index.h): `lookup` gives a path's FileUse (an
// empty one for a path no target lists); its errors are returned. Target and test indices
// refer to index.slim, which names them like the full model.
using FileLookup = std::function<Result<FileUse>(const std::string& path)>;
Result<Affected> compute_affected(const QueryIndex& index, const FileLookup& lookup,
                                  std::vector<std::string> changed,
                                  const std::vector<std::size_t>& also_direct = {});

}  // namespace forge::cmake
