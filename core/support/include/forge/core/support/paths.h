#pragma once
// Where Forge keeps its per-user state when the user names no directory.
// Thread-safe: reads the environment only.

#include <filesystem>

namespace forge {

// $XDG_CACHE_HOME/forge, else $HOME/.cache/forge, else /tmp/forge-<uid>. On Windows
// %LOCALAPPDATA%\forge comes before $HOME, and %TEMP%\forge is the last resort. Never fails;
// the directory is not created here.
std::filesystem::path forge_cache_home();

}  // namespace forge
