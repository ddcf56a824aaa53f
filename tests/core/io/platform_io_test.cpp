// One suite, run against every backend (Property 3: they must be indistinguishable).
#include "forge/core/io/platform_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "forge/core/hash/digest.h"
#include "forge/test/temp_dir.h"
#include "io_test_support.h"

namespace forge::io {
namespace {

using forge::test::TempDir;
using test::make_backend;

const char* const k_backends[] = {"io_uring", "fallback"};

// File sizes around every boundary either backend cares about.
const std::size_t k_edge_sizes[] = {0, 1, 4095, 4096, 4097, 131071, 131072, 131073, (1u << 20) + 7};

std::string content_of_size(std::size_t size, unsigned seed) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + seed) % 251);
  return data;
}

void write_raw(const std::filesystem::path& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

bool running_as_root() {
  return geteuid() == 0;
}

// A file name built from rapidcheck's choice: plain, spaces, a newline, non-UTF-8 bytes.
std::string make_name(int kind, int serial) {
  switch (kind % 4) {
    case 0: return "plain_" + std::to_string(serial);
    case 1: return "with space " + std::to_string(serial);
    case 2: return "new\nline_" + std::to_string(serial);
    default: return std::string("bytes_\xff\xfe_") + std::to_string(serial);
  }
}

class PlatformIoTest : public ::testing::TestWithParam<const char*> {
 protected:
  std::unique_ptr<PlatformIO> io() { return make_backend(GetParam()); }
};

TEST_P(PlatformIoTest, BackendIsAvailableAndNamed) {
  auto backend = io();
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->backend_name(), std::string_view(GetParam()));
}

TEST_P(PlatformIoTest, HashesEdgeSizedFilesLikeInMemoryDigests) {
  TempDir dir;
  std::vector<std::filesystem::path> paths;
  std::vector<std::string> contents;
  for (std::size_t size : k_edge_sizes) {
    contents.push_back(content_of_size(size, static_cast<unsigned>(size)));
    paths.push_back(dir / ("f" + std::to_string(size)));
    write_raw(paths.back(), contents.back());
  }
  auto results = io()->batch_hash(paths, hash::AlgorithmSet::both());
  ASSERT_EQ(results.size(), paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    ASSERT_TRUE(results[i]) << results[i].error().to_string();
    EXPECT_EQ(results[i]->size, contents[i].size());
    EXPECT_EQ(*results[i]->digests.sha256, hash::sha256_of(contents[i])) << paths[i];
    EXPECT_EQ(*results[i]->digests.xxh3, hash::xxh3_of(contents[i])) << paths[i];
  }
}

TEST_P(PlatformIoTest, DigestsEqualSha256sumAndXxhsumOnTheSameFiles) {
  TempDir dir;
  std::vector<std::filesystem::path> paths;
  for (std::size_t size : k_edge_sizes) {
    paths.push_back(dir / ("file " + std::to_string(size)));
    write_raw(paths.back(), content_of_size(size, 7));
  }
  auto results = io()->batch_hash(paths, hash::AlgorithmSet::both());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    ASSERT_TRUE(results[i]);
    const std::string quoted = "'" + paths[i].string() + "'";
    const std::string sha = test::run_command("sha256sum " + quoted).substr(0, 64);
    const std::string xxh = test::run_command("xxhsum -H2 " + quoted).substr(0, 32);
    EXPECT_EQ(results[i]->digests.sha256->hex(), sha);
    EXPECT_EQ(results[i]->digests.xxh3->hex(), xxh);
  }
}

TEST_P(PlatformIoTest, SparseFileHashesAsItsZeroFilledContent) {
  TempDir dir;
  const auto path = dir / "sparse";
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 3 << 20), 0);
  ASSERT_EQ(pwrite(fd, "end", 3, (3 << 20) - 3), 3);
  ::close(fd);
  std::string expected(3 << 20, '\0');
  expected.replace(expected.size() - 3, 3, "end");
  auto results = io()->batch_hash(std::span(&path, 1), hash::AlgorithmSet::both());
  ASSERT_TRUE(results[0]);
  EXPECT_EQ(*results[0]->digests.sha256, hash::sha256_of(expected));
}

TEST_P(PlatformIoTest, BadPathsFailAloneWithTheirErrno) {
  TempDir dir;
  dir.write_file("good", "good");
  std::filesystem::create_symlink(dir / "nowhere", dir / "dangling");
  std::filesystem::create_directory(dir / "subdir");
  const std::vector<std::filesystem::path> paths{dir / "missing", dir / "good", dir / "dangling",
                                                 dir / "subdir"};
  auto results = io()->batch_hash(paths, hash::AlgorithmSet{true, false});
  ASSERT_FALSE(results[0]);
  EXPECT_EQ(results[0].error().code(), ENOENT);
  EXPECT_EQ(results[0].error().category(), ErrorCategory::file_system);
  ASSERT_TRUE(results[1]);
  EXPECT_EQ(*results[1]->digests.sha256, hash::sha256_of("good"));
  ASSERT_FALSE(results[2]);
  EXPECT_EQ(results[2].error().code(), ENOENT);
  ASSERT_FALSE(results[3]);
  EXPECT_EQ(results[3].error().code(), EISDIR);
}

