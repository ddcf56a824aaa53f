#include "forge/core/scan/ignore_rules.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace forge::scan {
namespace {

std::string_view trim_right(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  return line;
}

bool class_match(std::string_view name, unsigned char c) {
  if (name == "alpha") return std::isalpha(c) != 0;
  if (name == "digit") return std::isdigit(c) != 0;
  if (name == "alnum") return std::isalnum(c) != 0;
  if (name == "upper") return std::isupper(c) != 0;
  if (name == "lower") return std::islower(c) != 0;
  if (name == "space") return std::isspace(c) != 0;
  if (name == "punct") return std::ispunct(c) != 0;
  if (name == "xdigit") return std::isxdigit(c) != 0;
  if (name == "blank") return c == ' ' || c == '\t';
  if (name == "cntrl") return std::iscntrl(c) != 0;
  if (name == "print") return std::isprint(c) != 0;
  if (name == "graph") return std::isgraph(c) != 0;
  return false;
}

// Matches the bracket expression starting at pattern[at] == '[' against c. Returns the
// index after its ']', or npos when it is not closed (then '[' is an ordinary character).
// ASCII case folding, as git's wildmatch does under core.ignorecase (WM_CASEFOLD).
unsigned char fold(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

unsigned char other_case(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<unsigned char>(c - 'A' + 'a');
  if (c >= 'a' && c <= 'z') return static_cast<unsigned char>(c - 'a' + 'A');
  return c;
}

bool same_char(char a, char b, bool ignore_case) {
  return a == b || (ignore_case &&
                    fold(static_cast<unsigned char>(a)) == fold(static_cast<unsigned char>(b)));
}

// With `ignore_case` the expression matches when c or its other case is in it (before a
// negation applies), as in git's wildmatch.
std::size_t match_bracket(std::string_view pattern, std::size_t at, unsigned char c,
                          bool ignore_case, bool& matched) {
  const unsigned char c2 = ignore_case ? other_case(c) : c;
  std::size_t i = at + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool any = false;
  for (bool first = true; i < pattern.size() && (first || pattern[i] != ']'); first = false) {
    if (pattern[i] == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {
      if (const auto end = pattern.find(":]", i + 2); end != std::string_view::npos) {
        const std::string_view name = pattern.substr(i + 2, end - i - 2);
        any = any || class_match(name, c) || class_match(name, c2);
        i = end + 2;
        continue;
      }
    }
    auto low = static_cast<unsigned char>(pattern[i]);
    if (low == '\\' && i + 1 < pattern.size()) low = static_cast<unsigned char>(pattern[++i]);
    ++i;
    if (i + 1 < pattern.size() && pattern[i] == '-' && pattern[i + 1] != ']') {
      auto high = static_cast<unsigned char>(pattern[i + 1]);
      i += 2;
      if (high == '\\' && i < pattern.size()) high = static_cast<unsigned char>(pattern[i++]);
      any = any || (low <= c && c <= high) || (low <= c2 && c2 <= high);
    } else {
      any = any || c == low || c2 == low;
    }
  }
  if (i >= pattern.size()) return std::string_view::npos;
  matched = any != negate;
  return i + 1;
}

// One path segment against one pattern segment: `*`, `?`, `[...]`, `\x` (fnmatch with
// FNM_PATHNAME, for text without '/'). Greedy with one backtrack point, the last `*`: each
// text position is retried at most once per `*`, so O(pattern x text), never exponential.
bool segment_match(std::string_view pattern, std::string_view text, bool ignore_case) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star_p = std::string_view::npos;
  std::size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star_p = ++p;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        bool matched = false;
        const std::size_t end =
            match_bracket(pattern, p, static_cast<unsigned char>(text[t]), ignore_case, matched);
        if (end == std::string_view::npos ? text[t] == '[' : matched) {
          p = end == std::string_view::npos ? p + 1 : end;
          ++t;
          continue;
        }
      } else if (pc == '\\' && p + 1 < pattern.size()) {
        if (same_char(pattern[p + 1], text[t], ignore_case)) {
          p += 2;
          ++t;
          continue;
        }
      } else if (same_char(pc, text[t], ignore_case)) {
        ++p;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;  // let the last `*` take one more character
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Segment-wise NFA simulation: reach[p] says the first p pattern segments match the path
// segments consumed so far; `**` matches zero or more whole segments. O(pattern x path)
// segment matches, whatever the number of `**` (issue 16 item 11: the recursive matcher
// was exponential in them).
bool match_parts(const std::vector<std::string_view>& pattern,
                 const std::vector<std::string_view>& path, bool ignore_case) {
  const std::size_t count = pattern.size();
  std::vector<char> reach(count + 1, 0);
  std::vector<char> next(count + 1, 0);
  auto close = [&](std::vector<char>& states) {  // `**` may match no segment
    for (std::size_t p = 0; p < count; ++p) {
      if (states[p] && pattern[p] == "**") states[p + 1] = 1;
    }
  };
  reach[0] = 1;
  close(reach);
  for (const std::string_view segment : path) {
    std::fill(next.begin(), next.end(), 0);
    bool any = false;
    for (std::size_t p = 0; p < count; ++p) {
      if (!reach[p]) continue;
      if (pattern[p] == "**") {
        next[p] = 1;
        any = true;
      } else if (segment_match(pattern[p], segment, ignore_case)) {
        next[p + 1] = 1;
        any = true;
      }
    }
    if (!any) return false;
    close(next);
    reach.swap(next);
  }
  return reach[count] != 0;
}

// Whether `text` starts with `prefix`, folding ASCII case when asked.
bool has_prefix(std::string_view text, std::string_view prefix, bool ignore_case) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (!same_char(text[i], prefix[i], ignore_case)) return false;
  }
  return true;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path, bool ignore_case) {
  return match_parts(split(pattern), split(path), ignore_case);
}

void IgnoreRules::add_gitignore(std::string_view base_dir, std::string_view content) {
  std::size_t start = 0;
  while (start < content.size()) {
    std::size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = trim_right(content.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line.front() == '#') continue;
    Rule rule;
    rule.base = std::string(base_dir);
    if (line.front() == '!') {
      rule.negated = true;
      line.remove_prefix(1);
    } else if (line.starts_with("\\!") || line.starts_with("\\#")) {
      line.remove_prefix(1);
    }
    if (!line.empty() && line.back() == '/') {
      rule.directory_only = true;
      line.remove_suffix(1);
    }
    if (line.empty()) continue;
    rule.anchored = line.find('/') != std::string_view::npos;
    if (line.front() == '/') line.remove_prefix(1);
    rule.pattern = std::string(line);
    m_rules.push_back(std::move(rule));
  }
}

void IgnoreRules::add_exclude(std::string_view glob) {
  Rule rule;
  rule.pattern = std::string(glob);
  rule.anchored = glob.find('/') != std::string_view::npos;
  if (!rule.pattern.empty() && rule.pattern.front() == '/') rule.pattern.erase(0, 1);
  m_rules.push_back(std::move(rule));
}

bool IgnoreRules::is_ignored(std::string_view relative_path, bool is_directory) const {
  bool ignored = false;
  for (const Rule& rule : m_rules) {
    if (rule.directory_only && !is_directory) continue;
    std::string_view below = relative_path;
    if (!rule.base.empty()) {
      if (!has_prefix(relative_path, rule.base, m_ignore_case) ||
          relative_path.size() <= rule.base.size() || relative_path[rule.base.size()] != '/') {
        continue;
      }
      below = relative_path.substr(rule.base.size() + 1);
    }
    bool matched;
    if (rule.anchored) {
      matched = glob_match(rule.pattern, below, m_ignore_case);
    } else {
      const std::size_t slash = below.rfind('/');
      matched = segment_match(rule.pattern,
                              slash == std::string_view::npos ? below : below.substr(slash + 1),
                              m_ignore_case);
    }
    if (matched) ignored = !rule.negated;
  }
  return ignored;
}

}  // namespace forge::scan
