#include "forge/agent/wire_json.h"

#include <fmt/format.h>

namespace forge::agent {
namespace {

constexpr std::pair<scan::EntryType, std::string_view> k_types[] = {
    {scan::EntryType::file, "file"},
    {scan::EntryType::directory, "directory"},
    {scan::EntryType::symlink, "symlink"},
    {scan::EntryType::other, "other"},
};
constexpr scan::ChangeKind k_kinds[] = {scan::ChangeKind::added, scan::ChangeKind::modified,
                                        scan::ChangeKind::removed, scan::ChangeKind::type_changed};

Error malformed(std::string_view what) {
  return Error(ErrorCategory::validation, fmt::format("malformed change entry: {}", what))
      .with_suggestion("the agent and this forge may be different versions; restart the agent");
}

Result<std::optional<hash::Digest>> digest_field(const nlohmann::json& entry, const char* key,
                                                 hash::Algorithm algorithm) {
  const auto found = entry.find(key);
  if (found == entry.end()) return std::optional<hash::Digest>();
  if (!found->is_string()) return fail(malformed(fmt::format("\"{}\" is not a string", key)));
  FORGE_TRY(auto digest, hash::Digest::parse(algorithm, found->get<std::string>()));
  return std::optional<hash::Digest>(digest);
}

}  // namespace

nlohmann::json change_to_json(const scan::Change& change) {
  nlohmann::json entry{{"path", change.path}, {"change", scan::to_string(change.kind)}};
  entry["type"] = "other";
  for (const auto& [type, name] : k_types) {
    if (type == change.type) entry["type"] = name;
  }
  if (change.xxh3) entry["xxh3"] = change.xxh3->hex();
  if (change.sha256) entry["sha256"] = change.sha256->hex();
  if (change.type == scan::EntryType::symlink) entry["target"] = change.symlink_target;
  return entry;
}

Result<scan::Change> change_from_json(const nlohmann::json& entry) {
  if (!entry.is_object() || !entry.contains("path") || !entry["path"].is_string() ||
      !entry.contains("change") || !entry["change"].is_string() || !entry.contains("type") ||
      !entry["type"].is_string()) {
    return fail(malformed("needs \"path\", \"change\" and \"type\" strings"));
  }
  scan::Change change;
  change.path = entry["path"].get<std::string>();
  const std::string kind = entry["change"].get<std::string>();
  const std::string type = entry["type"].get<std::string>();
  bool kind_known = false, type_known = false;
  for (const auto candidate : k_kinds) {
    if (scan::to_string(candidate) == kind) change.kind = candidate, kind_known = true;
  }
  for (const auto& [candidate, name] : k_types) {
    if (name == type) change.type = candidate, type_known = true;
  }
  if (!kind_known || !type_known) return fail(malformed(fmt::format("'{}' / '{}'", kind, type)));
  FORGE_TRY(change.xxh3, digest_field(entry, "xxh3", hash::Algorithm::xxh3_128));
  FORGE_TRY(change.sha256, digest_field(entry, "sha256", hash::Algorithm::sha256));
  if (entry.contains("target") && entry["target"].is_string()) {
    change.symlink_target = entry["target"].get<std::string>();
  }
  return change;
}

nlohmann::json error_to_json(const Error& error) {
  return {{"category", to_string(error.category())},
          {"code", error.code()},
          {"message", error.message()}};
}

Error error_from_json(const nlohmann::json& entry) {
  ErrorCategory category = ErrorCategory::unknown;
  const std::string name = entry.value("category", std::string());
  for (const auto candidate : k_all_error_categories) {
    if (to_string(candidate) == name) category = candidate;
  }
  return Error(category, entry.value("message", std::string("error reported by the agent")),
               entry.value("code", 0));
}

}  // namespace forge::agent