TEST_P(PlatformIoTest, UnreadableFileIsAPermissionError) {
  TempDir dir;
  const auto secret = dir.write_file("secret", "x");
  const auto open = dir.write_file("open", "y");
  std::filesystem::permissions(secret, std::filesystem::perms::none);
  std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
  // Root reads mode-000 files, so the check runs in a child that drops to nobody.
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    if (running_as_root() && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(10);
    const std::vector<std::filesystem::path> paths{secret, open};
    auto backend = make_backend(GetParam());
    if (!backend) _exit(14);
    auto results = backend->batch_hash(paths, hash::AlgorithmSet{true, false});
    if (results[0] || results[0].error().code() != EACCES) _exit(11);
    if (results[0].error().category() != ErrorCategory::file_system) _exit(12);
    if (!results[1] || *results[1]->digests.sha256 != hash::sha256_of("y")) _exit(13);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: cannot drop privileges, 11: not EACCES, "
                                       "12: wrong category, 13: readable file failed, "
                                       "14: backend unavailable to an unprivileged user";
}

TEST_P(PlatformIoTest, BatchStatDoesNotFollowSymlinks) {
  TempDir dir;
  dir.write_file("target", "12345");
  std::filesystem::create_symlink("target", dir / "link");
  const std::vector<std::filesystem::path> paths{dir / "target", dir / "link", dir / "none"};
  auto stats = io()->batch_stat(paths);
  ASSERT_TRUE(stats[0] && stats[1]);
  EXPECT_TRUE(S_ISREG(stats[0]->mode));
  EXPECT_EQ(stats[0]->size, 5u);
  EXPECT_TRUE(S_ISLNK(stats[1]->mode));
  ASSERT_FALSE(stats[2]);
  EXPECT_EQ(stats[2].error().code(), ENOENT);
}

TEST_P(PlatformIoTest, AppendingWriterNeverYieldsAMixedDigest) {
  TempDir dir;
  const auto path = dir / "growing";
  write_raw(path, content_of_size(1 << 20, 3));
  std::atomic<bool> stop{false};
  // At most 16 MiB more: a writer faster than the hasher (a sanitizer build) would otherwise
  // grow the file, and each of the 20 hashes of it, without bound.
  std::thread writer([&] {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    const std::string chunk(4096, 'g');
    for (int i = 0; i < 4096 && !stop; ++i) out.write(chunk.data(), chunk.size()).flush();
  });
  auto backend = io();
  std::vector<std::filesystem::path> paths(20, path);
  auto results = backend->batch_hash(paths, hash::AlgorithmSet{true, false});
  stop = true;
  writer.join();
  const std::string final_content = dir.read_file("growing");
  for (auto& result : results) {
    if (!result) {
      EXPECT_EQ(result.error().category(), ErrorCategory::file_system);
      continue;
    }
    // An append-only writer keeps every prefix stable: a success must be some prefix.
    ASSERT_LE(result->size, final_content.size());
    EXPECT_EQ(*result->digests.sha256,
              hash::sha256_of(std::string_view(final_content).substr(0, result->size)));
  }
}

TEST_P(PlatformIoTest, WriteAllIsAtomicAndLeavesNoTempFiles) {
  TempDir dir;
  auto backend = io();
  const std::string data = content_of_size(100000, 9);
  ASSERT_TRUE(backend->write_all(dir / "out", std::as_bytes(std::span(data)), Sync::yes));
  EXPECT_EQ(dir.read_file("out"), data);
  int entries = 0;
  for (auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  auto missing_dir = backend->write_all(dir / "no" / "such" / "dir", {}, Sync::no);
  ASSERT_FALSE(missing_dir);
  EXPECT_EQ(missing_dir.error().code(), ENOENT);
}

// Feature: platform-native-io-hardening, Property 3: API Consistency Across Backends
RC_GTEST_PROP(PlatformIoProperty, Property3_BackendsAgreeOnEveryFileSet,
              (const std::vector<std::pair<int, int>>& spec)) {
  TempDir dir;
  std::vector<std::filesystem::path> paths;
  std::map<std::filesystem::path, std::string> expected;
  int serial = 0;
  for (const auto& [size_choice, name_kind] : spec) {
    const auto path = dir / make_name(name_kind, serial++);
    const int choice = std::abs(size_choice) % 12;
    if (choice == 10) {
      paths.push_back(dir / ("missing_" + std::to_string(serial)));
      continue;
    }
    if (choice == 11) {
      std::filesystem::create_symlink(dir / "nowhere", path);
      paths.push_back(path);
      continue;
    }
    const std::size_t size = choice < 9 ? k_edge_sizes[choice]
                                        : static_cast<std::size_t>(std::abs(size_choice) % 300000);
    expected[path] = content_of_size(size, static_cast<unsigned>(serial));
    write_raw(path, expected[path]);
    paths.push_back(path);
  }
  auto uring = make_backend("io_uring");
  auto fallback = make_backend("fallback");
  RC_ASSERT(uring != nullptr);
  auto a = uring->batch_hash(paths, hash::AlgorithmSet::both());
  auto b = fallback->batch_hash(paths, hash::AlgorithmSet::both());
  auto ra = uring->batch_read(paths);
  auto rb = fallback->batch_read(paths);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    RC_ASSERT(a[i].has_value() == b[i].has_value());
    RC_ASSERT(ra[i].has_value() == rb[i].has_value());
    const auto it = expected.find(paths[i]);
    RC_ASSERT(a[i].has_value() == (it != expected.end()));
    if (!a[i]) {
      RC_ASSERT(a[i].error().code() == b[i].error().code());
      RC_ASSERT(a[i].error().category() == b[i].error().category());
      continue;
    }
    RC_ASSERT(*a[i]->digests.sha256 == hash::sha256_of(it->second));
    RC_ASSERT(*a[i]->digests.sha256 == *b[i]->digests.sha256);
    RC_ASSERT(*a[i]->digests.xxh3 == *b[i]->digests.xxh3);
    RC_ASSERT(*ra[i] == *rb[i]);
    RC_ASSERT(ra[i]->size() == it->second.size());
  }
}

// Feature: platform-native-io-hardening, Property 4: Batch Operation Correctness
RC_GTEST_PROP(PlatformIoProperty, Property4_BatchWriteThenBatchReadReturnsTheData,
              (const std::vector<std::string>& blobs, bool use_uring)) {
  TempDir dir;
  auto backend = make_backend(use_uring ? "io_uring" : "fallback");
  std::vector<WriteOp> ops;
  std::vector<std::filesystem::path> paths;
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    paths.push_back(dir / ("w" + std::to_string(i)));
    ops.push_back(WriteOp{paths.back(), std::as_bytes(std::span(blobs[i])), Sync::no});
  }
  for (auto& result : backend->batch_write(ops)) RC_ASSERT(result.has_value());
  auto read = backend->batch_read(paths);
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    RC_ASSERT(read[i].has_value());
    const auto bytes = std::as_bytes(std::span(blobs[i]));
    RC_ASSERT(std::equal(read[i]->begin(), read[i]->end(), bytes.begin(), bytes.end()));
  }
}

