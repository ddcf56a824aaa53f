#pragma once
// IgnoreRules: the subset of gitignore(5) that build trees use, plus --exclude globs.
//
// Supported: one pattern per line; `#` comments; blank lines; `!` negation (the last
// matching pattern wins); trailing `/` (directories only); a leading or inner `/` anchors
// the pattern to the directory of its .gitignore; `*`, `?`, `[...]` (fnmatch with
// FNM_PATHNAME), and `**` as a whole segment (`**/x`, `x/**`, `a/**/b`). Not supported:
// escaped trailing spaces, and core.excludesFile / .git/info/exclude.
//
// Case: on Windows (case-insensitive file systems) patterns match ignoring ASCII case, as git
// for Windows does (core.ignorecase = true: `Build/` ignores `build`, `*.OBJ` ignores `a.obj`);
// on Linux case matters. The constructor overrides the platform's default.
//
// Thread-compatible: build it, then query from any thread. Errors: none; every line is taken
// as a pattern and nothing is rejected.

#include <string>
#include <string_view>
#include <vector>

namespace forge::scan {

#ifdef _WIN32
inline constexpr bool k_ignore_case_by_default = true;
#else
inline constexpr bool k_ignore_case_by_default = false;
#endif

class IgnoreRules {
 public:
  explicit IgnoreRules(bool ignore_case = k_ignore_case_by_default) : m_ignore_case(ignore_case) {}
  bool ignore_case() const { return m_ignore_case; }

  // Adds the patterns of a .gitignore found in `base_dir` (relative to the root, "" for
  // the root itself, no trailing slash).
  void add_gitignore(std::string_view base_dir, std::string_view content);
  // Adds an --exclude glob: matched against the root-relative path and against its basename.
  void add_exclude(std::string_view glob);

  // `relative_path` has no leading slash ("src/a.c"). Directories must be tested too: an
  // ignored directory hides its whole subtree (as in git, a negation cannot re-include a
  // file under an excluded directory).
  bool is_ignored(std::string_view relative_path, bool is_directory) const;

 private:
  struct Rule {
    std::string base;  // directory of the .gitignore ("" = root)
    std::string pattern;
    bool negated = false;
    bool directory_only = false;
    bool anchored = false;  // contains a slash: matched against the path below base
  };
  bool m_ignore_case;
  std::vector<Rule> m_rules;
};

// fnmatch-style glob with `**` segments; exposed for tests. `ignore_case` folds ASCII case
// (fnmatch's FNM_CASEFOLD).
bool glob_match(std::string_view pattern, std::string_view path, bool ignore_case = false);

}  // namespace forge::scan
