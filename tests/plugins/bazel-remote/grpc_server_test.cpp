// GrpcServer against a real store, through real gRPC clients built from the same protos.
#include "forge/bazel_remote/grpc_server.h"

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <zstd.h>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "forge/cache/action_cache.h"
#include "forge/core/support/log.h"
#include "forge/core/support/metrics.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"
#include "forge/test/test_cache.h"
#include "google/bytestream/bytestream.grpc.pb.h"

namespace forge::bazel_remote {
namespace {

namespace reapi = build::bazel::remote::execution::v2;
namespace bytestream = google::bytestream;
using google::protobuf::util::MessageDifferencer;

reapi::Digest digest_proto(std::string_view content) {
  const auto digest = cache::digest_of(content);
  reapi::Digest proto;
  proto.set_hash(digest.sha256.hex());
  proto.set_size_bytes(static_cast<std::int64_t>(digest.size));
  return proto;
}

std::string read_name(const reapi::Digest& digest, std::string_view instance = "") {
  return (instance.empty() ? "" : std::string(instance) + "/") + "blobs/" + digest.hash() + "/" +
         std::to_string(digest.size_bytes());
}

std::string compressed_read_name(const reapi::Digest& digest) {
  return "compressed-blobs/zstd/" + digest.hash() + "/" + std::to_string(digest.size_bytes());
}

std::string compressed_upload_name(const reapi::Digest& digest, std::string_view uuid) {
  return "uploads/" + std::string(uuid) + "/compressed-blobs/zstd/" + digest.hash() + "/" +
         std::to_string(digest.size_bytes());
}

// libzstd directly, independent of the server's streaming code.
std::string compress(std::string_view data, int level = 3) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const auto size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  EXPECT_FALSE(ZSTD_isError(size));
  out.resize(size);
  return out;
}

std::string decompress(std::string_view data, std::size_t size) {
  std::string out(size, '\0');
  const auto got = ZSTD_decompress(out.data(), out.size(), data.data(), data.size());
  EXPECT_FALSE(ZSTD_isError(got)) << ZSTD_getErrorName(got);
  EXPECT_EQ(got, size);
  return out;
}

std::string upload_name(const reapi::Digest& digest, std::string_view uuid = "0b5c7a1e",
                        std::string_view instance = "") {
  return (instance.empty() ? "" : std::string(instance) + "/") + "uploads/" + std::string(uuid) +
         "/blobs/" + digest.hash() + "/" + std::to_string(digest.size_bytes());
}

// Deterministic, not all one byte, so offsets show up in comparisons.
std::string pattern(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return out;
}

class GrpcServerTest : public test::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    start({});
  }

  void start(GrpcServerOptions options) {
    m_server.reset();
    auto server = GrpcServer::start(std::move(options), m_cache);
    ASSERT_TRUE(server) << server.error().to_string();
    m_server = std::move(*server);
    ASSERT_GT(m_server->port(), 0);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(m_server->port()),
                                       grpc::InsecureChannelCredentials());
    m_capabilities = reapi::Capabilities::NewStub(channel);
    m_ac = reapi::ActionCache::NewStub(channel);
    m_cas_stub = reapi::ContentAddressableStorage::NewStub(channel);
    m_bytestream = bytestream::ByteStream::NewStub(channel);
  }

 public:
  reapi::Digest put_blob(std::string_view content) { return put(content); }

 protected:
  reapi::Digest put(std::string_view content) {
    auto stored = m_cas->put(std::as_bytes(std::span(content)), cache::digest_of(content));
    EXPECT_TRUE(stored) << stored.error().to_string();
    return digest_proto(content);
  }
  bool stored(const reapi::Digest& digest) {
    auto parsed = cache::parse_blob_digest(digest.hash(), digest.size_bytes());
    return parsed && m_cas->contains(*parsed).value();
  }

  // One Write stream: `data` from `offset`, in `chunk`-byte messages, finish_write at the end
  // if `finish`.
  grpc::Status write(const std::string& resource, std::string_view data, std::int64_t offset,
                     bool finish, bytestream::WriteResponse& response,
                     std::size_t chunk = 64 << 10) {
    grpc::ClientContext context;
    auto stream = m_bytestream->Write(&context, &response);
    std::size_t at = 0;
    do {
      bytestream::WriteRequest request;
      if (at == 0) request.set_resource_name(resource);
      request.set_write_offset(offset + static_cast<std::int64_t>(at));
      const auto n = std::min(chunk, data.size() - at);
      request.set_data(std::string(data.substr(at, n)));
      at += n;
      request.set_finish_write(finish && at == data.size());
      if (!stream->Write(request)) break;  // the server ended the call early
    } while (at < data.size());
    stream->WritesDone();
    return stream->Finish();
  }

  std::pair<grpc::Status, std::string> read(const std::string& resource, std::int64_t offset = 0,
                                            std::int64_t limit = 0,
                                            std::vector<std::size_t>* chunks = nullptr) {
    grpc::ClientContext context;
    bytestream::ReadRequest request;
    request.set_resource_name(resource);
    request.set_read_offset(offset);
    request.set_read_limit(limit);
    auto stream = m_bytestream->Read(&context, request);
    std::string data;
    bytestream::ReadResponse response;
    while (stream->Read(&response)) {
      data += response.data();
      if (chunks) chunks->push_back(response.data().size());
    }
    return {stream->Finish(), data};
  }

  grpc::Status query(const std::string& resource, bytestream::QueryWriteStatusResponse& response) {
    grpc::ClientContext context;
    bytestream::QueryWriteStatusRequest request;
    request.set_resource_name(resource);
    return m_bytestream->QueryWriteStatus(&context, request, &response);
  }

  grpc::Status update_action(const reapi::Digest& action, const reapi::ActionResult& result,
                             reapi::ActionResult& response) {
    grpc::ClientContext context;
    reapi::UpdateActionResultRequest request;
    request.set_instance_name("main");
    *request.mutable_action_digest() = action;
    *request.mutable_action_result() = result;
    return m_ac->UpdateActionResult(&context, request, &response);
  }

  grpc::Status get_action(reapi::GetActionResultRequest request, reapi::ActionResult& response) {
    grpc::ClientContext context;
    return m_ac->GetActionResult(&context, request, &response);
  }

  std::pair<grpc::Status, std::vector<reapi::GetTreeResponse>> get_tree(const reapi::Digest& root,
                                                                        int page_size = 0,
                                                                        std::string token = {}) {
    grpc::ClientContext context;
    reapi::GetTreeRequest request;
    *request.mutable_root_digest() = root;
    request.set_page_size(page_size);
    request.set_page_token(std::move(token));
    auto stream = m_cas_stub->GetTree(&context, request);
    std::vector<reapi::GetTreeResponse> pages;
    reapi::GetTreeResponse response;
    while (stream->Read(&response)) pages.push_back(response);
    return {stream->Finish(), pages};
  }

  std::unique_ptr<GrpcServer> m_server;
  std::unique_ptr<reapi::Capabilities::Stub> m_capabilities;
  std::unique_ptr<reapi::ActionCache::Stub> m_ac;
  std::unique_ptr<reapi::ContentAddressableStorage::Stub> m_cas_stub;
  std::unique_ptr<bytestream::ByteStream::Stub> m_bytestream;
};

// Suite names start with bazel_remote_ so that `ctest -R bazel` selects this plugin's tests
// (forge_add_test registers the bare gtest names).
using bazel_remote_GrpcServer = GrpcServerTest;

// --- Capabilities ------------------------------------------------------------------------