// Feature: platform-native-io-hardening, Property 12: File Handle Limiting
RC_GTEST_PROP(PlatformIoProperty, Property12_OpenHandlesNeverExceedTheLimit, (bool use_uring)) {
  const std::size_t limit = *rc::gen::inRange<std::size_t>(1, 9);
  const std::size_t files = *rc::gen::inRange<std::size_t>(1, 120);
  TempDir dir;
  std::vector<std::filesystem::path> paths;
  for (std::size_t i = 0; i < files; ++i) {
    paths.push_back(dir.write_file("f" + std::to_string(i), content_of_size(i * 37, 1)));
  }
  auto handles = std::make_shared<support::ResourceManager>(limit);
  auto backend = make_backend(use_uring ? "io_uring" : "fallback", handles);
  auto results = backend->batch_hash(paths, hash::AlgorithmSet{false, true});
  for (auto& result : results) RC_ASSERT(result.has_value());
  RC_ASSERT(handles->high_water_mark() <= limit);
  RC_ASSERT(handles->active() == 0u);
}

// Feature: platform-native-io-hardening, Property 13: Handle Queuing at Limit
RC_GTEST_PROP(PlatformIoProperty, Property13_RequestsAtTheLimitQueueAndComplete, (bool use_uring)) {
  TempDir dir;
  const std::size_t files = *rc::gen::inRange<std::size_t>(2, 60);
  std::vector<std::filesystem::path> paths;
  for (std::size_t i = 0; i < files; ++i)
    paths.push_back(dir.write_file("f" + std::to_string(i), "x"));
  // One handle shared by two concurrent batches: every open must wait its turn.
  auto handles = std::make_shared<support::ResourceManager>(1);
  auto backend = make_backend(use_uring ? "io_uring" : "fallback", handles);
  std::vector<Result<HashResult>> other;
  std::thread second([&] { other = backend->batch_hash(paths, hash::AlgorithmSet{true, false}); });
  auto results = backend->batch_hash(paths, hash::AlgorithmSet{true, false});
  second.join();
  for (std::size_t i = 0; i < files; ++i) {
    RC_ASSERT(results[i].has_value());
    RC_ASSERT(other[i].has_value());
    RC_ASSERT(*results[i]->digests.sha256 == hash::sha256_of("x"));
  }
  RC_ASSERT(handles->high_water_mark() == 1u);
}

