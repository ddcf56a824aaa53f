// ActionCache service: ActionResults keyed by action digest hash in the `ac` keyspace.
#include <cstdint>
#include <set>
#include <string>

#include <fmt/format.h>

#include "entry_key.h"
#include "services.h"

namespace forge::bazel_remote {
namespace {

// Reads `digest` into `out` if it fits in `budget` (and charges it). A missing blob makes
// the whole result a miss, as the client would fail to fetch it anyway.
grpc::Status inline_blob(const cache::CasStore& cas, const reapi::Digest& proto,
                         std::uint64_t& budget, std::string* out) {
  auto digest = from_proto(proto);
  if (!digest) return to_grpc_status(digest.error());
  if (digest->size > budget) return grpc::Status::OK;  // REAPI: the server MAY omit inlining
  auto content = cas.get(*digest);
  if (!content) return to_grpc_status(content.error());
  if (!*content || (*content)->size() != digest->size) {
    return not_found(
        fmt::format("blob {} referenced by the action result is missing", digest->to_string()));
  }
  budget -= digest->size;
  *out = std::move(**content);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ActionCacheService::GetActionResult(grpc::ServerContext* context,
                                                 const reapi::GetActionResultRequest* request,
                                                 reapi::ActionResult* response) {
  CallScope call(m_get, *context, *request);
  return call.finish(
      m_context.guarded(*context, Access::read, [&] { return get(*request, *response); }),
      *response);
}

grpc::Status ActionCacheService::UpdateActionResult(grpc::ServerContext* context,
                                                    const reapi::UpdateActionResultRequest* request,
                                                    reapi::ActionResult* response) {
  CallScope call(m_update, *context, *request);
  return call.finish(
      m_context.guarded(*context, Access::write, [&] { return update(*request, *response); }),
      *response);
}

grpc::Status ActionCacheService::get(const reapi::GetActionResultRequest& request,
                                     reapi::ActionResult& response) {
  if (auto status = check_digest_function(request.digest_function()); !status.ok()) return status;
  auto action = from_proto(request.action_digest());
  if (!action) return to_grpc_status(action.error());
  auto value = m_context.cache->get(
      cache::Keyspace::ac,
      ac_key(m_context.options.instances, request.instance_name(), action->sha256.hex()));
  if (!value) return to_grpc_status(value.error());
  if (!*value) return not_found(fmt::format("no action result for {}", action->to_string()));
  if (!response.ParseFromString(**value)) {
    return not_found(fmt::format("the action result for {} is unreadable", action->to_string()));
  }

  std::uint64_t budget = m_context.options.max_batch_total_size_bytes;
  const auto& cas = m_context.cas();
  if (request.inline_stdout() && response.has_stdout_digest()) {
    auto status = inline_blob(cas, response.stdout_digest(), budget, response.mutable_stdout_raw());
    if (!status.ok()) return status;
  }
  if (request.inline_stderr() && response.has_stderr_digest()) {
    auto status = inline_blob(cas, response.stderr_digest(), budget, response.mutable_stderr_raw());
    if (!status.ok()) return status;
  }
  if (request.inline_output_files_size() > 0) {
    const std::set<std::string> wanted(request.inline_output_files().begin(),
                                       request.inline_output_files().end());
    for (auto& file : *response.mutable_output_files()) {
      if (!wanted.contains(file.path()) || !file.has_digest()) continue;
      auto status = inline_blob(cas, file.digest(), budget, file.mutable_contents());
      if (!status.ok()) return status;
    }
  }
  return grpc::Status::OK;
}

grpc::Status ActionCacheService::update(const reapi::UpdateActionResultRequest& request,
                                        reapi::ActionResult& response) {
  if (auto status = m_context.check_writable(); !status.ok()) return status;
  if (auto status = check_digest_function(request.digest_function()); !status.ok()) return status;
  auto action = from_proto(request.action_digest());
  if (!action) return to_grpc_status(action.error());
  std::string bytes;
  if (!request.action_result().SerializeToString(&bytes)) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "could not serialize the action result");
  }
  auto stored = m_context.cache->put(
      cache::Keyspace::ac,
      ac_key(m_context.options.instances, request.instance_name(), action->sha256.hex()), bytes);
  if (!stored) return to_grpc_status(stored.error());
  response = request.action_result();
  return grpc::Status::OK;
}

}  // namespace forge::bazel_remote
