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

Result<Affected> compute_affected(const QueryIndex& index, const FileLookup& lookup,
                                  std::vector<std::string> changed,
                                  const std::vector<std::size_t>& also_direct) {
  const Model& model = index.slim;
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
  for (std::size_t i : also_direct) {
    if (i < n) affected[i] = true;
  }
  auto mark = [&](const std::vector<std::uint32_t>& targets, const std::string& file) {
    for (const std::uint32_t t : targets) {
      if (t < n) affected[t] = true;
    }
    if (!targets.empty()) used.insert(file);
  };
  for (const auto& file : changed) {
    FORGE_TRY(const FileUse use, lookup(file));
    mark(use.targets, file);  // own sources and headers
    if (use.compiled) continue;
    // Nobody's compiled source: conservatively the targets whose headers are unknown and
    // whose include directories hold it (at any depth) or whose sources sit beside it.
    for (std::size_t slash = file.find('/'); slash != std::string::npos;
         slash = file.find('/', slash + 1)) {
      const std::string dir = slash == 0 ? "/" : file.substr(0, slash);
      if (const auto it = index.include_dirs.find(dir); it != index.include_dirs.end()) {
        mark(it->second, file);
      }
    }
    if (const auto it = index.source_dirs.find(std::string(parent_dir(file)));
        it != index.source_dirs.end()) {
      mark(it->second, file);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (affected[i]) out.direct.push_back(i);
  }

  // Propagate along consumption: an artifact of U among T's sources or linked files.
  std::deque<std::size_t> queue(out.direct.begin(), out.direct.end());
  while (!queue.empty()) {
    const std::size_t u = queue.front();
    queue.pop_front();
    if (u >= index.consumers.size()) continue;
    for (const std::uint32_t t : index.consumers[u]) {
      if (t < n && !affected[t]) {
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

Affected compute_affected(const Model& model, std::vector<std::string> changed,
                          const std::vector<std::size_t>& also_direct) {
  const BuiltIndex built = build_query_index(model);
  const FileLookup lookup = [&](const std::string& path) -> Result<FileUse> {
    const auto it = built.files.find(path);
    return it == built.files.end() ? FileUse{} : it->second;
  };
  return *compute_affected(built.index, lookup, std::move(changed), also_direct);
}

}  // namespace forge::cmake
