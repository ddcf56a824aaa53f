#include "forge/cmake/model_json.h"

#include <algorithm>
#include <set>

namespace forge::cmake {
namespace {

using nlohmann::json;

std::set<std::size_t> closure(const Model& model, std::size_t start) {
  std::set<std::size_t> seen;
  std::vector<std::size_t> stack(model.targets[start].dependencies);
  while (!stack.empty()) {
    const std::size_t next = stack.back();
    stack.pop_back();
    if (!seen.insert(next).second) continue;
    for (std::size_t d : model.targets[next].dependencies) stack.push_back(d);
  }
  seen.erase(start);
  return seen;
}

json names(const Model& model, const auto& indices) {
  json out = json::array();
  for (std::size_t i : indices) out.push_back(model.targets[i].name);
  return out;
}

}  // namespace

std::string display_path(const Model& model, const std::string& path) {
  if (auto rel = relative_to(path, model.build_dir)) return "$B/" + *rel;
  if (auto rel = relative_to(path, model.source_dir)) return *rel;
  return path;
}

json model_to_json(const Model& model, const Fingerprints& fingerprints) {
  json targets = json::array();
  for (std::size_t i = 0; i < model.targets.size(); ++i) {
    const Target& target = model.targets[i];
    json sources = json::array();
    std::size_t compiled = 0;
    for (const auto& source : target.sources) {
      sources.push_back(display_path(model, source.path));
      if (source.compile_group) ++compiled;
    }
    json artifacts = json::array();
    for (const auto& artifact : target.artifacts)
      artifacts.push_back(display_path(model, artifact));
    json tests = json::array();
    for (const auto& test : model.tests) {
      if (test.target == i) tests.push_back(test.name);
    }
    json groups = json::array();
    for (const auto& group : target.compile_groups) {
      json includes = json::array();
      for (const auto& dir : group.includes) includes.push_back(display_path(model, dir));
      groups.push_back({{"language", group.language},
                        {"flags", group.fragments},
                        {"defines", group.defines},
                        {"includes", includes}});
    }
    targets.push_back({{"name", target.name},
                       {"type", target.type},
                       {"sources", sources},
                       {"compiled_sources", compiled},
                       {"headers", target.headers.size()},
                       {"headers_known", target.headers_known},
                       {"compile_groups", groups},
                       {"dependencies", names(model, target.dependencies)},
                       {"transitive_dependencies", names(model, closure(model, i))},
                       {"artifacts", artifacts},
                       {"object_dir", display_path(model, target.build_dir + "/CMakeFiles/" +
                                                              target.name + ".dir")},
                       {"tests", tests},
                       {"own_digest", fingerprints.own[i].hex()},
                       {"fingerprint", fingerprints.fingerprint[i].hex()}});
  }
  json tests = json::array();
  for (const auto& test : model.tests) {
    tests.push_back({{"name", test.name},
                     {"target", test.target ? json(model.targets[*test.target].name) : json()},
                     {"labels", test.labels}});
  }
  return {{"source_dir", model.source_dir},
          {"build_dir", model.build_dir},
          {"generator", model.generator},
          {"config", model.config},
          {"cmake_version", model.cmake_version},
          {"headers_exact", model.headers_exact},
          {"model_from_cache", model.from_cache},
          {"notes", model.notes},
          {"targets", targets},
          {"tests", tests}};
}

std::string test_regex(const Model& model, const Affected& affected) {
  if (affected.tests.empty()) return {};
  std::string out = "^(";
  for (std::size_t k = 0; k < affected.tests.size(); ++k) {
    if (k > 0) out += '|';
    for (char c : model.tests[affected.tests[k]].name) {
      if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
      out += c;
    }
  }
  return out + ")$";
}

json affected_to_json(const Model& model, const Affected& affected) {
  json changed = json::array(), inputs = json::array(), unmapped = json::array();
  for (const auto& file : affected.changed) changed.push_back(display_path(model, file));
  for (const auto& file : affected.cmake_inputs_changed)
    inputs.push_back(display_path(model, file));
  for (const auto& file : affected.unmapped) unmapped.push_back(display_path(model, file));
  std::vector<std::size_t> all(affected.direct);
  all.insert(all.end(), affected.transitive.begin(), affected.transitive.end());
  std::sort(all.begin(), all.end());
  json tests = json::array();
  for (std::size_t t : affected.tests) tests.push_back(model.tests[t].name);
  return {{"source_dir", model.source_dir},
          {"build_dir", model.build_dir},
          {"changed", changed},
          {"reconfigure_needed", affected.reconfigure_needed},
          {"cmake_inputs_changed", inputs},
          {"directly_affected", names(model, affected.direct)},
          {"transitively_affected", names(model, affected.transitive)},
          {"affected", names(model, all)},
          {"tests", tests},
          {"test_regex", test_regex(model, affected)},
          {"unmapped", unmapped},
          {"headers_exact", model.headers_exact},
          {"model_from_cache", model.from_cache},
          {"notes", model.notes}};
}

}  // namespace forge::cmake
