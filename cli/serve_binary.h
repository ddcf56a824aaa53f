#pragma once
// Where `forge-serve` is: beside the running `forge` (git's git-<command> pattern). Shared by
// the `forge serve` launcher (which execs it) and `forge agent` (which runs it as a child).
#include <filesystem>

namespace forge::cli {

std::filesystem::path serve_binary_path();

}  // namespace forge::cli
