// Field numbers and method paths are the wire contract with every REAPI client: these tests
// pin them to the published protos (bazelbuild/remote-apis, googleapis) so that an edit to
// our .proto files that would break Bazel fails here first.
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "google/bytestream/bytestream.grpc.pb.h"

namespace forge::bazel_remote {
namespace {

namespace reapi = build::bazel::remote::execution::v2;
using google::protobuf::Descriptor;

void expect_fields(const Descriptor* message,
                   const std::vector<std::pair<std::string, int>>& fields) {
  for (const auto& [name, number] : fields) {
    const auto* field = message->FindFieldByName(name);
    ASSERT_NE(field, nullptr) << message->full_name() << "." << name;
    EXPECT_EQ(field->number(), number) << message->full_name() << "." << name;
  }
}

TEST(bazel_remote_ProtoWire, ActionResultAndOutputsUseTheUpstreamFieldNumbers) {
  expect_fields(reapi::Digest::descriptor(), {{"hash", 1}, {"size_bytes", 2}});
  expect_fields(reapi::ActionResult::descriptor(), {{"output_files", 2},
                                                    {"output_directories", 3},
                                                    {"exit_code", 4},
                                                    {"stdout_raw", 5},
                                                    {"stdout_digest", 6},
                                                    {"stderr_raw", 7},
                                                    {"stderr_digest", 8},
                                                    {"execution_metadata", 9},
                                                    {"output_file_symlinks", 10},
                                                    {"output_directory_symlinks", 11},
                                                    {"output_symlinks", 12}});
  expect_fields(
      reapi::OutputFile::descriptor(),
      {{"path", 1}, {"digest", 2}, {"is_executable", 4}, {"contents", 5}, {"node_properties", 7}});
  expect_fields(reapi::OutputDirectory::descriptor(), {{"path", 1},
                                                       {"tree_digest", 3},
                                                       {"is_topologically_sorted", 4},
                                                       {"root_directory_digest", 5}});
  expect_fields(reapi::OutputSymlink::descriptor(),
                {{"path", 1}, {"target", 2}, {"node_properties", 4}});
  expect_fields(reapi::Directory::descriptor(),
                {{"files", 1}, {"directories", 2}, {"symlinks", 3}, {"node_properties", 5}});
  expect_fields(reapi::FileNode::descriptor(),
                {{"name", 1}, {"digest", 2}, {"is_executable", 4}, {"node_properties", 6}});
  expect_fields(reapi::Tree::descriptor(), {{"root", 1}, {"children", 2}});
}

TEST(bazel_remote_ProtoWire, RequestsAndCapabilitiesUseTheUpstreamFieldNumbers) {
  expect_fields(reapi::GetActionResultRequest::descriptor(), {{"instance_name", 1},
                                                              {"action_digest", 2},
                                                              {"inline_stdout", 3},
                                                              {"inline_stderr", 4},
                                                              {"inline_output_files", 5},
                                                              {"digest_function", 6}});
  expect_fields(reapi::UpdateActionResultRequest::descriptor(), {{"instance_name", 1},
                                                                 {"action_digest", 2},
                                                                 {"action_result", 3},
                                                                 {"results_cache_policy", 4},
                                                                 {"digest_function", 5}});
  expect_fields(reapi::FindMissingBlobsResponse::descriptor(), {{"missing_blob_digests", 2}});
  expect_fields(reapi::BatchUpdateBlobsRequest::descriptor(),
                {{"instance_name", 1}, {"requests", 2}, {"digest_function", 5}});
  expect_fields(reapi::BatchReadBlobsResponse::Response::descriptor(),
                {{"digest", 1}, {"data", 2}, {"status", 3}, {"compressor", 4}});
  expect_fields(reapi::GetTreeRequest::descriptor(),
                {{"root_digest", 2}, {"page_size", 3}, {"page_token", 4}});
  expect_fields(reapi::CacheCapabilities::descriptor(), {{"digest_functions", 1},
                                                         {"action_cache_update_capabilities", 2},
                                                         {"max_batch_total_size_bytes", 4},
                                                         {"symlink_absolute_path_strategy", 5},
                                                         {"supported_compressors", 6}});
  expect_fields(reapi::ServerCapabilities::descriptor(),
                {{"cache_capabilities", 1}, {"low_api_version", 4}, {"high_api_version", 5}});
  expect_fields(build::bazel::semver::SemVer::descriptor(),
                {{"major", 1}, {"minor", 2}, {"patch", 3}, {"prerelease", 4}});
  expect_fields(google::rpc::Status::descriptor(), {{"code", 1}, {"message", 2}, {"details", 3}});
  EXPECT_EQ(reapi::DigestFunction::SHA256, 1);
}

TEST(bazel_remote_ProtoWire, ByteStreamUsesTheUpstreamFieldNumbers) {
  namespace bs = google::bytestream;
  expect_fields(bs::ReadRequest::descriptor(),
                {{"resource_name", 1}, {"read_offset", 2}, {"read_limit", 3}});
  expect_fields(bs::ReadResponse::descriptor(), {{"data", 10}});
  expect_fields(bs::WriteRequest::descriptor(),
                {{"resource_name", 1}, {"write_offset", 2}, {"finish_write", 3}, {"data", 10}});
  expect_fields(bs::WriteResponse::descriptor(), {{"committed_size", 1}});
  expect_fields(bs::QueryWriteStatusResponse::descriptor(),
                {{"committed_size", 1}, {"complete", 2}});
}

TEST(bazel_remote_ProtoWire, ServicesHaveTheUpstreamFullNames) {
  EXPECT_EQ(reapi::ActionCache::service_full_name(),
            std::string("build.bazel.remote.execution.v2.ActionCache"));
  EXPECT_EQ(reapi::ContentAddressableStorage::service_full_name(),
            std::string("build.bazel.remote.execution.v2.ContentAddressableStorage"));
  EXPECT_EQ(reapi::Capabilities::service_full_name(),
            std::string("build.bazel.remote.execution.v2.Capabilities"));
  EXPECT_EQ(google::bytestream::ByteStream::service_full_name(),
            std::string("google.bytestream.ByteStream"));
}

}  // namespace
}  // namespace forge::bazel_remote
