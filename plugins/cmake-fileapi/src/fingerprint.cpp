#include "forge/cmake/fingerprint.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace forge::cmake {
namespace {

class Canonical {
 public:
  explicit Canonical(const Model& model) : m_model(model) {}

  // $B before $S: a build dir inside the source dir is the longer, more specific prefix.
  std::string path(const std::string& absolute) const {
    if (auto rel = relative_to(absolute, m_model.build_dir)) return "$B/" + *rel;
    if (auto rel = relative_to(absolute, m_model.source_dir)) return "$S/" + *rel;
    return absolute;
  }

  std::string text(std::string value) const {
    replace_all(value, m_model.build_dir, "$B");
    replace_all(value, m_model.source_dir, "$S");
    return value;
  }

  const std::string& content(const std::string& file) {
    auto [it, inserted] = m_contents.try_emplace(file);
    if (inserted) {
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        it->second = "missing";
      } else {
        std::stringstream bytes;
        bytes << in.rdbuf();
        it->second = hash::sha256_of(bytes.str()).hex();
      }
    }
    return it->second;
  }

 private:
  static void replace_all(std::string& value, const std::string& from, std::string_view to) {
    if (from.empty()) return;
    for (auto pos = value.find(from); pos != std::string::npos;
         pos = value.find(from, pos + to.size())) {
      value.replace(pos, from.size(), to);
    }
  }

  const Model& m_model;
  std::unordered_map<std::string, std::string> m_contents;
};

std::string own_text(const Model& model, const Target& target, Canonical& canonical,
                     const std::unordered_set<std::string>& foreign_artifacts) {
  std::string out = fmt::format("forge-cmake-fingerprint {}\ntype {}\nname {}\n",
                                k_fingerprint_version, target.type, target.name);
  std::unordered_set<std::string> languages;
  for (const auto& group : target.compile_groups) {
    out += fmt::format("group {}\n", group.language);
    languages.insert(group.language);
    for (const auto& f : group.fragments) out += "flag " + canonical.text(f) + "\n";
    for (const auto& d : group.defines) out += "define " + canonical.text(d) + "\n";
    for (const auto& i : group.includes) out += "include " + canonical.path(i) + "\n";
    for (const auto& i : group.system_includes) out += "isystem " + canonical.path(i) + "\n";
    if (!group.sysroot.empty()) out += "sysroot " + group.sysroot + "\n";
  }
  for (const auto& toolchain : model.toolchains) {
    if (languages.contains(toolchain.language)) {
      out += fmt::format("compiler {} {} {}\n", toolchain.language, toolchain.compiler_id,
                         toolchain.compiler_version);
    }
  }
  for (const auto& flag : target.link_flags) out += "link " + canonical.text(flag) + "\n";
  std::vector<std::string> inputs;
  for (const auto& source : target.sources) {
    if (!foreign_artifacts.contains(source.path)) inputs.push_back(source.path);
  }
  inputs.insert(inputs.end(), target.headers.begin(), target.headers.end());
  std::vector<std::pair<std::string, std::string>> lines;
  for (const auto& input : inputs) lines.emplace_back(canonical.path(input), input);
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  for (const auto& [name, file] : lines)
    out += "input " + name + " " + canonical.content(file) + "\n";
  for (const auto& artifact : target.artifacts)
    out += "artifact " + canonical.path(artifact) + "\n";
  return out;
}

}  // namespace

Fingerprints compute_fingerprints(const Model& model) {
  const std::size_t n = model.targets.size();
  Canonical canonical(model);
  std::unordered_set<std::string> artifacts;
  for (const auto& target : model.targets) {
    artifacts.insert(target.artifacts.begin(), target.artifacts.end());
  }
  Fingerprints out;
  out.own.resize(n);
  out.fingerprint.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.own[i] = hash::sha256_of(own_text(model, model.targets[i], canonical, artifacts));
  }
  // Depth-first over dependencies; a cycle (CMake allows them between static libraries)
  // contributes the dependency's name and own digest instead of its fingerprint.
  enum class State : std::uint8_t { todo, active, done };
  std::vector<State> state(n, State::todo);
  auto visit = [&](auto&& self, std::size_t i) -> void {
    state[i] = State::active;
    std::vector<std::pair<std::string, std::string>> deps;
    for (std::size_t d : model.targets[i].dependencies) {
      if (state[d] == State::todo) self(self, d);
      const auto& digest = state[d] == State::done ? out.fingerprint[d] : out.own[d];
      deps.emplace_back(model.targets[d].name, digest.hex());
    }
    std::sort(deps.begin(), deps.end());
    std::string text = "own " + out.own[i].hex() + "\n";
    for (const auto& [name, hex] : deps) text += "dep " + name + " " + hex + "\n";
    out.fingerprint[i] = hash::sha256_of(text);
    state[i] = State::done;
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (state[i] == State::todo) visit(visit, i);
  }
  return out;
}

}  // namespace forge::cmake