// Feature: platform-native-io-hardening, Property 23: Concurrent Read Support
RC_GTEST_PROP(PlatformIoProperty, Property23_ConcurrentReadsOfOneFileAreIdentical,
              (const std::string& content, bool use_uring)) {
  TempDir dir;
  const auto path = dir.write_file("shared", content);
  auto backend = make_backend(use_uring ? "io_uring" : "fallback");
  std::vector<Result<std::vector<std::byte>>> reads(4, std::vector<std::byte>{});
  std::vector<std::thread> threads;
  for (auto& slot : reads) threads.emplace_back([&] { slot = backend->read_all(path); });
  for (auto& thread : threads) thread.join();
  const auto bytes = std::as_bytes(std::span(content));
  for (auto& read : reads) {
    RC_ASSERT(read.has_value());
    RC_ASSERT(std::equal(read->begin(), read->end(), bytes.begin(), bytes.end()));
  }
}

// Runs `fn` on its own thread; a call still running after 20 s fails the test and ends the
// process (a hang must fail, not block the suite until ctest's timeout).
template <typename Fn>
auto within_timeout(Fn fn) {
  using T = decltype(fn());
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  std::thread([promise, fn] { promise->set_value(fn()); }).detach();
  if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "a read of a special file hung";
    std::quick_exit(1);
  }
  return future.get();
}

// Issue 16 item 10: a FIFO (no writer: open would block), a symlink to a FIFO and a
// symlink to /dev/zero (endless data) are errors naming the file, returned at once; the
// regular file beside them is still read. Before, the FIFO blocked in open and /dev/zero
// was read forever.
TEST_P(PlatformIoTest, SpecialFilesAreErrorsNeverHangs) {
  TempDir dir;
  write_raw(dir / "regular", "data");
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
  std::filesystem::create_symlink(dir / "fifo", dir / "to_fifo");
  std::filesystem::create_symlink("/dev/zero", dir / "to_zero");
  const std::vector<std::filesystem::path> paths = {dir / "fifo", dir / "to_fifo", dir / "to_zero",
                                                    dir / "regular"};
  auto backend = io();
  const auto hashed = within_timeout([&] {
    return backend->batch_hash(paths, hash::AlgorithmSet{false, true});
  });
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_FALSE(hashed[i]) << paths[i];
    EXPECT_NE(hashed[i].error().to_string().find("not a regular file"), std::string::npos)
        << hashed[i].error().to_string();
  }
  ASSERT_TRUE(hashed[3]);
  EXPECT_EQ(hashed[3]->digests.xxh3, hash::xxh3_of("data"));
  const auto read = within_timeout([&] { return backend->batch_read(paths); });
  for (std::size_t i = 0; i < 3; ++i) EXPECT_FALSE(read[i]) << paths[i];
  EXPECT_TRUE(read[3]);
  EXPECT_FALSE(within_timeout([&] { return backend->read_all(dir / "to_zero"); }));
  std::array<std::byte, 16> buffer{};
  EXPECT_FALSE(within_timeout([&] { return backend->read(dir / "fifo", buffer); }));
}

// Follow::no (the scanner's hashes): a symlink in the last component is not followed.
TEST_P(PlatformIoTest, HashWithoutFollowingRefusesASymlink) {
  TempDir dir;
  write_raw(dir / "regular", "data");
  std::filesystem::create_symlink("regular", dir / "link");
  const std::vector<std::filesystem::path> paths = {dir / "link", dir / "regular"};
  const auto hashed = io()->batch_hash(paths, hash::AlgorithmSet{false, true}, Follow::no);
  ASSERT_FALSE(hashed[0]);
  EXPECT_EQ(hashed[0].error().code(), ELOOP);
  ASSERT_TRUE(hashed[1]);
  const auto followed = io()->batch_hash(paths, hash::AlgorithmSet{false, true});
  ASSERT_TRUE(followed[0]);
  EXPECT_EQ(followed[0]->digests.xxh3, hash::xxh3_of("data"));
}

INSTANTIATE_TEST_SUITE_P(Backends, PlatformIoTest, ::testing::ValuesIn(k_backends));

}  // namespace
}  // namespace forge::io
