#pragma once
// Runs an external program (ninja, ctest, cmake) and captures what it prints.
//
// Blocking; no shell is involved (argv is passed as is, the program is looked up in PATH).
// Thread-safe (each call owns its pipes and child). Output is capped at k_max_output bytes
// per stream so a runaway child cannot grow the process without bound.

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "forge/core/support/error.h"

namespace forge::cmake {

// 1 GiB: far above `ninja -t deps` of a 20,000-source project (~20 MB).
inline constexpr std::size_t k_max_output = std::size_t{1} << 30;

struct ProgramOutput {
  int exit_code = -1;  // 128 + signal when killed by one
  std::string out;
  std::string err;
};

// Runs argv[0] with `argv` in `cwd`. A program that cannot be started is a Dependency error
// naming it; a non-zero exit is not an error here (the caller decides), but output over the
// cap is a Validation error.
// REQUIRES: !argv.empty().
Result<ProgramOutput> run_program(const std::vector<std::string>& argv,
                                  const std::filesystem::path& cwd);

}  // namespace forge::cmake
