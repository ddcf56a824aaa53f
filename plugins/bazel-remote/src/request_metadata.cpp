#include "request_metadata.h"

#include <charconv>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"

namespace forge::bazel_remote {
namespace {

// Cut to the limit; bytes outside printable ASCII become '?' (they end up in log lines and
// metric labels).
std::string clean(const std::string& text) {
  std::string out = text.substr(0, ClientMetadata::k_max_field);
  for (auto& c : out) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') c = '?';
  }
  return out;
}

}  // namespace

bool ClientMetadata::old_bazel() const {
  if (tool_name != "bazel") return false;
  unsigned major = 0;
  const auto [end, ec] =
      std::from_chars(tool_version.data(), tool_version.data() + tool_version.size(), major);
  if (ec != std::errc() || end == tool_version.data()) return true;  // unknown: assume old
  return major < 6;
}

ClientMetadata parse_request_metadata(std::string_view bytes) {
  build::bazel::remote::execution::v2::RequestMetadata message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return {};
  ClientMetadata out;
  out.tool_name = clean(message.tool_details().tool_name());
  out.tool_version = clean(message.tool_details().tool_version());
  out.invocation_id = clean(message.tool_invocation_id());
  out.correlated_invocations_id = clean(message.correlated_invocations_id());
  out.action_id = clean(message.action_id());
  out.action_mnemonic = clean(message.action_mnemonic());
  out.target_id = clean(message.target_id());
  return out;
}

}  // namespace forge::bazel_remote
