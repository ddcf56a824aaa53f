#pragma once
// Per-target fingerprints: the keys a build farm uses to ask "is this target built
// somewhere already". SHA-256 over a canonical text (version k_fingerprint_version):
//
//   own digest  = type, name, compile groups (language, flags, defines, include dirs,
//                 sysroot), the toolchain identity of each language compiled, link flags,
//                 every source and header as "<path> <sha256 of content>" (sorted), and the
//                 artifacts' names;
//   fingerprint = own digest + the fingerprints of the direct dependencies (sorted by name).
//
// Paths inside the source dir are written "$S/<relative>", inside the build dir
// "$B/<relative>" (flags and defines get the same substitution), so two build dirs of one
// source tree, or two checkouts, give equal fingerprints. Object files of other targets
// enter through those targets' fingerprints, not their bytes (which embed build paths).
// A file that cannot be read is hashed as "missing" (an unbuilt generated source), not an
// error: fingerprints never fail.
//
// Blocking (reads every input file once). Thread-compatible.

#include <cstdint>
#include <string>
#include <vector>

#include "forge/cmake/model.h"
#include "forge/core/hash/digest.h"

namespace forge::cmake {

inline constexpr std::uint32_t k_fingerprint_version = 1;  // bump when the text changes
static_assert(k_fingerprint_version == 1, "fingerprint text changed: bump the version");

struct Fingerprints {
  std::vector<hash::Digest> own;          // per target, in Model::targets order
  std::vector<hash::Digest> fingerprint;  // own + dependencies
};

Fingerprints compute_fingerprints(const Model& model);

}  // namespace forge::cmake
