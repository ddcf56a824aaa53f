#pragma once
// When a CMake input changed, only a re-configure tells which targets' settings changed.
// reconfigure_and_compare() computes every target's own digest (fingerprint.h), runs
// `cmake BUILD` (what the next build would do anyway), reloads the model and compares:
// a target that is new, or whose own digest differs (flags, defines, includes, sources,
// link flags, or a configure_file output it includes), is reported as changed.
//
// Blocking (runs cmake, ninja, ctest and reads every input twice). Errors: those of
// loader.h, including a cmake that fails to configure (its output is in the error).
// Thread-compatible: no shared state.

#include <cstddef>
#include <vector>

#include "forge/cmake/loader.h"
#include "forge/cmake/model.h"

namespace forge::cmake {

struct Reconfigured {
  Model model;                       // after the re-configure
  std::vector<std::size_t> changed;  // indices into model.targets, sorted
};

Result<Reconfigured> reconfigure_and_compare(const Model& before, const LoadOptions& options);

}  // namespace forge::cmake
