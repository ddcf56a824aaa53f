#include "forge/ninja/clean_stamp.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "forge/core/store/byte_reader.h"
#include "forge/core/store/encoding.h"
#include "forge/core/support/clock.h"
#include "forge/core/support/unique_fd.h"

namespace forge::ninja {
namespace {

constexpr std::int64_t k_absent = -1;
// Below this many paths one thread stats faster than starting others.
constexpr std::size_t k_paths_per_thread = 2048;

std::int64_t ns(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

struct Identity {
  bool exists = false;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::uint64_t ino = 0;
  bool operator==(const Identity&) const = default;
};

Identity identity_at(int dir_fd, const char* path) {
  struct stat st {};
  if (::fstatat(dir_fd, path, &st, 0) != 0) return {};
  return {true, static_cast<std::uint64_t>(st.st_size), ns(st.st_mtim), ns(st.st_ctim),
          static_cast<std::uint64_t>(st.st_ino)};
}

void put_path(std::string& out, std::string_view path) {
  store::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(path.size()));
  out += path;
  out.push_back('\0');
}

// A NUL-terminated path inside the stamp (put_path's shape); nullptr when it is not one.
const char* read_path(store::ByteReader& in) {
  const auto length = in.number<std::uint32_t>();
  const std::string_view with_nul = in.bytes(std::size_t{length} + 1);
  if (with_nul.size() != std::size_t{length} + 1 || with_nul.back() != '\0') return nullptr;
  return with_nul.data();
}

std::optional<std::string> read_all(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return std::nullopt;
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

struct PathMtime {
  const char* path;
  std::int64_t mtime_ns;
};

// True when every path still has its stamped existence and mtime (stat follows symlinks).
bool paths_unchanged(int dir_fd, const std::vector<PathMtime>& paths) {
  std::atomic<bool> changed{false};
  auto check = [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end && !changed.load(std::memory_order_relaxed); ++i) {
      struct stat st {};
      const std::int64_t now =
          ::fstatat(dir_fd, paths[i].path, &st, 0) == 0 ? ns(st.st_mtim) : k_absent;
      if (now != paths[i].mtime_ns) changed.store(true, std::memory_order_relaxed);
    }
  };
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t threads = std::clamp<std::size_t>(paths.size() / k_paths_per_thread, 1,
                                                      std::min<std::size_t>(cores, 4));
  const std::size_t chunk = (paths.size() + threads - 1) / threads;
  std::vector<std::jthread> workers;
  for (std::size_t t = 1; t < threads; ++t) {
    workers.emplace_back(check, t * chunk, std::min(paths.size(), (t + 1) * chunk));
  }
  check(0, std::min(paths.size(), chunk));
  workers.clear();  // joins
  return !changed.load();
}

// The build dir, canonical, as the base of its relative source paths.
std::filesystem::path build_dir_base(const std::filesystem::path& dir) {
  std::error_code ec;
  auto base = std::filesystem::canonical(dir, ec);
  return ec ? std::filesystem::absolute(dir, ec) : base;
}

// A stamped source path as the index names it: absolute and lexically normal.
std::string absolute_source(const std::filesystem::path& base, std::string_view path) {
  const std::filesystem::path given(path);
  return (given.is_absolute() ? given : base / given).lexically_normal().string();
}

}  // namespace

std::filesystem::path clean_stamp_path(const std::filesystem::path& dir) {
  return dir / ".forge" / "ninja-clean";
}

void remove_clean_stamp(const std::filesystem::path& dir) {
  ::unlink(clean_stamp_path(dir).c_str());
}

Result<void> write_clean_stamp(BuildState& state, std::size_t edges, std::int64_t racy_margin_ns,
                               const std::optional<SourceCursor>& cursor, SourceIndex* index) {
  const std::filesystem::path& dir = state.dir();
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) return fail(Error::from_errno(errno, "ninja.clean_stamp", dir.string()));
  const std::int64_t safe_before = state.stats_taken_ns() - racy_margin_ns;
  std::string out;
  store::put_le<std::uint32_t>(out, k_clean_stamp_version);
  store::put_le<std::int64_t>(out, state.stats_taken_ns());
  store::put_le<std::uint64_t>(out, edges);

