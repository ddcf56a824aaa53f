#include "forge/ninja/build_state.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <unordered_set>

#include <fmt/format.h>

#include "forge/core/support/clock.h"

namespace forge::ninja {
namespace {

// LMDB keys are at most 511 bytes; longer paths are simply not remembered (re-hashed).
constexpr std::size_t k_max_key = 500;

Error not_ninja_dir(const std::filesystem::path& dir, std::string_view what) {
  return Error(ErrorCategory::validation, fmt::format("{}: {}", dir.string(), what))
      .with_file(dir.string())
      .with_operation("ninja.load")
      .with_suggestion("forge ninja runs plain ninja for this build");
}

}  // namespace

std::optional<std::vector<std::string>> read_depfile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<std::string> deps;
  std::string token;
  bool seen_target = false;
  auto flush = [&] {
    if (token.empty()) return;
    if (!seen_target && token.back() == ':') {
      seen_target = true;
    } else if (seen_target) {
      deps.push_back(canonicalize_path(token));
    }
    token.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '\n' || text[i + 1] == ' ')) {
      if (text[i + 1] == ' ')
        token += ' ';
      else
        flush();
      ++i;
    } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      token += '$';
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      flush();
    } else {
      token += c;
    }
  }
  flush();
  return deps;
}

Result<BuildState> BuildState::load(io::PlatformIO& io, const std::filesystem::path& dir,
                                    std::int64_t racy_margin_ns) {
  std::error_code ec;
  if (!std::filesystem::exists(dir / "build.ninja", ec)) {
    return fail(not_ninja_dir(dir, "not a Ninja build directory (no build.ninja)"));
  }
  FORGE_TRY(Manifest manifest, read_manifest(dir));
  auto log = read_build_log(dir / ".ninja_log");
  if (!log) {
    if (log.error().code() == ENOENT) {
      return fail(not_ninja_dir(dir, "no .ninja_log yet (the build has not run)"));
    }
    return fail(std::move(log).error());
  }
  if (log->version != k_build_log_write_version) {
    return fail(not_ninja_dir(
        dir, fmt::format(".ninja_log is version {} (a newer Ninja than 1.11); forge ninja "
                         "appends only to version {} logs",
                         log->version, k_build_log_write_version)));
  }
  DepsLog deps;
  if (std::filesystem::exists(dir / ".ninja_deps", ec)) {
    FORGE_TRY(deps, read_deps_log(dir / ".ninja_deps"));
  }
  FORGE_TRY(RecordStore store, RecordStore::open(dir));
  BuildState state(io, std::move(store));
  state.m_dir = dir;
  state.m_racy_margin_ns = racy_margin_ns;
  state.m_manifest = std::move(manifest);
  state.m_log = std::move(*log);
  state.m_deps = std::move(deps);
  FORGE_TRY(state.m_files, state.m_store.load_files());

  // One batch stat of every path the manifest and the deps log name.
  std::unordered_set<std::string> seen;
  std::vector<std::string> names;
  auto add = [&](const std::string& path) {
    if (seen.insert(path).second) names.push_back(path);
  };
  for (const Edge& edge : state.m_manifest.edges) {
    for (const auto& path : edge.outputs) add(path);
    for (const auto& path : edge.inputs) add(path);
  }
  for (const auto& path : state.m_deps.paths) add(path);
  std::vector<std::filesystem::path> full;
  full.reserve(names.size());
  for (const auto& name : names) full.push_back(state.full_path(name));
  state.m_stats_taken_ns = now_ns();
  auto stats = io.batch_stat(full);
  for (std::size_t i = 0; i < names.size(); ++i) {
    PathStat entry;
    if (stats[i]) {
      entry.exists = true;
      entry.stat = *stats[i];
      if (S_ISLNK(entry.stat.mode)) stat_following(full[i], entry);
    }
    state.m_stats.emplace(names[i], entry);
  }
  return state;
}

void BuildState::stat_following(const std::filesystem::path& path, PathStat& entry) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    entry = PathStat{};
    return;
  }
  entry.exists = true;
  entry.stat.size = static_cast<std::uint64_t>(st.st_size);
  entry.stat.ino = st.st_ino;
  entry.stat.dev = st.st_dev;
  entry.stat.mode = st.st_mode;
  entry.stat.mtime_ns =
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  entry.stat.ctime_ns =
      static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
}

std::filesystem::path BuildState::full_path(const std::string& path) const {
  return path.starts_with('/') ? std::filesystem::path(path) : m_dir / path;
}

const PathStat& BuildState::stat(const std::string& path) {
  auto [it, inserted] = m_stats.try_emplace(path);
  if (inserted) stat_following(full_path(path), it->second);
  return it->second;
}

PlanContext BuildState::plan_context() {
  PlanContext context;
  context.manifest = &m_manifest;
  context.log = &m_log;
  context.deps = &m_deps;
  context.stat = [this](const std::string& path) {
    const PathStat& entry = stat(path);
    return NodeStat{entry.exists, entry.exists ? entry.stat.mtime_ns : 0};
  };
  context.read_depfile = [this](const std::string& path) { return read_depfile(full_path(path)); };
  return context;
}

std::unordered_map<std::string, std::optional<hash::Digest>> BuildState::digests(
    const std::vector<std::string>& paths) {
  std::unordered_map<std::string, std::optional<hash::Digest>> out;
  std::vector<std::string> to_hash;
  for (const std::string& path : paths) {
    if (out.contains(path)) continue;
    const PathStat& entry = stat(path);
    out[path] = std::nullopt;
    if (!entry.exists) continue;
    const auto known = m_files.find(path);
    if (known != m_files.end()) {
      const FileState& state = known->second;
      const std::int64_t safe_before = state.hashed_at_ns - m_racy_margin_ns;
      if (state.size == entry.stat.size && state.mtime_ns == entry.stat.mtime_ns &&
          state.ctime_ns == entry.stat.ctime_ns && state.ino == entry.stat.ino &&
          state.mtime_ns < safe_before && state.ctime_ns < safe_before) {
        out[path] = state.xxh3;
        continue;
      }
    }
    to_hash.push_back(path);
  }
  if (to_hash.empty()) return out;
  std::vector<std::filesystem::path> full;
  full.reserve(to_hash.size());
  for (const auto& path : to_hash) full.push_back(full_path(path));
  const std::int64_t hashed_at = now_ns();
  auto results = m_io->batch_hash(full, hash::AlgorithmSet::only(hash::Algorithm::xxh3_128));
  m_hashed += to_hash.size();
  for (std::size_t i = 0; i < to_hash.size(); ++i) {
    if (!results[i] || !results[i]->digests.xxh3) continue;
    const io::FileStat& after = results[i]->stat;
    out[to_hash[i]] = *results[i]->digests.xxh3;
    FileState state{after.size, after.mtime_ns, after.ctime_ns,
                    after.ino,  hashed_at,      *results[i]->digests.xxh3};
    m_files[to_hash[i]] = state;
    if (to_hash[i].size() <= k_max_key) m_fresh.emplace_back(to_hash[i], state);
  }
  return out;
}

Result<void> BuildState::write_file_states(
    const std::vector<std::pair<std::string, EdgeRecord>>& edges) {
  std::vector<std::pair<std::string, EdgeRecord>> keyed;
  for (const auto& entry : edges) {
    if (entry.first.size() <= k_max_key) keyed.push_back(entry);
  }
  if (m_fresh.empty() && keyed.empty()) return ok();
  FORGE_TRY_VOID(m_store.write(m_fresh, keyed));
  m_fresh.clear();
  return ok();
}

}  // namespace forge::ninja
