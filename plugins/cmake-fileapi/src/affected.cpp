#include "forge/cmake/affected.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace forge::cmake {
namespace {

// `path` lies strictly below `dir`. Plain string comparison: both are normal absolute paths
// (model.h), and this runs for every target and include directory of a large model.
bool inside(std::string_view path, std::string_view dir) {
  return !dir.empty() && path.size() > dir.size() && path.starts_with(dir) &&
         (dir.back() == '/' || path[dir.size()] == '/');
}

std::string_view parent_of(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : path.substr(0, slash);
}

bool is_compiled_source(const Model& model, const std::string& path) {
  for (const auto& target : model.targets) {
    for (const auto& source : target.sources) {
      if (source.compile_group && source.path == path) return true;
    }
  }
  return false;
}

// Headers unknown: any non-source file under the target's include or source directories.
bool conservatively_uses(const Target& target, const std::string& file) {
  for (const auto& group : target.compile_groups) {
    for (const auto* dirs : {&group.includes, &group.system_includes}) {
      for (const auto& dir : *dirs) {
        if (inside(file, dir)) return true;
      }
    }
  }
  const std::string_view file_dir = parent_of(file);
  for (const auto& source : target.sources) {
    if (source.compile_group && parent_of(source.path) == file_dir) return true;
  }
  return false;
}

bool names_changed(const std::string& arg, const std::string& base,
                   const std::vector<std::string>& changed) {
  std::string value = arg;
  if (const auto eq = value.find('='); value.starts_with("-") && eq != std::string::npos) {
    value = value.substr(eq + 1);
  }
  if (value.empty() || value.starts_with("-")) return false;
  const std::string path = normalize_path(value, base);
  for (const auto& file : changed) {
    if (file == path || inside(file, path)) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> resolve_user_paths(const Model& model,
                                            const std::vector<std::string>& paths,
                                            const std::filesystem::path& cwd) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::pair<std::string, std::string>> roots;  // real -> as CMake spells it
  for (const auto& dir : {model.build_dir, model.source_dir}) {
    const auto real = fs::weakly_canonical(dir, ec);
    roots.emplace_back(ec ? dir : real.string(), dir);
  }
  std::vector<std::string> out;
  for (const auto& path : paths) {
    std::string absolute = normalize_path(path, cwd.string());
    const auto real = fs::weakly_canonical(absolute, ec);
    if (!ec) {
      for (const auto& [real_root, root] : roots) {
        if (auto rel = relative_to(real.string(), real_root)) {
          absolute = normalize_path(*rel, root);
          break;
        }
      }
    }
    out.push_back(std::move(absolute));
  }
  return out;
}

Affected compute_affected(const Model& model, std::vector<std::string> changed,
                          const std::vector<std::size_t>& also_direct) {
  Affected out;
  for (auto& file : changed) file = normalize_path(file, model.source_dir);
  std::sort(changed.begin(), changed.end());
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  out.changed = changed;

  std::unordered_set<std::string> changed_set(changed.begin(), changed.end());
  std::unordered_set<std::string> used;
  for (const auto& input : model.cmake_inputs) {
    if (changed_set.contains(input)) {
      out.cmake_inputs_changed.push_back(input);
      used.insert(input);
    }
  }
  out.reconfigure_needed = !out.cmake_inputs_changed.empty();

  const std::size_t n = model.targets.size();
  std::vector<bool> affected(n, false);
  for (std::size_t index : also_direct) {
    if (index < n) affected[index] = true;
  }
  std::vector<std::string> loose;  // changed files that are nobody's compiled source
  for (const auto& file : changed) {
    if (!is_compiled_source(model, file)) loose.push_back(file);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Target& target = model.targets[i];
    for (const auto& source : target.sources) {
      if (changed_set.contains(source.path)) {
        affected[i] = true;
        used.insert(source.path);
      }
    }
    for (const auto& header : target.headers) {
      if (changed_set.contains(header)) {
        affected[i] = true;
        used.insert(header);
      }
    }
    if (!target.headers_known) {
      for (const auto& file : loose) {
        if (conservatively_uses(target, file)) {
          affected[i] = true;
          used.insert(file);
        }
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (affected[i]) out.direct.push_back(i);
  }

  // Propagate along consumption: an artifact of U among T's sources or linked files.
  std::unordered_map<std::string, std::size_t> artifact_owner;
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& artifact : model.targets[i].artifacts) artifact_owner.emplace(artifact, i);
  }
  std::vector<std::vector<std::size_t>> consumers(n);
  for (std::size_t t = 0; t < n; ++t) {
    const Target& target = model.targets[t];
    auto add = [&](const std::string& path) {
      if (auto found = artifact_owner.find(path);
          found != artifact_owner.end() && found->second != t) {
        consumers[found->second].push_back(t);
      }
    };
    for (const auto& source : target.sources) add(source.path);
    for (const auto& library : target.link_libraries) add(library);
  }
  std::deque<std::size_t> queue(out.direct.begin(), out.direct.end());
  while (!queue.empty()) {
    const std::size_t u = queue.front();
    queue.pop_front();
    for (std::size_t t : consumers[u]) {
      if (!affected[t]) {
        affected[t] = true;
        out.transitive.push_back(t);
        queue.push_back(t);
      }
    }
  }
  std::sort(out.transitive.begin(), out.transitive.end());

  for (std::size_t i = 0; i < model.tests.size(); ++i) {
    const Test& test = model.tests[i];
    bool run = test.target && affected[*test.target];
    const std::string base =
        test.working_directory.empty() ? model.build_dir : test.working_directory;
    for (std::size_t a = 0; !run && a < test.command.size(); ++a) {
      run = names_changed(test.command[a], base, changed);
    }
    if (!run && !test.working_directory.empty() && test.working_directory != model.source_dir &&
        inside(test.working_directory, model.source_dir)) {
      for (const auto& file : changed) run = run || inside(file, test.working_directory);
    }
    if (run) out.tests.push_back(i);
  }
  for (const auto& file : changed) {
    if (!used.contains(file)) out.unmapped.push_back(file);
  }
  return out;
}

}  // namespace forge::cmake
