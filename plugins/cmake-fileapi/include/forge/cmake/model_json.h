#pragma once
// The JSON shapes `forge cmake targets --json` and `forge cmake affected --json` print.
// Paths are relative to the source dir ("src/a.cc"), or to the build dir prefixed "$B/",
// or absolute when outside both. Field names are a stable interface for CI scripts:
// add fields, never rename them.
// Pure functions of a Model: no errors, thread-compatible.

#include <nlohmann/json.hpp>

#include "forge/cmake/affected.h"
#include "forge/cmake/fingerprint.h"
#include "forge/cmake/model.h"

namespace forge::cmake {

// {"source_dir", "build_dir", "generator", "config", "headers_exact", "model_from_cache",
//  "notes",
//  "targets": [{"name", "type", "sources", "compiled_sources", "headers", "dependencies",
//  "transitive_dependencies", "artifacts", "object_dir", "tests", "own_digest", "fingerprint"}],
//  "tests": [{"name", "target", "labels"}]}
nlohmann::json model_to_json(const Model& model, const Fingerprints& fingerprints);

// {"changed", "reconfigure_needed", "cmake_inputs_changed", "directly_affected",
//  "transitively_affected", "affected", "tests", "test_regex", "unmapped", "headers_exact",
//  "notes"}
nlohmann::json affected_to_json(const Model& model, const Affected& affected);

// The `ctest -R` argument that selects exactly `affected.tests` ("^(a|b)$", regex
// metacharacters escaped); empty when there are none.
std::string test_regex(const Model& model, const Affected& affected);

// A path as printed: relative to the source dir, "$B/..." inside the build dir, else as is.
std::string display_path(const Model& model, const std::string& path);

}  // namespace forge::cmake
