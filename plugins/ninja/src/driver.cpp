#include "forge/ninja/driver.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "forge/core/support/clock.h"
#include "forge/ninja/record_store.h"
#include "forge/ninja/settle.h"

namespace forge::ninja {
namespace {

struct FileSnapshot {
  bool exists = false;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileSnapshot&) const = default;
};

FileSnapshot snapshot(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {true, static_cast<std::int64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

// -n (dry run), -t TOOL, and the informational flags never build: no settle, no record.
bool builds(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (arg == "-n" || arg.starts_with("-t") || arg == "--version" || arg == "-h" ||
        arg == "--help") {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<BuildDirLock> BuildDirLock::acquire(const std::filesystem::path& dir) {
  const auto forge_dir = dir / ".forge";
  std::error_code ec;
  std::filesystem::create_directories(forge_dir, ec);
  if (ec) return fail(Error::from_error_code(ec, "ninja.lock", forge_dir.string()));
  const auto path = forge_dir / "ninja.lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return fail(Error::from_errno(errno, "ninja.lock", path.string()));
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return fail(Error::from_errno(errno, "ninja.lock", path.string()));
  }
  return BuildDirLock(std::move(fd));
}

Result<int> run_process(const std::vector<std::string>& argv) {
  if (argv.empty()) return fail(Error(ErrorCategory::validation, "no command to run"));
  std::vector<char*> raw;
  for (const std::string& arg : argv) raw.push_back(const_cast<char*>(arg.c_str()));
  raw.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return fail(Error::from_errno(errno, "fork", argv.front()));
  if (pid == 0) {
    ::execvp(raw[0], raw.data());
    std::fprintf(stderr, "forge: cannot run %s: %s\n", raw[0], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return fail(Error::from_errno(errno, "waitpid", argv.front()));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

int run_wrapped(io::PlatformIO& io, const WrapOptions& options, std::FILE* messages) {
  std::vector<std::string> argv{options.ninja, "-C", options.dir.string()};
  argv.insert(argv.end(), options.ninja_args.begin(), options.ninja_args.end());
  bool building = builds(options.ninja_args);
  std::error_code ec;
  if (building && !std::filesystem::exists(options.dir / "build.ninja", ec)) {
    // Not a Ninja build dir (or not generated yet): write nothing there, let ninja say why.
    fmt::print(messages,
               "forge ninja: {}: not a Ninja build directory (no build.ninja); "
               "running plain ninja\n",
               options.dir.string());
    building = false;
  }
  std::optional<BuildDirLock> lock;
  if (building) {
    auto acquired = BuildDirLock::acquire(options.dir);
    if (acquired) {
      lock.emplace(std::move(*acquired));
    } else {
      fmt::print(messages, "forge ninja: {}; running plain ninja\n", acquired.error().summary());
    }
  }
  const bool managed = building && lock.has_value();
  if (managed) {
    SettleOptions settle_options;
    settle_options.dir = options.dir;
    settle_options.index_root = options.index_root;
    auto settled = settle(io, settle_options);
    if (!settled) {
      fmt::print(messages, "forge ninja: {}; running plain ninja\n", settled.error().summary());
    } else if (settled->settled > 0) {
      fmt::print(messages, "forge ninja: {} of {} edges clean by content (only mtimes changed)\n",
                 settled->settled, settled->settled + settled->dirty);
    }
  }
  const FileSnapshot log_before = snapshot(options.dir / ".ninja_log");
  const FileSnapshot deps_before = snapshot(options.dir / ".ninja_deps");
  const std::int64_t started = now_ns();
  auto status = run_process(argv);
  if (!status) {
    fmt::print(messages, "forge ninja: {}\n", status.error().summary());
    return 127;
  }
  if (*status != 0 || !managed) return *status;
  bool recorded_before = false;
  if (auto store = RecordStore::open(options.dir)) {
    recorded_before = store->has_records().value_or(false);
  }
  if (recorded_before && snapshot(options.dir / ".ninja_log") == log_before &&
      snapshot(options.dir / ".ninja_deps") == deps_before) {
    return *status;  // nothing ran: the records are current
  }
  RecordOptions record_options;
  record_options.dir = options.dir;
  record_options.build_started_ns = started;
  record_options.index_root = options.index_root;
  if (auto recorded = record(io, record_options); !recorded) {
    fmt::print(messages, "forge ninja: not recorded: {}\n", recorded.error().summary());
  }
  return *status;
}

Result<int> keep_if_same(io::PlatformIO& io, const std::vector<std::filesystem::path>& outputs,
                         const std::vector<std::string>& command) {
  struct Before {
    std::optional<hash::Digest> digest;
    struct timespec times[2];
  };
  std::vector<Before> before(outputs.size());
  auto hashes = io.batch_hash(outputs, hash::AlgorithmSet::only(hash::Algorithm::xxh3_128));
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    struct stat st {};
    if (!hashes[i] || ::stat(outputs[i].c_str(), &st) != 0) continue;
    before[i].digest = hashes[i]->digests.xxh3;
    before[i].times[0] = st.st_atim;
    before[i].times[1] = st.st_mtim;
  }
  FORGE_TRY(const int status, run_process(command));
  if (status != 0) return status;
  auto after = io.batch_hash(outputs, hash::AlgorithmSet::only(hash::Algorithm::xxh3_128));
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (!before[i].digest || !after[i] || after[i]->digests.xxh3 != before[i].digest) continue;
    if (::utimensat(AT_FDCWD, outputs[i].c_str(), before[i].times, 0) != 0) {
      return fail(Error::from_errno(errno, "ninja.keep_if_same.utimensat", outputs[i].string()));
    }
  }
  return status;
}

}  // namespace forge::ninja
