#pragma once
// Reads the file-API reply objects into a Model: codemodel v2 (targets, sources, compile
// groups, dependencies, artifacts, link libraries), cmakeFiles v1 (the files CMake reads)
// and toolchains v1 (compiler identities, which enter the fingerprints).
//
// Multi-config generators describe every configuration; exactly one is read: `config`, or
// the only one there is. Naming none when there are several, or one that does not exist, is
// a Validation error listing the configurations.
//
// Errors: a corrupt or unexpectedly shaped object is a Validation error naming its file and
// telling the user to re-run cmake. Headers and tests are not filled here (header_deps.h,
// ctest_tests.h). Pure functions of their inputs; thread-safe.

#include <string>

#include "forge/cmake/file_api.h"
#include "forge/cmake/model.h"

namespace forge::cmake {

Result<Model> read_codemodel(const Reply& reply, const std::string& config);

// Adds cmake_inputs (cmakeFiles v1) and toolchains (toolchains v1) when the reply has them;
// a reply without them gets a note (reconfigure detection or compiler identities missing).
Result<void> read_cmake_files(const Reply& reply, Model& model);
Result<void> read_toolchains(const Reply& reply, Model& model);

}  // namespace forge::cmake
