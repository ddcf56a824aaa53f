#include "forge/cmake/reconfigure.h"

#include <map>

#include "forge/cmake/fingerprint.h"

namespace forge::cmake {

Result<Reconfigured> reconfigure_and_compare(const Model& before, const LoadOptions& options) {
  const auto old_digests = compute_fingerprints(before).own;
  std::map<std::string, hash::Digest> old_by_name;
  for (std::size_t i = 0; i < before.targets.size(); ++i) {
    old_by_name.emplace(before.targets[i].name, old_digests[i]);
  }
  FORGE_TRY_VOID(reconfigure(options.build_dir));
  Reconfigured out;
  FORGE_TRY(out.model, load_model(options));
  const auto new_digests = compute_fingerprints(out.model).own;
  for (std::size_t i = 0; i < out.model.targets.size(); ++i) {
    const auto found = old_by_name.find(out.model.targets[i].name);
    if (found == old_by_name.end() || found->second != new_digests[i]) out.changed.push_back(i);
  }
  return out;
}

}  // namespace forge::cmake