  // Files whose content the verdicts read: a same-tick rewrite must not hide (racy check).
  std::vector<std::string> contents(state.manifest().files);
  for (const Edge& edge : state.manifest().edges) {
    if (!edge.depfile.empty() && edge.deps.empty()) contents.push_back(edge.depfile);
  }
  std::vector<std::pair<std::string, Identity>> identities;
  for (const std::string& file : contents) {
    const Identity id = identity_at(dir_fd.get(), file.c_str());
    if (id.exists && (id.mtime_ns >= safe_before || id.ctime_ns >= safe_before)) {
      remove_clean_stamp(dir);  // racily clean: prove it again next time
      return ok();
    }
    identities.emplace_back(file, id);
  }
  // Append-only or replaced by rename (header comment): no racy check needed.
  for (const char* log : {".ninja_log", ".ninja_deps"}) {
    identities.emplace_back(log, identity_at(dir_fd.get(), log));
  }
  store::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(identities.size()));
  for (const auto& [path, id] : identities) {
    put_path(out, path);
    out.push_back(id.exists ? '\1' : '\0');
    store::put_le<std::uint64_t>(out, id.size);
    store::put_le<std::int64_t>(out, id.mtime_ns);
    store::put_le<std::int64_t>(out, id.ctime_ns);
    store::put_le<std::uint64_t>(out, id.ino);
  }
  // Source paths only: what the build produces is Ninja's to check (header comment).
  std::vector<std::pair<const std::string*, std::int64_t>> sources;
  for (const auto& [path, entry] : state.stats()) {
    if (state.manifest().producer.contains(path)) continue;
    sources.emplace_back(&path, entry.exists ? entry.stat.mtime_ns : k_absent);
  }
  std::vector<bool> tracked(sources.size(), false);
  if (cursor && index != nullptr) {
    std::vector<std::string> absolute;
    absolute.reserve(sources.size());
    const std::filesystem::path base = build_dir_base(dir);
    for (const auto& [path, mtime] : sources) absolute.push_back(absolute_source(base, *path));
    tracked = index->tracked(*cursor, absolute);
  }
  store::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(sources.size()));
  for (std::size_t i = 0; i < sources.size(); ++i) {
    put_path(out, *sources[i].first);
    store::put_le<std::int64_t>(out, sources[i].second);
    out.push_back(tracked[i] ? '\1' : '\0');
  }
  out.push_back(cursor ? '\1' : '\0');
  if (cursor) {
    put_path(out, cursor->root.string());
    put_path(out, cursor->cursor);
  }

  const std::filesystem::path target = clean_stamp_path(dir);
  const std::filesystem::path temp = target.string() + ".tmp";
  {
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) return fail(Error::from_errno(errno, "ninja.clean_stamp", temp.string()));
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::write(fd.get(), out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int error = errno;
        ::unlink(temp.c_str());
        return fail(Error::from_errno(error, "ninja.clean_stamp", temp.string()));
      }
      done += static_cast<std::size_t>(n);
    }
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return fail(Error::from_errno(error, "ninja.clean_stamp", target.string()));
  }
  return ok();
}

StampCheck check_clean_stamp(const std::filesystem::path& dir, SourceIndex* index) {
  StampCheck check;
  const auto bytes = read_all(clean_stamp_path(dir));
  if (!bytes) return check;
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) return check;
  store::ByteReader in(*bytes);
  if (in.number<std::uint32_t>() != k_clean_stamp_version) return check;
  in.number<std::int64_t>();  // taken_ns: for diagnostics
  const auto edges = in.number<std::uint64_t>();
  const auto identities = in.number<std::uint32_t>();
  for (std::uint32_t i = 0; i < identities && in.ok(); ++i) {
    const char* path = read_path(in);
    Identity stamped;
    stamped.exists = in.number<std::uint8_t>() != 0;
    stamped.size = in.number<std::uint64_t>();
    stamped.mtime_ns = in.number<std::int64_t>();
    stamped.ctime_ns = in.number<std::int64_t>();
    stamped.ino = in.number<std::uint64_t>();
    if (path == nullptr || !in.ok()) return check;
    if (identity_at(dir_fd.get(), path) != stamped) return check;
  }
  const auto count = in.number<std::uint32_t>();
  if (!in.ok() || count > bytes->size()) return check;
  std::vector<PathMtime> paths;
  std::vector<bool> tracked;
  paths.reserve(count);
  tracked.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const char* path = read_path(in);
    const auto mtime = in.number<std::int64_t>();
    const bool is_tracked = in.number<std::uint8_t>() != 0;
    if (path == nullptr || !in.ok()) return check;
    paths.push_back({path, mtime});
    tracked.push_back(is_tracked);
  }
  std::optional<SourceCursor> cursor;
  if (in.number<std::uint8_t>() != 0) {
    const char* root = read_path(in);
    const char* text = read_path(in);
    if (root == nullptr || text == nullptr) return check;
    cursor = SourceCursor{root, text};
  }
  if (!in.ok() || !in.at_end()) return check;
  check.sources = paths.size();
  if (!cursor) {
    check.fallback =
        "no scan index covered the build dir (or --index-root) when the stamp was written";
  } else if (index == nullptr) {
    check.fallback = "the index was not asked";
  } else if (const ChangedSince changed = index->changed_since(*cursor); !changed.usable) {
    check.fallback = changed.why;
  } else {
    // Only the untracked paths and those the index reports changed need a stat.
    const std::filesystem::path base = build_dir_base(dir);
    std::vector<PathMtime> chosen;
    for (std::size_t i = 0; i < paths.size(); ++i) {
      if (!tracked[i] || changed.paths.contains(absolute_source(base, paths[i].path))) {
        chosen.push_back(paths[i]);
      }
    }
    paths = std::move(chosen);
    check.via_index = true;
  }
  check.sources_stated = paths.size();
  if (!paths_unchanged(dir_fd.get(), paths)) return check;
  check.edges = static_cast<std::size_t>(edges);
  return check;
}

std::optional<std::size_t> clean_stamp_edges(const std::filesystem::path& dir) {
  return check_clean_stamp(dir, nullptr).edges;
}

}  // namespace forge::ninja
