#include "forge/ninja/settle_request.h"

#include <optional>

#include <fmt/format.h>

#include "forge/core/io/backend_selector.h"
#include "forge/ninja/driver.h"

namespace forge::ninja {
namespace {

Error bad_param(std::string_view what) {
  return Error(ErrorCategory::validation, fmt::format("ninja.settle: {}", what))
      .with_suggestion("send {\"dir\": \"/abs/build\"} (README.md, \"Agent socket protocol\")");
}

}  // namespace

nlohmann::json settle_report_to_json(const SettleReport& report, bool dry_run) {
  nlohmann::json details = nlohmann::json::array();
  for (const auto& edge : report.report) {
    nlohmann::json entry{{"output", edge.output},
                         {"verdict", edge.verdict == Verdict::settled ? "settled" : "run"},
                         {"cause", edge.content ? "content" : "mtime"},
                         {"reason", edge.reason}};
    if (!edge.blocker.empty()) entry["blocker"] = edge.blocker;
    details.push_back(std::move(entry));
  }
  return {{"edges", report.edges},
          {"settled", report.settled},
          {"dirty", report.dirty},
          {"hashed", report.hashed},
          {"from_stamp", report.from_stamp},
          {"dry_run", dry_run},
          {"stamp_sources", report.stamp_sources},
          {"stamp_sources_stated", report.stamp_sources_stated},
          {"stamp_via_index", report.stamp_via_index},
          {"stamp_fallback", report.stamp_fallback},
          {"details", std::move(details)}};
}

Result<nlohmann::json> answer_settle_request(const nlohmann::json& params,
                                             const OpenIndexLookup& open_indexes) {
  const auto dir = params.find("dir");
  if (dir == params.end() || !dir->is_string() ||
      !dir->get_ref<const std::string&>().starts_with('/')) {
    return fail(bad_param("\"dir\" must be the build directory's absolute path"));
  }
  SettleOptions options;
  options.dir = dir->get<std::string>();
  if (const auto dry_run = params.find("dry_run"); dry_run != params.end()) {
    if (!dry_run->is_boolean()) return fail(bad_param("\"dry_run\" must be a boolean"));
    options.dry_run = dry_run->get<bool>();
  }
  if (const auto root = params.find("index_root"); root != params.end()) {
    if (!root->is_string() || !root->get_ref<const std::string&>().starts_with('/')) {
      return fail(bad_param("\"index_root\" must be an absolute path"));
    }
    options.index_root = root->get<std::string>();
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(options.dir, ec)) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("ninja.settle: {} is not a directory", options.dir.string()))
                    .with_file(options.dir.string())
                    .with_suggestion("pass the Ninja build directory (the one with build.ninja)"));
  }
  // The agent holds its workspaces' scan indexes open; a second open in this process would
  // break LMDB's locks, so the index is asked through them, or not at all.
  OpenSourceIndex open(open_indexes);
  options.use_source_index = static_cast<bool>(open_indexes);
  options.source_index = &open;
  FORGE_TRY(auto io, io::create_platform_io(support::IoConfig{}));
  std::optional<BuildDirLock> lock;
  if (!options.dry_run) {
    FORGE_TRY(auto acquired, BuildDirLock::acquire(options.dir));
    lock.emplace(std::move(acquired));
  }
  FORGE_TRY(const auto report, settle(*io, options));
  return settle_report_to_json(report, options.dry_run);
}

}  // namespace forge::ninja