TEST_F(bazel_remote_GrpcServer, CapabilitiesAdvertiseSha256UpdatesBatchLimitAndApiRange) {
  grpc::ClientContext context;
  reapi::GetCapabilitiesRequest request;
  request.set_instance_name("any/instance");
  reapi::ServerCapabilities response;
  ASSERT_TRUE(m_capabilities->GetCapabilities(&context, request, &response).ok());
  const auto& cache = response.cache_capabilities();
  ASSERT_EQ(cache.digest_functions_size(), 1);
  EXPECT_EQ(cache.digest_functions(0), reapi::DigestFunction::SHA256);
  EXPECT_TRUE(cache.action_cache_update_capabilities().update_enabled());
  EXPECT_EQ(cache.max_batch_total_size_bytes(), 4 << 20);
  ASSERT_EQ(cache.supported_compressors_size(), 1);
  EXPECT_EQ(cache.supported_compressors(0), reapi::Compressor::ZSTD);
  ASSERT_EQ(cache.supported_batch_update_compressors_size(), 1);
  EXPECT_EQ(cache.supported_batch_update_compressors(0), reapi::Compressor::ZSTD);
  EXPECT_FALSE(response.has_execution_capabilities());
  EXPECT_EQ(response.low_api_version().major(), 2);
  EXPECT_EQ(response.low_api_version().minor(), 0);
  EXPECT_EQ(response.high_api_version().major(), 2);
  EXPECT_EQ(response.high_api_version().minor(), 3);
}

