#pragma once
// `forge cache push` / `forge cache pull`: argument parsing and printing around
// cache/tier_transfer.h. Called by cache_command.cpp with the tokens after the action.

#include <string>
#include <vector>

namespace forge::cli {

int run_cache_transfer(const std::string& action, std::vector<std::string> tokens);

}  // namespace forge::cli
