#pragma once
// The client's RequestMetadata (REAPI v2: tool name and version, invocation and action ids,
// action mnemonic, target), read from the `build.bazel.remote.execution.v2.requestmetadata-bin`
// gRPC header that Bazel and other REAPI clients attach to every call. Internal to
// forge_bazel_remote.
//
// - Absent or unparsable metadata gives an empty ClientMetadata (never an error: it is
//   informational). Each field is cut to k_max_field characters, so a hostile client cannot
//   make access lines or metric labels arbitrarily long.
// - old_bazel(): the client is Bazel older than 6.0 (or Bazel whose version does not parse),
//   which treats Capabilities' update_enabled = false as fatal ("not authorized to write
//   local results", exit 34) instead of simply not uploading.
// Threading: pure functions.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace forge::bazel_remote {

inline constexpr std::string_view k_request_metadata_header =
    "build.bazel.remote.execution.v2.requestmetadata-bin";

struct ClientMetadata {
  static constexpr std::size_t k_max_field = 128;
  std::string tool_name;
  std::string tool_version;
  std::string invocation_id;
  std::string correlated_invocations_id;
  std::string action_id;
  std::string action_mnemonic;
  std::string target_id;

  bool empty() const { return tool_name.empty() && invocation_id.empty() && action_id.empty(); }
  bool old_bazel() const;
};

// `bytes`: the header's value as gRPC hands it over (already base64-decoded).
ClientMetadata parse_request_metadata(std::string_view bytes);

// The metadata of a call, from its client metadata map (gRPC's multimap of string_refs is
// converted by the caller: grpc::string_ref has no std::string_view conversion).
template <typename Multimap>
ClientMetadata client_metadata_of(const Multimap& metadata) {
  const auto found = metadata.find(std::string(k_request_metadata_header));
  if (found == metadata.end()) return {};
  return parse_request_metadata(std::string_view(found->second.data(), found->second.size()));
}

}  // namespace forge::bazel_remote
