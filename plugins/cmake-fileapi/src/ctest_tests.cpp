#include "forge/cmake/ctest_tests.h"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "forge/cmake/process.h"

namespace forge::cmake {

Result<void> apply_ctest_json(std::string_view text, Model& model) {
  const auto json = nlohmann::json::parse(text, nullptr, false);
  const auto bad = [&](std::string_view why) {
    return Error(ErrorCategory::validation,
                 fmt::format("`ctest --show-only=json-v1` in {}: {}", model.build_dir, why))
        .with_file(model.build_dir)
        .with_suggestion("run `ctest --show-only=json-v1` there to see what ctest reports");
  };
  if (json.is_discarded() || !json.is_object()) return fail(bad("output is not JSON"));
  std::unordered_map<std::string, std::size_t> artifacts;
  for (std::size_t i = 0; i < model.targets.size(); ++i) {
    for (const auto& artifact : model.targets[i].artifacts) artifacts.emplace(artifact, i);
  }
  model.tests.clear();
  try {
    for (const auto& entry : json.value("tests", nlohmann::json::array())) {
      Test test;
      test.name = entry.at("name").get<std::string>();
      for (const auto& arg : entry.value("command", nlohmann::json::array())) {
        test.command.push_back(arg.get<std::string>());
      }
      for (const auto& property : entry.value("properties", nlohmann::json::array())) {
        const auto name = property.value("name", "");
        if (name == "WORKING_DIRECTORY") {
          test.working_directory = normalize_path(property.at("value"), model.build_dir);
        } else if (name == "LABELS") {
          for (const auto& label : property.at("value")) test.labels.push_back(label);
        }
      }
      if (!test.command.empty()) {
        const auto program = normalize_path(test.command.front(), model.build_dir);
        if (auto found = artifacts.find(program); found != artifacts.end()) {
          test.target = found->second;
        }
      }
      model.tests.push_back(std::move(test));
    }
  } catch (const nlohmann::json::exception& error) {
    return fail(bad(fmt::format("unexpected layout ({})", error.what())));
  }
  return ok();
}

Result<void> read_tests(Model& model, const std::filesystem::path& ctest) {
  std::vector<std::string> argv{ctest.empty() ? std::string("ctest") : ctest.string(),
                                "--show-only=json-v1"};
  if (model.multi_config) {
    argv.push_back("-C");
    argv.push_back(model.config);
  }
  FORGE_TRY(auto output, run_program(argv, model.build_dir));
  if (output.exit_code != 0) {
    return fail(Error(ErrorCategory::dependency,
                      fmt::format("`ctest --show-only=json-v1` failed in {} (exit {}): {}",
                                  model.build_dir, output.exit_code, output.err))
                    .with_file(model.build_dir)
                    .with_suggestion("run it there by hand to see why; forge needs CMake's "
                                     "ctest 3.14 or newer"));
  }
  FORGE_TRY_VOID(apply_ctest_json(output.out, model));
  // ctest leaves out the command of a test whose executable does not exist yet.
  const auto unmapped = std::count_if(model.tests.begin(), model.tests.end(),
                                      [](const Test& test) { return test.command.empty(); });
  if (unmapped > 0) {
    model.notes.push_back(fmt::format(
        "{} test(s) have no command in ctest's list (their programs are not built yet) and "
        "are not mapped to targets; build once for a complete answer",
        unmapped));
  }
  return ok();
}

}  // namespace forge::cmake
