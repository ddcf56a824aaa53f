#pragma once
// Header dependencies of every compiled source, from Ninja itself: `ninja -t deps` prints
// the deps log as text ("<output>: #deps N, deps mtime T (VALID|STALE)" followed by one
// indented dependency per line). Each object is attributed to the target whose object
// directory (<target build dir>/CMakeFiles/<name>.dir/) holds it.
//
// A target gets headers_known only when every compiled source has a deps entry (it was
// built). Other generators, and unbuilt targets, keep headers_known = false: affected.h
// then maps a header to a target through the target's include directories and source
// directories (conservative), and Model::headers_exact is false with a note saying so.
//
// Blocking (runs ninja). Errors: ninja missing or failing is an error naming it.
// Thread-compatible: no shared state.

#include <string_view>

#include "forge/cmake/model.h"
#include "forge/core/support/error.h"

namespace forge::cmake {

// Fills Target::headers from `ninja -t deps` when model.generator is a Ninja generator.
Result<void> read_header_deps(Model& model);

// Parses `ninja -t deps` output (exposed for tests) into the model's targets; paths are
// resolved against model.build_dir.
void apply_ninja_deps(std::string_view text, Model& model);

}  // namespace forge::cmake
