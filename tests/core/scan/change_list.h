#pragma once
// A ChangeSet as a path -> kind map, for comparing a scan's answer with an expected one.

#include <map>
#include <string>

#include "forge/core/scan/scanner.h"

namespace forge::scan {

using ChangeList = std::map<std::string, ChangeKind>;

inline ChangeList as_map(const ChangeSet& set) {
  ChangeList out;
  for (const auto& change : set.changes) out[change.path] = change.kind;
  return out;
}

}  // namespace forge::scan
