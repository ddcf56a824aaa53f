#include "forge/core/scan/ignore_rules.h"

#include <fnmatch.h>

#include <string>

namespace forge::scan {
namespace {

std::string_view trim_right(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  return line;
}

bool segment_match(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), FNM_PATHNAME) == 0;
}

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool match_parts(const std::vector<std::string>& pattern, std::size_t p,
                 const std::vector<std::string>& path, std::size_t i) {
  if (p == pattern.size()) return i == path.size();
  if (pattern[p] == "**") {
    for (std::size_t k = i; k <= path.size(); ++k) {
      if (match_parts(pattern, p + 1, path, k)) return true;
    }
    return false;
  }
  if (i == path.size()) return false;
  return segment_match(pattern[p], path[i]) && match_parts(pattern, p + 1, path, i + 1);
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  return match_parts(split(pattern), 0, split(path), 0);
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
      if (!relative_path.starts_with(rule.base) || relative_path.size() <= rule.base.size() ||
          relative_path[rule.base.size()] != '/') {
        continue;
      }
      below = relative_path.substr(rule.base.size() + 1);
    }
    bool matched;
    if (rule.anchored) {
      matched = glob_match(rule.pattern, below);
    } else {
      const std::size_t slash = below.rfind('/');
      const std::string name(slash == std::string_view::npos ? below : below.substr(slash + 1));
      matched = segment_match(rule.pattern, name);
    }
    if (matched) ignored = !rule.negated;
  }
  return ignored;
}

}  // namespace forge::scan