TEST_F(bazel_remote_GrpcServer, ReadOnlyServerRefusesEveryWriteAndSaysSo) {
  start({.read_only = true});
  {
    grpc::ClientContext context;
    reapi::ServerCapabilities response;
    ASSERT_TRUE(m_capabilities->GetCapabilities(&context, {}, &response).ok());
    EXPECT_FALSE(response.cache_capabilities().action_cache_update_capabilities().update_enabled());
  }
  reapi::ActionResult result, response;
  EXPECT_EQ(update_action(digest_proto("action"), result, response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  {
    grpc::ClientContext context;
    reapi::BatchUpdateBlobsRequest request;
    auto& blob = *request.add_requests();
    *blob.mutable_digest() = digest_proto("blob");
    blob.set_data("blob");
    reapi::BatchUpdateBlobsResponse batch;
    EXPECT_EQ(m_cas_stub->BatchUpdateBlobs(&context, request, &batch).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  bytestream::WriteResponse written;
  EXPECT_EQ(write(upload_name(digest_proto("blob")), "blob", 0, true, written).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_FALSE(stored(digest_proto("blob")));
  // Reads still work.
  const auto digest = put("readable");
  EXPECT_EQ(read(read_name(digest)).second, "readable");
}

// --- ContentAddressableStorage -----------------------------------------------------------

TEST_F(bazel_remote_GrpcServer, FindMissingBlobsReportsOnlyAbsentDigests) {
  const auto present = put("present");
  const auto absent = digest_proto("absent");
  grpc::ClientContext context;
  reapi::FindMissingBlobsRequest request;
  request.set_instance_name("some/instance");
  *request.add_blob_digests() = present;
  *request.add_blob_digests() = absent;
  *request.add_blob_digests() = digest_proto("");  // the empty blob always exists
  reapi::FindMissingBlobsResponse response;
  ASSERT_TRUE(m_cas_stub->FindMissingBlobs(&context, request, &response).ok());
  ASSERT_EQ(response.missing_blob_digests_size(), 1);
  EXPECT_TRUE(MessageDifferencer::Equals(response.missing_blob_digests(0), absent));
}

TEST_F(bazel_remote_GrpcServer, FindMissingBlobsRejectsMalformedDigestsAndOtherDigestFunctions) {
  {
    grpc::ClientContext context;
    reapi::FindMissingBlobsRequest request;
    request.add_blob_digests()->set_hash("not-a-sha256");
    reapi::FindMissingBlobsResponse response;
    EXPECT_EQ(m_cas_stub->FindMissingBlobs(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext context;
    reapi::FindMissingBlobsRequest request;
    *request.add_blob_digests() = digest_proto("x");
    request.set_digest_function(reapi::DigestFunction::BLAKE3);
    reapi::FindMissingBlobsResponse response;
    EXPECT_EQ(m_cas_stub->FindMissingBlobs(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_F(bazel_remote_GrpcServer, BatchUpdateBlobsStoresGoodBlobsAndRejectsMismatchesPerBlob) {
  grpc::ClientContext context;
  reapi::BatchUpdateBlobsRequest request;
  auto& good = *request.add_requests();
  *good.mutable_digest() = digest_proto("good");
  good.set_data("good");
  auto& lying = *request.add_requests();
  *lying.mutable_digest() = digest_proto("claimed");
  lying.set_data("claimes");  // same size, other content
  auto& short_blob = *request.add_requests();
  *short_blob.mutable_digest() = digest_proto("longer");
  short_blob.set_data("short");
  reapi::BatchUpdateBlobsResponse response;
  ASSERT_TRUE(m_cas_stub->BatchUpdateBlobs(&context, request, &response).ok());
  ASSERT_EQ(response.responses_size(), 3);
  EXPECT_EQ(response.responses(0).status().code(), grpc::StatusCode::OK);
  EXPECT_TRUE(MessageDifferencer::Equals(response.responses(0).digest(), digest_proto("good")));
  EXPECT_EQ(response.responses(1).status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(response.responses(2).status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(m_cas->get(cache::digest_of("good")).value(), "good");
  EXPECT_FALSE(stored(digest_proto("claimed")));
  EXPECT_FALSE(stored(digest_proto("longer")));
}

TEST_F(bazel_remote_GrpcServer, BatchesOverTheSizeLimitAreInvalidArgument) {
  start({.max_batch_total_size_bytes = 8});
  {
    grpc::ClientContext context;
    reapi::BatchUpdateBlobsRequest request;
    auto& blob = *request.add_requests();
    *blob.mutable_digest() = digest_proto("nine bytes");
    blob.set_data("nine bytes");
    reapi::BatchUpdateBlobsResponse response;
    EXPECT_EQ(m_cas_stub->BatchUpdateBlobs(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext context;
    reapi::BatchReadBlobsRequest request;
    *request.add_digests() = put("0123456789");
    reapi::BatchReadBlobsResponse response;
    EXPECT_EQ(m_cas_stub->BatchReadBlobs(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_F(bazel_remote_GrpcServer, BatchReadBlobsReturnsDataAndNotFoundPerBlob) {
  const auto present = put("present");
  grpc::ClientContext context;
  reapi::BatchReadBlobsRequest request;
  *request.add_digests() = present;
  *request.add_digests() = digest_proto("absent");
  *request.add_digests() = digest_proto("");
  reapi::BatchReadBlobsResponse response;
  ASSERT_TRUE(m_cas_stub->BatchReadBlobs(&context, request, &response).ok());
  ASSERT_EQ(response.responses_size(), 3);
  EXPECT_EQ(response.responses(0).status().code(), grpc::StatusCode::OK);
  EXPECT_EQ(response.responses(0).data(), "present");
  EXPECT_TRUE(MessageDifferencer::Equals(response.responses(0).digest(), present));
  EXPECT_EQ(response.responses(1).status().code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(response.responses(1).data().empty());
  EXPECT_EQ(response.responses(2).status().code(), grpc::StatusCode::OK);
  EXPECT_TRUE(response.responses(2).data().empty());
}

// root -> {a, b}; a -> c; b -> c: four distinct directories, c listed once.
struct TreeFixture {
  reapi::Digest root, a, b, c;
  std::vector<reapi::Directory> directories;  // root, a, b, c
};

TEST_F(bazel_remote_GrpcServer, GetTreeReturnsEveryDirectoryOnceAndPages) {
  TreeFixture tree;
  reapi::Directory c;
  auto& file = *c.add_files();
  file.set_name("leaf.txt");
  *file.mutable_digest() = put("leaf");
  file.set_is_executable(true);
  tree.c = put(c.SerializeAsString());
  reapi::Directory a, b;
  auto& a_child = *a.add_directories();
  a_child.set_name("c");
  *a_child.mutable_digest() = tree.c;
  auto& link = *a.add_symlinks();
  link.set_name("link");
  link.set_target("../b");
  auto& b_child = *b.add_directories();
  b_child.set_name("c2");
  *b_child.mutable_digest() = tree.c;
  tree.a = put(a.SerializeAsString());
  tree.b = put(b.SerializeAsString());
  reapi::Directory root;
  for (auto [name, digest] : {std::pair{"a", tree.a}, std::pair{"b", tree.b}}) {
    auto& node = *root.add_directories();
    node.set_name(name);
    *node.mutable_digest() = digest;
  }
  tree.root = put(root.SerializeAsString());
  tree.directories = {root, a, b, c};

  auto [status, pages] = get_tree(tree.root);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<reapi::Directory> all;
  for (const auto& page : pages) {
    for (const auto& directory : page.directories()) all.push_back(directory);
  }
  ASSERT_EQ(all.size(), 4u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(all[i], tree.directories[i])) << i;
  }

  auto [first_status, first] = get_tree(tree.root, 2);
  ASSERT_TRUE(first_status.ok());
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].directories_size(), 2);
  ASSERT_FALSE(first[0].next_page_token().empty());
  auto [second_status, second] = get_tree(tree.root, 2, first[0].next_page_token());
  ASSERT_TRUE(second_status.ok());
  ASSERT_EQ(second.size(), 1u);
  ASSERT_EQ(second[0].directories_size(), 2);
  EXPECT_TRUE(MessageDifferencer::Equals(second[0].directories(0), b));
  EXPECT_TRUE(MessageDifferencer::Equals(second[0].directories(1), c));
  EXPECT_TRUE(second[0].next_page_token().empty());
}

TEST_F(bazel_remote_GrpcServer, GetTreeOfMissingRootIsNotFoundAndMissingSubtreesAreOmitted) {
  EXPECT_EQ(get_tree(digest_proto("no such directory")).first.error_code(),
            grpc::StatusCode::NOT_FOUND);
  reapi::Directory root;
  auto& node = *root.add_directories();
  node.set_name("gone");
  *node.mutable_digest() = digest_proto("never uploaded");
  auto [status, pages] = get_tree(put(root.SerializeAsString()));
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(pages.size(), 1u);
  ASSERT_EQ(pages[0].directories_size(), 1);
  EXPECT_TRUE(MessageDifferencer::Equals(pages[0].directories(0), root));
}

TEST_F(bazel_remote_GrpcServer, GetTreeSplitsALargeTreeIntoMessagesUnderTheLimit) {
  // 150 directories of 200 file entries each: ~3 MiB of Directory protos in one tree.
  reapi::Directory root;
  for (int d = 0; d < 150; ++d) {
    reapi::Directory child;
    for (int f = 0; f < 200; ++f) {
      auto& file = *child.add_files();
      file.set_name("file_" + std::to_string(d) + "_" + std::to_string(f) + ".o");
      *file.mutable_digest() = digest_proto(std::to_string(d * 1000 + f));
    }
    auto& node = *root.add_directories();
    node.set_name("dir" + std::to_string(d));
    *node.mutable_digest() = put(child.SerializeAsString());
  }
  auto [status, pages] = get_tree(put(root.SerializeAsString()));
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(pages.size(), 2u);
  int directories = 0;
  for (const auto& page : pages) {
    EXPECT_LT(page.ByteSizeLong(), 4u << 20);
    EXPECT_TRUE(page.next_page_token().empty());
    directories += page.directories_size();
  }
  EXPECT_EQ(directories, 151);
}

// --- ActionCache --------------------------------------------------------------------------

// An output directory's Tree: the root holds one file with `content` (stored too). AC hits
// check every file inside every Tree, so a test Tree must be a real one.
reapi::Digest put_tree(GrpcServerTest& test, std::string_view content) {
  reapi::Tree tree;
  auto& file = *tree.mutable_root()->add_files();
  file.set_name("generated.txt");
  *file.mutable_digest() = test.put_blob(content);
  return test.put_blob(tree.SerializeAsString());
}

reapi::ActionResult sample_result(const reapi::Digest& output, const reapi::Digest& tree,
                                  const reapi::Digest& out, const reapi::Digest& err) {
  reapi::ActionResult result;
  auto& file = *result.add_output_files();
  file.set_path("bazel-out/k8-fastbuild/bin/main.o");
  *file.mutable_digest() = output;
  file.set_is_executable(false);
  auto& directory = *result.add_output_directories();
  directory.set_path("bazel-out/k8-fastbuild/bin/gen");
  *directory.mutable_tree_digest() = tree;
  auto& symlink = *result.add_output_symlinks();
  symlink.set_path("bazel-out/latest");
  symlink.set_target("/abs/target");
  result.set_exit_code(0);
  *result.mutable_stdout_digest() = out;
  *result.mutable_stderr_digest() = err;
  result.mutable_execution_metadata()->set_worker("worker-7");
  result.mutable_execution_metadata()->mutable_queued_timestamp()->set_seconds(1700000000);
  return result;
}

TEST_F(bazel_remote_GrpcServer, UpdateThenGetActionResultRoundTrips) {
  const auto result =
      sample_result(put("object code"), put_tree(*this, "a Tree"), put("compiled ok\n"), put(""));
  const auto action = digest_proto("the action");
  reapi::ActionResult echoed;
  ASSERT_TRUE(update_action(action, result, echoed).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(echoed, result));

  reapi::GetActionResultRequest request;
  request.set_instance_name("another/instance");  // instances share the store
  *request.mutable_action_digest() = action;
  reapi::ActionResult fetched;
  const auto status = get_action(request, fetched);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(MessageDifferencer::Equals(fetched, result));
  EXPECT_TRUE(fetched.stdout_raw().empty());  // not asked for
}

TEST_F(bazel_remote_GrpcServer, GetActionResultMissIsNotFound) {
  reapi::GetActionResultRequest request;
  *request.mutable_action_digest() = digest_proto("never run");
  reapi::ActionResult response;
  EXPECT_EQ(get_action(request, response).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(bazel_remote_GrpcServer, GetActionResultInlinesStdoutStderrAndRequestedFiles) {
  auto result = sample_result(put("object code"), put_tree(*this, "a Tree"), put("out text"),
                              put("err text"));
  auto& other = *result.add_output_files();
  other.set_path("not/inlined");
  *other.mutable_digest() = put("other");
  const auto action = digest_proto("inline action");
  reapi::ActionResult echoed;
  ASSERT_TRUE(update_action(action, result, echoed).ok());

  reapi::GetActionResultRequest request;
  *request.mutable_action_digest() = action;
  request.set_inline_stdout(true);
  request.set_inline_stderr(true);
  request.add_inline_output_files("bazel-out/k8-fastbuild/bin/main.o");
  reapi::ActionResult fetched;
  ASSERT_TRUE(get_action(request, fetched).ok());
  EXPECT_EQ(fetched.stdout_raw(), "out text");
  EXPECT_EQ(fetched.stderr_raw(), "err text");
  EXPECT_EQ(fetched.output_files(0).contents(), "object code");
  EXPECT_TRUE(fetched.output_files(1).contents().empty());
}

TEST_F(bazel_remote_GrpcServer, GetActionResultIsAMissWhenAReferencedBlobIsMissing) {
  const auto result = sample_result(digest_proto("output never uploaded"), put_tree(*this, "tree"),
                                    put("o"), put("e"));
  const auto action = digest_proto("action with a hole");
  reapi::ActionResult echoed;
  ASSERT_TRUE(update_action(action, result, echoed).ok());
  reapi::GetActionResultRequest request;
  *request.mutable_action_digest() = action;
  reapi::ActionResult fetched;
  EXPECT_EQ(get_action(request, fetched).error_code(), grpc::StatusCode::NOT_FOUND);
  // ... and a hit once the blob arrives.
  put("output never uploaded");
  EXPECT_TRUE(get_action(request, fetched).ok());
}

TEST_F(bazel_remote_GrpcServer, ActionCacheRejectsMalformedActionDigests) {
  reapi::GetActionResultRequest request;
  request.mutable_action_digest()->set_hash("xyz");
  reapi::ActionResult response;
  EXPECT_EQ(get_action(request, response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  reapi::Digest bad;
  bad.set_hash(std::string(64, 'a'));
  bad.set_size_bytes(-1);
  EXPECT_EQ(update_action(bad, {}, response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// --- ByteStream ---------------------------------------------------------------------------

TEST_F(bazel_remote_GrpcServer, ReadStreamsAWholeBlobInChunksOfAtMostOneMiB) {
  const auto content = pattern((5u << 20) / 2);  // 2.5 MiB
  const auto digest = put(content);
  std::vector<std::size_t> chunks;
  auto [status, data] = read(read_name(digest, "ci/linux"), 0, 0, &chunks);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(data, content);
  ASSERT_GE(chunks.size(), 3u);
  for (auto size : chunks) EXPECT_LE(size, 1u << 20);
}

TEST_F(bazel_remote_GrpcServer, ReadHonoursOffsetAndLimit) {
  const auto content = pattern(100000);
  const auto digest = put(content);
  EXPECT_EQ(read(read_name(digest), 1000, 5000).second, content.substr(1000, 5000));
  EXPECT_EQ(read(read_name(digest), 99000, 5000).second, content.substr(99000));
  EXPECT_EQ(read(read_name(digest), 42).second, content.substr(42));
  auto [at_end, empty] = read(read_name(digest), 100000);
  EXPECT_TRUE(at_end.ok());
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(read(read_name(digest), 100001).first.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(read(read_name(digest), -1).first.error_code(), grpc::StatusCode::OUT_OF_RANGE);
}

TEST_F(bazel_remote_GrpcServer, ReadOfMissingBlobIsNotFoundAndBadNameIsInvalidArgument) {
  EXPECT_EQ(read(read_name(digest_proto("absent"))).first.error_code(),
            grpc::StatusCode::NOT_FOUND);
  auto wrong_size = put("sized");
  wrong_size.set_size_bytes(6);
  EXPECT_EQ(read(read_name(wrong_size)).first.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(read("nonsense").first.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// Issue 16 item 2: ByteStream Read served bytes that no longer matched the digest. A whole
// read is checked before its last chunk goes out, a partial or compressed read first; a blob
// that fails is NOT_FOUND (or DATA_LOSS once chunks went out) and quarantined.
TEST_F(bazel_remote_GrpcServer, ReadOfACorruptBlobNeverCompletes) {
  const auto large = pattern(3u << 20);  // three chunks: the failure comes mid-stream
  const auto small = pattern(1000);
  const auto partial = pattern(50000);
  const auto compressed = pattern(60000);
  for (const auto* content : {&large, &small, &partial, &compressed}) {
    const auto digest = put(*content);
    corrupt_blob(cache::digest_of(*content), content->size() - 10);
    std::string name = read_name(digest);
    std::int64_t offset = 0;
    if (content == &partial) offset = 100;
    if (content == &compressed) {
      name = compressed_read_name(digest);
    }
    auto [status, data] = read(name, offset, content == &partial ? 10 : 0);
    if (content == &large) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS) << status.error_message();
      EXPECT_LT(data.size(), content->size());
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
      EXPECT_TRUE(data.empty());
    }
    EXPECT_FALSE(stored(digest));
  }
}

TEST_F(bazel_remote_GrpcServer, WriteStoresABlobThatReadsBack) {
  const auto content = pattern(300000);
  const auto digest = digest_proto(content);
  bytestream::WriteResponse response;
  const auto status = write(upload_name(digest, "u1", "team/main"), content, 0, true, response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.committed_size(), static_cast<std::int64_t>(content.size()));
  EXPECT_TRUE(stored(digest));
  EXPECT_EQ(read(read_name(digest, "team/main")).second, content);
  bytestream::QueryWriteStatusResponse query_response;
  ASSERT_TRUE(query(upload_name(digest, "u1", "team/main"), query_response).ok());
  EXPECT_TRUE(query_response.complete());
  EXPECT_EQ(query_response.committed_size(), static_cast<std::int64_t>(content.size()));
}

TEST_F(bazel_remote_GrpcServer, WriteWithHashMismatchIsInvalidArgumentAndStoresNothing) {
  const auto claimed = digest_proto(pattern(200000));
  auto other = pattern(200000);
  other[123456] ^= 1;
  bytestream::WriteResponse response;
  EXPECT_EQ(write(upload_name(claimed), other, 0, true, response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(stored(claimed));
  EXPECT_FALSE(stored(digest_proto(other)));
  // Sending more than the declared size is refused too.
  EXPECT_EQ(write(upload_name(claimed, "u2"), pattern(200001), 0, true, response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(stored(claimed));
  for (const auto& entry : std::filesystem::directory_iterator(m_dir / "store" / "tmp")) {
    ADD_FAILURE() << "temp file left behind: " << entry.path();
  }
}

TEST_F(bazel_remote_GrpcServer, WriteOfABlobAlreadyPresentReturnsItsSizeEarly) {
  const auto content = pattern(500000);
  const auto digest = put(content);
  bytestream::WriteResponse response;
  ASSERT_TRUE(write(upload_name(digest), content, 0, true, response).ok());
  EXPECT_EQ(response.committed_size(), digest.size_bytes());
}

TEST_F(bazel_remote_GrpcServer, InterruptedWriteResumesFromQueryWriteStatus) {
  const auto content = pattern(1u << 20);
  const auto digest = digest_proto(content);
  const auto resource = upload_name(digest, "resumable");
  const std::size_t half = content.size() / 2;

  bytestream::WriteResponse first;
  ASSERT_TRUE(write(resource, std::string_view(content).substr(0, half), 0, false, first).ok());
  EXPECT_EQ(first.committed_size(), static_cast<std::int64_t>(half));
  EXPECT_FALSE(stored(digest));

  bytestream::QueryWriteStatusResponse status;
  ASSERT_TRUE(query(resource, status).ok());
  EXPECT_FALSE(status.complete());
  ASSERT_EQ(status.committed_size(), static_cast<std::int64_t>(half));

  // A resume beyond committed_size is refused and does not lose what was committed.
  bytestream::WriteResponse refused;
  EXPECT_EQ(write(resource, std::string_view(content).substr(half + 10), half + 10, true, refused)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(query(resource, status).ok());
  EXPECT_EQ(status.committed_size(), static_cast<std::int64_t>(half));

  bytestream::WriteResponse second;
  const auto resumed = write(resource, std::string_view(content).substr(status.committed_size()),
                             status.committed_size(), true, second);
  ASSERT_TRUE(resumed.ok()) << resumed.error_message();
  EXPECT_EQ(second.committed_size(), static_cast<std::int64_t>(content.size()));
  EXPECT_EQ(read(read_name(digest)).second, content);
  ASSERT_TRUE(query(resource, status).ok());
  EXPECT_TRUE(status.complete());
}

TEST_F(bazel_remote_GrpcServer, CancelledWriteResumesFromWhatTheServerReceived) {
  const auto content = pattern(2u << 20);
  const auto digest = digest_proto(content);
  const auto resource = upload_name(digest, "cancelled");
  {
    grpc::ClientContext context;
    bytestream::WriteResponse response;
    auto stream = m_bytestream->Write(&context, &response);
    for (std::size_t at = 0; at < content.size() / 2; at += 64 << 10) {
      bytestream::WriteRequest request;
      if (at == 0) request.set_resource_name(resource);
      request.set_write_offset(static_cast<std::int64_t>(at));
      request.set_data(content.substr(at, 64 << 10));
      ASSERT_TRUE(stream->Write(request));
    }
    context.TryCancel();
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // The server notices the cancellation asynchronously: retry while its stream still owns
  // the upload (ABORTED), then resume from the size it reports.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  grpc::Status resumed;
  bytestream::WriteResponse response;
  do {
    bytestream::QueryWriteStatusResponse status;
    const auto queried = query(resource, status);
    const auto from = queried.ok() ? status.committed_size() : 0;
    ASSERT_LE(from, static_cast<std::int64_t>(content.size() / 2));
    resumed = write(resource, std::string_view(content).substr(from), from, true, response);
    if (resumed.error_code() != grpc::StatusCode::ABORTED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(resumed.ok()) << resumed.error_message();
  EXPECT_EQ(response.committed_size(), static_cast<std::int64_t>(content.size()));
  EXPECT_EQ(read(read_name(digest)).second, content);
}

// --- zstd ------------------------------------------------------------------------------

TEST_F(bazel_remote_GrpcServer, CompressedWriteStoresTheBlobForPlainAndCompressedReads) {
  const auto content = pattern(3u << 20);
  const auto digest = digest_proto(content);
  const auto compressed = compress(content);
  ASSERT_LT(compressed.size(), content.size());
  bytestream::WriteResponse response;
  const auto status =
      write(compressed_upload_name(digest, "z"), compressed, 0, true, response, 4096);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // REAPI: the sum of the first write_offset and the compressed bytes sent.
  EXPECT_EQ(response.committed_size(), static_cast<std::int64_t>(compressed.size()));
  EXPECT_EQ(read(read_name(digest)).second, content);

  std::vector<std::size_t> chunks;
  auto [read_status, data] = read(compressed_read_name(digest), 0, 0, &chunks);
  ASSERT_TRUE(read_status.ok()) << read_status.error_message();
  EXPECT_EQ(decompress(data, content.size()), content);
  for (auto size : chunks) EXPECT_LE(size, 1u << 20);
  // read_offset counts uncompressed bytes; read_limit must be 0.
  auto [offset_status, tail] = read(compressed_read_name(digest), 1234567);
  ASSERT_TRUE(offset_status.ok());
  EXPECT_EQ(decompress(tail, content.size() - 1234567), content.substr(1234567));
  EXPECT_EQ(read(compressed_read_name(digest), 0, 10).first.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  auto [end_status, empty_frame] = read(compressed_read_name(digest), content.size());
  ASSERT_TRUE(end_status.ok());
  EXPECT_EQ(decompress(empty_frame, 0), "");
}

TEST_F(bazel_remote_GrpcServer, CompressedWritesThatDoNotMatchStoreNothing) {
  const auto content = pattern(100000);
  const auto digest = digest_proto(content);
  bytestream::WriteResponse response;
  auto other = content;
  other[5] = '#';
  EXPECT_EQ(
      write(compressed_upload_name(digest, "a"), compress(other), 0, true, response).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(write(compressed_upload_name(digest, "b"), "definitely not zstd", 0, true, response)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  const auto frame = compress(content);
  EXPECT_EQ(write(compressed_upload_name(digest, "c"), frame.substr(0, frame.size() - 3), 0, true,
                  response)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(write(compressed_upload_name(digest, "d"), compress(content + "x"), 0, true, response)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(stored(digest));
  for (const auto& entry : std::filesystem::directory_iterator(m_dir / "store" / "tmp")) {
    ADD_FAILURE() << "temp file left behind: " << entry.path();
  }
}

TEST_F(bazel_remote_GrpcServer, CompressedWriteOfAPresentBlobReturnsMinusOne) {
  const auto content = pattern(50000);
  const auto digest = put(content);
  bytestream::WriteResponse response;
  ASSERT_TRUE(
      write(compressed_upload_name(digest, "p"), compress(content), 0, true, response).ok());
  EXPECT_EQ(response.committed_size(), -1);
}

TEST_F(bazel_remote_GrpcServer, InterruptedCompressedWriteResumesWithANewFrame) {
  const auto content = pattern(2u << 20);
  const auto digest = digest_proto(content);
  const auto resource = compressed_upload_name(digest, "zr");
  const auto frame = compress(content, 1);
  bytestream::WriteResponse first;
  ASSERT_TRUE(write(resource, frame.substr(0, frame.size() / 2), 0, false, first, 8192).ok());
  bytestream::QueryWriteStatusResponse status;
  ASSERT_TRUE(query(resource, status).ok());
  EXPECT_FALSE(status.complete());
  const auto committed = static_cast<std::size_t>(status.committed_size());
  EXPECT_EQ(first.committed_size(), status.committed_size());
  ASSERT_GT(committed, 0u);
  ASSERT_LT(committed, content.size());
  const auto rest = compress(std::string_view(content).substr(committed), 1);
  bytestream::WriteResponse second;
  const auto resumed = write(resource, rest, static_cast<std::int64_t>(committed), true, second);
  ASSERT_TRUE(resumed.ok()) << resumed.error_message();
  EXPECT_EQ(second.committed_size(), static_cast<std::int64_t>(committed + rest.size()));
  EXPECT_EQ(read(read_name(digest)).second, content);
}

TEST_F(bazel_remote_GrpcServer, BatchUpdateBlobsAcceptsZstd) {
  grpc::ClientContext context;
  reapi::BatchUpdateBlobsRequest request;
  const auto content = pattern(20000);
  auto& good = *request.add_requests();
  *good.mutable_digest() = digest_proto(content);
  good.set_data(compress(content));
  good.set_compressor(reapi::Compressor::ZSTD);
  auto& bad = *request.add_requests();
  *bad.mutable_digest() = digest_proto("short");
  bad.set_data(compress("shorter"));
  bad.set_compressor(reapi::Compressor::ZSTD);
  auto& deflate = *request.add_requests();
  *deflate.mutable_digest() = digest_proto("x");
  deflate.set_data("x");
  deflate.set_compressor(reapi::Compressor::DEFLATE);
  reapi::BatchUpdateBlobsResponse response;
  ASSERT_TRUE(m_cas_stub->BatchUpdateBlobs(&context, request, &response).ok());
  ASSERT_EQ(response.responses_size(), 3);
  EXPECT_EQ(response.responses(0).status().code(), grpc::StatusCode::OK);
  EXPECT_EQ(response.responses(1).status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(response.responses(2).status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(m_cas->get(cache::digest_of(content)).value(), content);
  EXPECT_FALSE(stored(digest_proto("short")));
}

TEST_F(bazel_remote_GrpcServer, AResumeBeforeCommittedSizeSkipsWhatTheServerHas) {
  const auto content = pattern(300000);
  const auto digest = digest_proto(content);
  const auto resource = upload_name(digest, "overlap");
  bytestream::WriteResponse response;
  ASSERT_TRUE(write(resource, content.substr(0, 200000), 0, false, response).ok());
  // The client thinks only 150000 arrived and re-sends from there.
  ASSERT_TRUE(write(resource, content.substr(150000), 150000, true, response).ok());
  EXPECT_EQ(read(read_name(digest)).second, content);
  // ... but never from beyond what the server has.
  const auto other = pattern(5000) + "!";
  const auto other_resource = upload_name(digest_proto(other), "gap");
  ASSERT_TRUE(write(other_resource, other.substr(0, 1000), 0, false, response).ok());
  EXPECT_EQ(write(other_resource, other.substr(2000), 2000, true, response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(bazel_remote_GrpcServer, QueryWriteStatusOfUnknownUploadIsNotFound) {
  bytestream::QueryWriteStatusResponse response;
  EXPECT_EQ(query(upload_name(digest_proto("nobody sent this")), response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(query("garbage", response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(bazel_remote_GrpcServer, ResumingAfterTheUploadWasDroppedIsInvalidArgument) {
  start({.max_pending_uploads = 1});
  const auto a = pattern(1000), b = pattern(2000);
  bytestream::WriteResponse response;
  ASSERT_TRUE(write(upload_name(digest_proto(a), "a"), a.substr(0, 500), 0, false, response).ok());
  ASSERT_TRUE(write(upload_name(digest_proto(b), "b"), b.substr(0, 500), 0, false, response).ok());
  bytestream::QueryWriteStatusResponse status;
  EXPECT_EQ(query(upload_name(digest_proto(a), "a"), status).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(
      write(upload_name(digest_proto(a), "a"), a.substr(500), 500, true, response).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(query(upload_name(digest_proto(b), "b"), status).ok());
  EXPECT_EQ(status.committed_size(), 500);
}

TEST_F(bazel_remote_GrpcServer, ConcurrentUploadsOfTheSameAndDistinctBlobsAllSucceed) {
  constexpr int k_threads = 8;
  const auto shared = pattern(300000);
  std::vector<std::string> own;
  for (int i = 0; i < k_threads; ++i) own.push_back(pattern(100000 + i) + std::to_string(i));
  std::vector<grpc::Status> shared_status(k_threads), own_status(k_threads);
  std::vector<std::thread> threads;
  for (int i = 0; i < k_threads; ++i) {
    threads.emplace_back([&, i] {
      bytestream::WriteResponse response;
      shared_status[i] = write(upload_name(digest_proto(shared), "s" + std::to_string(i)), shared,
                               0, true, response, 16 << 10);
      own_status[i] = write(upload_name(digest_proto(own[i]), "o" + std::to_string(i)), own[i], 0,
                            true, response);
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < k_threads; ++i) {
    EXPECT_TRUE(shared_status[i].ok()) << shared_status[i].error_message();
    EXPECT_TRUE(own_status[i].ok()) << own_status[i].error_message();
    EXPECT_EQ(read(read_name(digest_proto(own[i]))).second, own[i]);
  }
  EXPECT_EQ(read(read_name(digest_proto(shared))).second, shared);
}

TEST_F(bazel_remote_GrpcServer, IdleUploadsExpireAndTheirTempFilesGo) {
  start({.pending_upload_ttl = std::chrono::seconds(0)});
  const auto content = pattern(1000);
  const auto resource = upload_name(digest_proto(content), "idle");
  bytestream::WriteResponse response;
  ASSERT_TRUE(write(resource, content.substr(0, 400), 0, false, response).ok());
  // The next Write (of anything) sweeps expired uploads first.
  const auto other = pattern(10);
  ASSERT_TRUE(write(upload_name(digest_proto(other), "other"), other, 0, true, response).ok());
  bytestream::QueryWriteStatusResponse status;
  EXPECT_EQ(query(resource, status).error_code(), grpc::StatusCode::NOT_FOUND);
  for (const auto& entry : std::filesystem::directory_iterator(m_dir / "store" / "tmp")) {
    ADD_FAILURE() << "temp file left behind: " << entry.path();
  }
}

// --- authentication and TLS ------------------------------------------------------------

std::shared_ptr<const Authenticator> token_auth(const test::TempDir& dir, bool anonymous_read) {
  AuthOptions options;
  options.tokens_file = dir.write_file("tokens", "# CI\ntok-0123456789abcdef\n");
  options.anonymous_read = anonymous_read;
  auto auth = Authenticator::load(options);
  EXPECT_TRUE(auth) << auth.error().to_string();
  return *auth;
}

grpc::Status find_missing_with(reapi::ContentAddressableStorage::Stub& stub,
                               std::string_view authorization) {
  grpc::ClientContext context;
  if (!authorization.empty()) context.AddMetadata("authorization", std::string(authorization));
  reapi::FindMissingBlobsRequest request;
  *request.add_blob_digests() = digest_proto("x");
  reapi::FindMissingBlobsResponse response;
  return stub.FindMissingBlobs(&context, request, &response);
}

grpc::Status batch_update_with(reapi::ContentAddressableStorage::Stub& stub,
                               std::string_view authorization, std::string_view content) {
  grpc::ClientContext context;
  if (!authorization.empty()) context.AddMetadata("authorization", std::string(authorization));
  reapi::BatchUpdateBlobsRequest request;
  auto& blob = *request.add_requests();
  *blob.mutable_digest() = digest_proto(content);
  blob.set_data(std::string(content));
  reapi::BatchUpdateBlobsResponse response;
  return stub.BatchUpdateBlobs(&context, request, &response);
}

TEST_F(bazel_remote_GrpcServer, AnonymousReadAuthenticatedWrite) {
  start({.auth = token_auth(m_dir, /*anonymous_read=*/true)});
  EXPECT_TRUE(find_missing_with(*m_cas_stub, "").ok());
  EXPECT_EQ(batch_update_with(*m_cas_stub, "", "anonymous").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(batch_update_with(*m_cas_stub, "Bearer wrong-token", "wrong").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(batch_update_with(*m_cas_stub, "Bearer tok-0123456789abcdef", "ci").ok());
  EXPECT_FALSE(stored(digest_proto("anonymous")));
  EXPECT_TRUE(stored(digest_proto("ci")));
  // ByteStream and the action cache follow the same rule.
  bytestream::WriteResponse written;
  EXPECT_EQ(write(upload_name(digest_proto("bs")), "bs", 0, true, written).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  reapi::ActionResult result;
  EXPECT_EQ(update_action(digest_proto("action"), {}, result).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(read(read_name(digest_proto("ci"))).second, "ci");
}

TEST_F(bazel_remote_GrpcServer, AuthenticationForEverythingCoversCapabilities) {
  start({.auth = token_auth(m_dir, /*anonymous_read=*/false)});
  EXPECT_EQ(find_missing_with(*m_cas_stub, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(find_missing_with(*m_cas_stub, "Bearer tok-0123456789abcdef").ok());
  grpc::ClientContext context;
  reapi::ServerCapabilities capabilities;
  EXPECT_EQ(m_capabilities->GetCapabilities(&context, {}, &capabilities).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(bazel_remote_GrpcServer, ServesTlsWithACertificateAndKey) {
  test::TempDir secrets;
  const auto made = test::run_shell(
      "cd " + test::shell_quote(secrets.path().string()) +
      " && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>&1");
  if (made.exit_code != 0) GTEST_SKIP() << "openssl could not make a certificate: " << made.out;
  start({.tls_cert_file = secrets / "cert.pem", .tls_key_file = secrets / "key.pem"});
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = secrets.read_file("cert.pem");
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(m_server->port()),
                                     grpc::SslCredentials(ssl));
  auto stub = reapi::ContentAddressableStorage::NewStub(channel);
  EXPECT_TRUE(batch_update_with(*stub, "", "over tls").ok());
  EXPECT_TRUE(stored(digest_proto("over tls")));
  // A plaintext client gets nowhere.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  reapi::FindMissingBlobsRequest request;
  reapi::FindMissingBlobsResponse response;
  EXPECT_FALSE(m_cas_stub->FindMissingBlobs(&context, request, &response).ok());
}

TEST_F(bazel_remote_GrpcServer, TlsNeedsBothReadableFiles) {
  auto only_cert = GrpcServer::start({.tls_cert_file = m_dir / "cert.pem"}, m_cache);
  ASSERT_FALSE(only_cert);
  EXPECT_EQ(only_cert.error().category(), ErrorCategory::configuration);
  auto missing = GrpcServer::start(
      {.tls_cert_file = m_dir / "none.pem", .tls_key_file = m_dir / "none.key"}, m_cache);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().category(), ErrorCategory::configuration);
}

// --- metrics and lifecycle ---------------------------------------------------------------------

TEST_F(bazel_remote_GrpcServer, RequestsAreCountedPerMethod) {
  auto& requests =
      support::Metrics::global().counter("grpc_requests_total{method=\"FindMissingBlobs\"}");
  auto& failures = support::Metrics::global().counter(
      "grpc_request_failures_total{method=\"FindMissingBlobs\"}");
  const auto before = requests.value(), failed_before = failures.value();
  grpc::ClientContext ok_context, bad_context;
  reapi::FindMissingBlobsRequest request;
  reapi::FindMissingBlobsResponse response;
  ASSERT_TRUE(m_cas_stub->FindMissingBlobs(&ok_context, request, &response).ok());
  request.add_blob_digests()->set_hash("bad");
  ASSERT_FALSE(m_cas_stub->FindMissingBlobs(&bad_context, request, &response).ok());
  EXPECT_EQ(requests.value(), before + 2);
  EXPECT_EQ(failures.value(), failed_before + 1);
}

// The series of one method, and their values at construction; delta() is what moved since.
struct MethodSeries {
  explicit MethodSeries(const std::string& method)
      : requests(counter("grpc_requests_total", method)),
        failures(counter("grpc_request_failures_total", method)),
        bytes_in(counter("grpc_bytes_in_total", method)),
        bytes_out(counter("grpc_bytes_out_total", method)),
        ok(response(method, "OK")),
        not_found(response(method, "NOT_FOUND")),
        duration(support::Metrics::global().histogram("grpc_request_duration{method=\"" + method +
                                                      "\"}")),
        start(snapshot()) {}

  static support::Counter& counter(const std::string& name, const std::string& method) {
    return support::Metrics::global().counter(name + "{method=\"" + method + "\"}");
  }
  static support::Counter& response(const std::string& method, const std::string& code) {
    return support::Metrics::global().counter("grpc_responses_total{method=\"" + method +
                                              "\",code=\"" + code + "\"}");
  }
  // requests, failures, bytes_in, bytes_out, ok, not_found, duration count
  std::array<std::uint64_t, 7> snapshot() const {
    return {requests.value(), failures.value(),  bytes_in.value(), bytes_out.value(),
            ok.value(),       not_found.value(), duration.count()};
  }
  std::array<std::uint64_t, 7> delta() const {
    auto now = snapshot();
    for (std::size_t i = 0; i < now.size(); ++i) now[i] -= start[i];
    return now;
  }

  support::Counter& requests;
  support::Counter& failures;
  support::Counter& bytes_in;
  support::Counter& bytes_out;
  support::Counter& ok;
  support::Counter& not_found;
  support::Histogram& duration;
  std::array<std::uint64_t, 7> start;
};

using Deltas = std::array<std::uint64_t, 7>;

TEST_F(bazel_remote_GrpcServer, CallsRecordLatencyPayloadBytesAndStatusCodesPerMethod) {
  const MethodSeries find("FindMissingBlobs"), get("GetActionResult"), write_series("Write"),
      read_series("Read");
  const auto stored_blob = put("present");

  grpc::ClientContext find_context;
  reapi::FindMissingBlobsRequest find_request;
  find_request.set_instance_name("main");
  *find_request.add_blob_digests() = stored_blob;
  *find_request.add_blob_digests() = digest_proto("absent");
  reapi::FindMissingBlobsResponse find_response;
  ASSERT_TRUE(m_cas_stub->FindMissingBlobs(&find_context, find_request, &find_response).ok());
  ASSERT_EQ(find_response.missing_blob_digests_size(), 1);
  // The serialized messages: the request as sent, the response as received.
  EXPECT_EQ(find.delta(),
            (Deltas{1, 0, find_request.ByteSizeLong(), find_response.ByteSizeLong(), 1, 0, 1}));

  reapi::GetActionResultRequest get_request;
  *get_request.mutable_action_digest() = digest_proto("no such action");
  reapi::ActionResult result;
  ASSERT_EQ(get_action(get_request, result).error_code(), grpc::StatusCode::NOT_FOUND);
  // A failed call sends no response message.
  EXPECT_EQ(get.delta(), (Deltas{1, 1, get_request.ByteSizeLong(), 0, 0, 1, 1}));

  const auto content = pattern(300000);  // 5 Write messages of at most 64 KiB
  const auto digest = digest_proto(content);
  bytestream::WriteResponse write_response;
  ASSERT_TRUE(write(upload_name(digest), content, 0, true, write_response).ok());
  // ByteStream counts the blob data only.
  EXPECT_EQ(write_series.delta(), (Deltas{1, 0, content.size(), 0, 1, 0, 1}));
  auto [status, data] = read(read_name(digest), 1000);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(data.size(), content.size() - 1000);
  EXPECT_EQ(read_series.delta(), (Deltas{1, 0, 0, content.size() - 1000, 1, 0, 1}));
  EXPECT_EQ(read(read_name(digest_proto("gone"))).first.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(read_series.delta(), (Deltas{2, 1, 0, content.size() - 1000, 1, 1, 2}));

  // The latency histogram is exported with its quantiles.
  EXPECT_GT(read_series.duration.percentile(0.99).count(), 0);
  const auto json = support::Metrics::global().to_json();
  ASSERT_TRUE(json["histograms"].contains("grpc_request_duration{method=\"Write\"}"));
  EXPECT_GT(json["histograms"]["grpc_request_duration{method=\"Write\"}"]["p50_us"], 0.0);
  const auto prometheus = support::Metrics::global().to_prometheus();
  EXPECT_NE(prometheus.find("grpc_responses_total{method=\"GetActionResult\",code=\"NOT_FOUND\"}"),
            std::string::npos);
  EXPECT_NE(prometheus.find("grpc_request_duration{method=\"Read\",quantile=\"0.99\"}"),
            std::string::npos);
}

// Installs a JSON log file at `level` for the test's duration, then puts the previous
// default logger back.
class CapturedLog {
 public:
  CapturedLog(const std::filesystem::path& file, std::string level)
      : m_file(file), m_previous(spdlog::default_logger()) {
    support::LoggingConfig config;
    config.file = file;
    config.to_stderr = false;
    config.format = support::LogFormat::json;
    config.level = std::move(level);
    EXPECT_TRUE(support::init_logging(config));
  }
  ~CapturedLog() { spdlog::set_default_logger(m_previous); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  // The "grpc request" lines written so far.
  std::vector<nlohmann::json> access_lines() const {
    spdlog::default_logger()->flush();
    std::vector<nlohmann::json> lines;
    std::ifstream in(m_file);
    for (std::string line; std::getline(in, line);) {
      auto parsed = nlohmann::json::parse(line);
      if (parsed["message"] == "grpc request") lines.push_back(std::move(parsed));
    }
    return lines;
  }

 private:
  std::filesystem::path m_file;
  std::shared_ptr<spdlog::logger> m_previous;
};

TEST_F(bazel_remote_GrpcServer, EachCallWritesOneJsonAccessLineAtInfo) {
  const CapturedLog log(m_dir / "access.log", "info");
  grpc::ClientContext find_context;
  reapi::FindMissingBlobsRequest find_request;
  find_request.set_instance_name("main");
  *find_request.add_blob_digests() = digest_proto("absent");
  reapi::FindMissingBlobsResponse find_response;
  ASSERT_TRUE(m_cas_stub->FindMissingBlobs(&find_context, find_request, &find_response).ok());
  reapi::GetActionResultRequest get_request;
  *get_request.mutable_action_digest() = digest_proto("no such action");
  reapi::ActionResult result;
  ASSERT_EQ(get_action(get_request, result).error_code(), grpc::StatusCode::NOT_FOUND);
  const auto content = pattern(5000);
  const auto digest = digest_proto(content);
  bytestream::WriteResponse write_response;
  ASSERT_TRUE(
      write(upload_name(digest, "0b5c7a1e", "ci/linux"), content, 0, true, write_response).ok());
  ASSERT_EQ(read(read_name(digest)).second, content);

  const auto lines = log.access_lines();
  ASSERT_EQ(lines.size(), 4u);
  const std::string methods[] = {"FindMissingBlobs", "GetActionResult", "Write", "Read"};
  const std::string statuses[] = {"OK", "NOT_FOUND", "OK", "OK"};
  const std::uint64_t bytes_in[] = {find_request.ByteSizeLong(), get_request.ByteSizeLong(),
                                    content.size(), 0};
  const std::uint64_t bytes_out[] = {find_response.ByteSizeLong(), 0, 0, content.size()};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE(lines[i].dump());
    EXPECT_EQ(lines[i]["level"], "info");
    EXPECT_EQ(lines[i]["method"], methods[i]);
    EXPECT_EQ(lines[i]["status"], statuses[i]);
    EXPECT_EQ(lines[i]["bytes_in"], bytes_in[i]);
    EXPECT_EQ(lines[i]["bytes_out"], bytes_out[i]);
    ASSERT_TRUE(lines[i]["duration_us"].is_number_integer());
    EXPECT_GE(lines[i]["duration_us"].get<std::int64_t>(), 0);
    ASSERT_TRUE(lines[i]["peer"].is_string());
    EXPECT_TRUE(lines[i]["peer"].get<std::string>().starts_with("ipv4:127.0.0.1:"));
  }
  EXPECT_EQ(lines[0]["instance_name"], "main");
  EXPECT_FALSE(lines[1].contains("instance_name"));  // the request named none
  EXPECT_EQ(lines[2]["instance_name"], "ci/linux");
  EXPECT_FALSE(lines[3].contains("instance_name"));
}

TEST_F(bazel_remote_GrpcServer, NoAccessLineAboveInfo) {
  const CapturedLog log(m_dir / "access.log", "warn");
  grpc::ClientContext context;
  reapi::FindMissingBlobsRequest request;
  reapi::FindMissingBlobsResponse response;
  ASSERT_TRUE(m_cas_stub->FindMissingBlobs(&context, request, &response).ok());
  EXPECT_TRUE(log.access_lines().empty());
}

TEST_F(bazel_remote_GrpcServer, ShutdownCancelsAnOpenStreamAndKeepsItsUploadUntilTheEnd) {
  const auto content = pattern(100000);
  grpc::ClientContext context;
  bytestream::WriteResponse response;
  auto stream = m_bytestream->Write(&context, &response);
  bytestream::WriteRequest request;
  request.set_resource_name(upload_name(digest_proto(content), "open"));
  request.set_data(content.substr(0, 1000));
  ASSERT_TRUE(stream->Write(request));
  // Wait until the server has the bytes, so the stream is really open on its side.
  bytestream::QueryWriteStatusResponse status;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline &&
         !(query(request.resource_name(), status).ok() && status.committed_size() == 1000)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(status.committed_size(), 1000);
  const auto started = std::chrono::steady_clock::now();
  m_server->shutdown(std::chrono::milliseconds(200));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_FALSE(stream->Finish().ok());
}

TEST_F(bazel_remote_GrpcServer, DigestFunctionsOtherThanSha256AreRefusedEverywhere) {
  reapi::GetActionResultRequest get;
  *get.mutable_action_digest() = digest_proto("a");
  get.set_digest_function(reapi::DigestFunction::SHA1);
  reapi::ActionResult result;
  EXPECT_EQ(get_action(get, result).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  get.set_digest_function(reapi::DigestFunction::SHA256);
  EXPECT_EQ(get_action(get, result).error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext context;
  reapi::BatchReadBlobsRequest read_request;
  *read_request.add_digests() = digest_proto("a");
  read_request.set_digest_function(reapi::DigestFunction::MD5);
  reapi::BatchReadBlobsResponse read_response;
  EXPECT_EQ(m_cas_stub->BatchReadBlobs(&context, read_request, &read_response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(get_tree(digest_proto("a"), 0, "not a token").first.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(bazel_remote_GrpcServer, ShutdownIsIdempotentAndBadAddressesFailToStart) {
  m_server->shutdown(std::chrono::milliseconds(100));
  m_server->shutdown(std::chrono::milliseconds(100));
  auto taken = GrpcServer::start({.address = "256.1.1.1:1"}, m_cache);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().category(), ErrorCategory::network);
  auto no_batch = GrpcServer::start({.max_batch_total_size_bytes = 0}, m_cache);
  ASSERT_FALSE(no_batch);
  EXPECT_EQ(no_batch.error().category(), ErrorCategory::configuration);
}

// --- Client quirks ------------------------------------------------------------------------

// The RequestMetadata header Bazel attaches to every call.
void add_request_metadata(grpc::ClientContext& context, const std::string& tool,
                          const std::string& version) {
  reapi::RequestMetadata metadata;
  metadata.mutable_tool_details()->set_tool_name(tool);
  metadata.mutable_tool_details()->set_tool_version(version);
  metadata.set_tool_invocation_id("invocation-1");
  metadata.set_action_mnemonic("CppCompile");
  context.AddMetadata("build.bazel.remote.execution.v2.requestmetadata-bin",
                      metadata.SerializeAsString());
}

// Regression (issue 17): Bazel before 6.0 treats update_enabled = false as fatal ("not
// authorized to write local results", exit 34), so a read-only server broke its builds.
TEST_F(bazel_remote_GrpcServer, ReadOnlyTellsBazelBefore6ThatUpdatesAreOnAndRefusesThem) {
  start({.read_only = true});
  auto update_enabled = [&](const std::string& tool, const std::string& version) {
    grpc::ClientContext context;
    if (!tool.empty()) add_request_metadata(context, tool, version);
    reapi::ServerCapabilities response;
    EXPECT_TRUE(m_capabilities->GetCapabilities(&context, {}, &response).ok());
    return response.cache_capabilities().action_cache_update_capabilities().update_enabled();
  };
  EXPECT_TRUE(update_enabled("bazel", "4.2.3"));
  EXPECT_TRUE(update_enabled("bazel", "5.4.1"));
  EXPECT_TRUE(update_enabled("bazel", "development version"));
  EXPECT_FALSE(update_enabled("bazel", "6.0.0"));
  EXPECT_FALSE(update_enabled("bazel", "7.1.0"));
  EXPECT_FALSE(update_enabled("buildstream", "2.0"));
  EXPECT_FALSE(update_enabled("", ""));
  // The writes themselves are refused all the same.
  grpc::ClientContext context;
  add_request_metadata(context, "bazel", "4.2.3");
  reapi::UpdateActionResultRequest request;
  *request.mutable_action_digest() = digest_proto("action");
  reapi::ActionResult response;
  EXPECT_EQ(m_ac->UpdateActionResult(&context, request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Regression (issue 17): batches between the advertised limit and the limit plus 1 MiB got
// INVALID_ARGUMENT, bigger ones RESOURCE_EXHAUSTED from gRPC's receive limit.
TEST_F(bazel_remote_GrpcServer, EveryOversizeBatchUpdateIsInvalidArgument) {
  for (const std::size_t size : {(4u << 20) + 1, 6u << 20, 20u << 20}) {
    grpc::ClientContext context;
    reapi::BatchUpdateBlobsRequest request;
    const std::string data = pattern(size);
    auto& blob = *request.add_requests();
    *blob.mutable_digest() = digest_proto(data);
    blob.set_data(data);
    reapi::BatchUpdateBlobsResponse response;
    const auto status = m_cas_stub->BatchUpdateBlobs(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << size << ": " << status.error_message();
    EXPECT_NE(status.error_message().find("use ByteStream"), std::string::npos)
        << status.error_message();
  }
}

TEST_F(bazel_remote_GrpcServer, InstancesShareTheActionCacheUnlessIsolated) {
  const auto action = digest_proto("isolated action");
  reapi::ActionResult result, response;
  result.set_exit_code(3);
  auto get_from = [&](const std::string& instance) {
    reapi::GetActionResultRequest request;
    request.set_instance_name(instance);
    *request.mutable_action_digest() = action;
    reapi::ActionResult fetched;
    return get_action(request, fetched).error_code();
  };
  ASSERT_TRUE(update_action(action, result, response).ok());  // instance "main"
  EXPECT_EQ(get_from("main"), grpc::StatusCode::OK);
  EXPECT_EQ(get_from("other"), grpc::StatusCode::OK);
  EXPECT_EQ(get_from(""), grpc::StatusCode::OK);

  start({.instances = InstanceMode::isolated});
  const auto isolated = digest_proto("another isolated action");
  reapi::GetActionResultRequest request;
  *request.mutable_action_digest() = isolated;
  ASSERT_TRUE(update_action(isolated, result, response).ok());
  EXPECT_EQ(get_from("main"), grpc::StatusCode::NOT_FOUND);  // `action`, stored shared
  for (const auto& [instance, expected] :
       {std::pair<std::string, grpc::StatusCode>{"main", grpc::StatusCode::OK},
        {"other", grpc::StatusCode::NOT_FOUND},
        {"", grpc::StatusCode::NOT_FOUND}}) {
    request.set_instance_name(instance);
    reapi::ActionResult fetched;
    EXPECT_EQ(get_action(request, fetched).error_code(), expected) << instance;
  }
}

TEST_F(bazel_remote_GrpcServer, RequestsAreCountedByTheClientToolInTheirMetadata) {
  auto& counter = support::Metrics::global().counter(
      "grpc_client_requests_total{tool=\"bazel\",version=\"6.4.0\"}");
  const auto before = counter.value();
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    add_request_metadata(context, "bazel", "6.4.0");
    reapi::ServerCapabilities response;
    ASSERT_TRUE(m_capabilities->GetCapabilities(&context, {}, &response).ok());
  }
  EXPECT_EQ(counter.value(), before + 3);
}

}  // namespace
}  // namespace forge::bazel_remote
