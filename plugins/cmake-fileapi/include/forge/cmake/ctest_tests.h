#pragma once
// The tests of a build, from `ctest --show-only=json-v1` (run in the build directory, with
// -C CONFIG for multi-config generators), mapped to the target whose artifact each test's
// command runs (add_test(NAME n COMMAND tgt) expands to $<TARGET_FILE:tgt>, an artifact).
//
// Blocking (runs ctest). Errors: ctest missing or failing, or output that is not ctest's
// JSON, are errors naming ctest and the build directory.
// Thread-compatible: no shared state.

#include <filesystem>
#include <string_view>

#include "forge/cmake/model.h"
#include "forge/core/support/error.h"

namespace forge::cmake {

// Fills model.tests. `ctest` is the program to run ("ctest" looks it up in PATH).
Result<void> read_tests(Model& model, const std::filesystem::path& ctest);

// Parses ctest's json-v1 text into model.tests (exposed for tests).
Result<void> apply_ctest_json(std::string_view text, Model& model);

}  // namespace forge::cmake
