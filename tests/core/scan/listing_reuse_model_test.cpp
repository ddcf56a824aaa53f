// Model-based property for full scans that reuse directory listings (ListingCache).
//
// The property in scanner_test.cpp scans trees that are always younger than the racy window,
// so its scans read every directory. Here listing reuse is in play on most steps:
//
// - The scans pass a racy margin of two ticks of the kernel's coarse clock (clock_getres of
//   CLOCK_REALTIME_COARSE, 4 ms at HZ=250) instead of k_racy_margin_ns (50 ms, sized for
//   HZ=100). That is still a correct margin on this kernel: a change made after a scan began
//   gets a timestamp at most one tick behind the scan's start, so it cannot equal a recorded
//   one from before start - margin. Only the waiting gets shorter, not the rule.
// - Before about half of the scans the test waits out that margin, so everything changed
//   before the wait is recorded outside the racy window and may be reused by the next scan.
//   ctime cannot be set into the past (utimensat only moves mtime and atime, and bumps
//   ctime), so waiting is the only way to age a directory; it costs a few ms per step.
//
// After each step the scan must report exactly the model's content and type changes (kinds
// included), since(previous cursor) must say the same, and ChangeSet::entries must count the
// visible tree. The model also predicts listing reuse from when each directory and each
// .gitignore was last changed (a wall-clock time taken after the syscall, so not before the
// kernel's ctime): `definite` directories were unchanged since well before the previous
// scan's start (outside the margin) and must be reused; `possible` ones were unchanged since
// the previous scan began. definite <= listings_reused <= possible: reuse happened, and never
// for a directory changed after its listing was recorded.
//
// Operations: create/overwrite, mkdir, delete, remove a subtree, rename files and
// directories (across directories: into and out of reused listings), touch-only and chmod
// (files and directories, mtimes set into the past), same-size edits with the mtime put
// back, .gitignore writes and in-place edits, a directory replaced by a file of the same name
// and the reverse, and "hidden" entry changes: a file created, removed or renamed in a
// directory whose mtime is then reset to its old value with utimensat. The kernel still
// moves that directory's ctime, so its stat differs from the recorded one and its listing
// must be read again: the new or removed file must be reported, never settled as unchanged.
//
// FORGE_SCAN_MODEL_MAX_STEPS (default 16) bounds the steps per case, e.g. for slow sanitizer
// builds; the number of cases is rapidcheck's (RC_PARAMS, default 100).
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "change_list.h"
#include "forge/core/io/backend_selector.h"
#include "forge/core/scan/scanner.h"
#include "forge/test/temp_dir.h"

namespace forge::scan {
namespace {

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Two ticks of the clock file timestamps come from, and at least 2 ms.
std::int64_t test_racy_margin_ns() {
  timespec resolution{};
  clock_getres(CLOCK_REALTIME_COARSE, &resolution);
  const std::int64_t tick = resolution.tv_sec * 1'000'000'000LL + resolution.tv_nsec;
  return std::max<std::int64_t>(2 * tick, 2'000'000);
}

int max_steps() {
  if (const char* text = std::getenv("FORGE_SCAN_MODEL_MAX_STEPS")) {
    return std::max(1, std::atoi(text));
  }
  return 16;
}

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

bool inside(const std::string& path, const std::string& dir) {
  return path.starts_with(dir + "/");
}

// "", "a", "a/b" for "a/b/c": the directories whose .gitignore applies to it.
std::vector<std::string> proper_ancestors(const std::string& path) {
  std::vector<std::string> out{""};
  for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    out.push_back(path.substr(0, slash));
  }
  return out;
}

struct Node {
  bool directory = false;
  std::string content;
  std::uint64_t id = 0;  // the inode's identity: kept by renames, new on every creation
};
using Tree = std::map<std::string, Node>;  // relative path -> what is there

// gitignore(5) as the test uses it: rules of every .gitignore (a regular file) in a proper
// ancestor, outer files first, lines in order, the last match wins; a pattern without a
// slash matches the name; a trailing slash matches directories only.
bool model_ignored(const Tree& tree, const std::string& path, bool directory) {
  bool ignored = false;
  for (const std::string& base : proper_ancestors(path)) {
    const auto it = tree.find(join(base, ".gitignore"));
    if (it == tree.end() || it->second.directory) continue;
    const std::string below = base.empty() ? path : path.substr(base.size() + 1);
    const std::string name = below.substr(below.rfind('/') + 1);  // npos + 1 == 0
    std::size_t start = 0;
    const std::string& content = it->second.content;
    while (start < content.size()) {
      std::size_t end = content.find('\n', start);
      if (end == std::string::npos) end = content.size();
      std::string line = content.substr(start, end - start);
      start = end + 1;
      while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) {
        line.pop_back();
      }
      if (line.empty() || line.front() == '#') continue;
      bool negated = false;
      if (line.front() == '!') {
        negated = true;
        line.erase(0, 1);
      } else if (line.starts_with("\\!") || line.starts_with("\\#")) {
        line.erase(0, 1);
      }
      bool directory_only = false;
      if (!line.empty() && line.back() == '/') {
        directory_only = true;
        line.pop_back();
      }
      if (line.empty() || (directory_only && !directory)) continue;
      const bool anchored = line.find('/') != std::string::npos;  // not written by this test
      if (line.front() == '/') line.erase(0, 1);
      const std::string& subject = anchored ? below : name;
      if (fnmatch(line.c_str(), subject.c_str(), FNM_PATHNAME) == 0) ignored = !negated;
    }
  }
  return ignored;
}

// What a scan should see: the paths none of whose components is ignored.
Tree visible(const Tree& tree) {
  Tree out;
  for (const auto& [path, node] : tree) {
    bool hidden = false;
    for (std::size_t from = 0;;) {
      const std::size_t slash = path.find('/', from);
      const bool last = slash == std::string::npos;
      if (model_ignored(tree, path.substr(0, slash), !last || node.directory)) {
        hidden = true;
        break;
      }
      if (last) break;
      from = slash + 1;
    }
    if (!hidden) out.emplace(path, node);
  }
  return out;
}

ChangeList expected_changes(const Tree& before, const Tree& after) {
  ChangeList out;
  for (const auto& [path, node] : after) {
    const auto it = before.find(path);
    if (it == before.end()) {
      out[path] = ChangeKind::added;
    } else if (it->second.directory != node.directory) {
      out[path] = ChangeKind::type_changed;
    } else if (!node.directory && it->second.content != node.content) {
      out[path] = ChangeKind::modified;
    }
  }
  for (const auto& [path, node] : before) {
    if (!after.contains(path)) out[path] = ChangeKind::removed;
  }
  return out;
}

std::string describe(const std::set<std::string>& paths) {
  std::string out;
  for (const auto& path : paths) out += (out.empty() ? "" : " ") + path;
  return out;
}

std::string describe(const ChangeList& changes) {
  std::string out;
  for (const auto& [path, kind] : changes) {
    out += path + ":" + std::string(to_string(kind)) + " ";
  }
  return out;
}

void write_raw(const std::filesystem::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  RC_ASSERT(!out.fail());
}

void set_times(const std::filesystem::path& path, timespec atime, timespec mtime) {
  const timespec times[2] = {atime, mtime};
  RC_ASSERT(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

// Totals over every case, for the coverage report at the end.
struct Coverage {
  std::size_t steps = 0;
  std::size_t steps_reusing = 0;         // listings_reused > 0
  std::size_t steps_definite = 0;        // the model required reuse
  std::size_t reused = 0;                // sum of listings_reused
  std::size_t possible = 0;              // sum of the model's upper bound
  std::size_t hidden_in_reused = 0;      // hidden entry change in a directory reused last scan
  std::size_t rename_across_reused = 0;  // rename into/out of a directory reused last scan
  std::size_t gitignore_edits = 0;       // .gitignore created or rewritten
  std::size_t gitignore_in_place = 0;    // rewritten in place (its directory's stat unchanged)
  std::size_t dir_to_file = 0;           // a directory replaced by a file of the same name
  std::size_t dir_renames = 0;
  // The first failure seen: a timing-dependent one may not survive shrinking.
  std::string first_failure;
};

// The tree on disk, its model, and when each path last changed in a way its stat shows.
class World {
 public:
  World(std::filesystem::path root, Coverage& coverage)
      : m_root(std::move(root)), m_coverage(coverage) {}

  const Tree& tree() const { return m_tree; }
  std::filesystem::path abs(const std::string& path) const { return m_root / path; }

  std::vector<std::string> dirs(bool with_root) const {
    std::vector<std::string> out;
    if (with_root) out.emplace_back();
    for (const auto& [path, node] : m_tree) {
      if (node.directory) out.push_back(path);
    }
    return out;
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& [path, node] : m_tree) {
      if (!node.directory) out.push_back(path);
    }
    return out;
  }
  bool is_dir(const std::string& path) const {
    if (path.empty()) return true;
    const auto it = m_tree.find(path);
    return it != m_tree.end() && it->second.directory;
  }
  // The last time `path` changed in a way its stat (or its absence) shows; 0: never.
  std::int64_t last_change(const std::string& path) const {
    const auto it = m_changed.find(path);
    return it == m_changed.end() ? 0 : it->second;
  }
  // Directories reused by the previous scan, as far as the model could tell for sure.
  std::set<std::string>& reused_last() { return m_reused_last; }
  // Its mtime is in the future: racy at every scan (for a .gitignore: voids reuse below it).
  bool future_mtime(const std::string& path) const { return m_future.contains(path); }
  void start_counting() { m_counting = true; }

  void write_file(const std::string& path, const std::string& content) {
    if (!is_dir(parent_of(path)) || is_dir(path)) return;
    const bool existed = m_tree.contains(path);
    if (existed) {  // chmod'ed read-only earlier (harmless as root, but be explicit)
      std::filesystem::permissions(abs(path), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add);
    }
    write_raw(abs(path), content);
    m_future.erase(path);
    const std::uint64_t id = existed ? m_tree[path].id : ++m_last_id;
    m_tree[path] = Node{false, content, id};
    mark(path);
    if (!existed) mark(parent_of(path));
  }
  void make_dir(const std::string& path) {
    if (!is_dir(parent_of(path)) || m_tree.contains(path)) return;
    RC_ASSERT(std::filesystem::create_directory(abs(path)));
    m_tree[path] = Node{true, {}, ++m_last_id};
    mark(path);
    mark(parent_of(path));
  }
  // Removes a file or a whole directory.
  void remove(const std::string& path) {
    if (!m_tree.contains(path)) return;
    const std::vector<std::string> gone = subtree(path);
    std::filesystem::remove_all(abs(path));
    for (const auto& p : gone) {
      m_tree.erase(p);
      m_future.erase(p);
      mark(p);
    }
    mark(parent_of(path));
  }
  void rename(const std::string& from, const std::string& to) {
    if (!m_tree.contains(from) || m_tree.contains(to) || !is_dir(parent_of(to)) || to == from ||
        inside(to, from)) {
      return;
    }
    const std::vector<std::string> moved = subtree(from);
    std::filesystem::rename(abs(from), abs(to));
    if (m_reused_last.contains(parent_of(from)) || m_reused_last.contains(parent_of(to))) {
      ++m_coverage.rename_across_reused;
    }
    if (is_dir(from)) ++m_coverage.dir_renames;
    // The moved inodes keep their ids and, below `to`, their stats and when those last
    // changed: only `to` itself (ctime) and both parents change.
    for (const auto& p : moved) {
      const std::string target = to + p.substr(from.size());
      m_tree[target] = m_tree[p];
      m_tree.erase(p);
      if (m_future.erase(p) != 0) m_future.insert(target);
      m_changed[target] = last_change(p);
      mark(p);
    }
    mark(to);
    mark(parent_of(from));
    mark(parent_of(to));
  }
  void touch(const std::string& path, std::int64_t seconds, long nanos) {
    if (!m_tree.contains(path)) return;
    set_times(abs(path), {seconds, nanos}, {seconds, nanos});
    if (seconds * 1'000'000'000 + nanos > wall_ns()) {
      m_future.insert(path);
    } else {
      m_future.erase(path);
    }
    mark(path);
  }
  void chmod(const std::string& path, bool narrow) {
    if (!m_tree.contains(path)) return;
    using std::filesystem::perms;
    const bool dir = is_dir(path);
    std::filesystem::permissions(abs(path), dir ? (narrow ? perms::owner_all : perms(0755))
                                                : (narrow ? perms::owner_read : perms(0644)));
    mark(path);
  }
  // Same size, first byte changed, mtime put back: only ctime tells.
  void same_size_edit(const std::string& path) {
    const auto it = m_tree.find(path);
    if (it == m_tree.end() || it->second.directory || it->second.content.empty()) return;
    struct stat st {};
    RC_ASSERT(::stat(abs(path).c_str(), &st) == 0);
    std::string content = it->second.content;
    content[0] = static_cast<char>(content[0] ^ 0x55);
    const bool future = m_future.contains(path);
    write_file(path, content);
    set_times(abs(path), st.st_atim, st.st_mtim);
    if (future) m_future.insert(path);
    mark(path);
  }
  // An entry change in `dir`, after which dir's atime and mtime are put back (ctime moves).
  void hidden_change(const std::string& dir, int kind, const std::string& name,
                     const std::string& content) {
    if (dir.empty() || !is_dir(dir)) return;
    struct stat st {};
    RC_ASSERT(::stat(abs(dir).c_str(), &st) == 0);
    const std::string path = join(dir, name);
    std::vector<std::string> children;
    for (const auto& [p, node] : m_tree) {
      if (parent_of(p) == dir && !node.directory) children.push_back(p);
    }
    if (kind == 0) {
      if (m_tree.contains(path)) return;
      write_file(path, content);
    } else if (children.empty()) {
      return;
    } else if (kind == 1) {
      remove(children.front());
    } else {
      if (m_tree.contains(path)) return;
      rename(children.back(), path);
    }
    set_times(abs(dir), st.st_atim, st.st_mtim);
    mark(dir);
    if (m_reused_last.contains(dir)) ++m_coverage.hidden_in_reused;
  }
  void write_gitignore(const std::string& dir, const std::string& content) {
    const std::string path = join(dir, ".gitignore");
    if (!is_dir(dir) || is_dir(path)) return;
    if (m_counting) {
      if (m_tree.contains(path)) ++m_coverage.gitignore_in_place;
      ++m_coverage.gitignore_edits;
    }
    write_file(path, content);
  }
  void dir_to_file(const std::string& dir, const std::string& content) {
    if (dir.empty() || !is_dir(dir)) return;
    remove(dir);
    write_file(dir, content);
    if (m_counting) ++m_coverage.dir_to_file;
  }
  void file_to_dir(const std::string& file) {
    const auto it = m_tree.find(file);
    if (it == m_tree.end() || it->second.directory) return;
    remove(file);
    make_dir(file);
  }

 private:
  std::vector<std::string> subtree(const std::string& path) const {
    std::vector<std::string> out{path};
    for (auto it = m_tree.upper_bound(path); it != m_tree.end(); ++it) {
      if (inside(it->first, path)) out.push_back(it->first);
    }
    return out;
  }
  void mark(const std::string& path) { m_changed[path] = wall_ns(); }

  std::filesystem::path m_root;
  Coverage& m_coverage;
  Tree m_tree;
  std::map<std::string, std::int64_t> m_changed;
  std::set<std::string> m_reused_last;
  std::set<std::string> m_future;
  std::uint64_t m_last_id = 0;
  bool m_counting = false;  // coverage counts the steps' operations, not the starting tree
};

// Directories the next scan must (definite) and may (possible) reuse: visible now and at the
// previous scan as the same inode, non-root, and neither they nor a .gitignore at or above
// them changed (or were replaced) since `before_previous` (for `definite`: since
// before_previous - margin, so their recorded stats are outside the racy window).
struct ReusePrediction {
  std::set<std::string> definite;
  std::set<std::string> possible;
};
ReusePrediction predict_reuse(const World& world, const Tree& now, const Tree& previous,
                              std::int64_t before_previous, std::int64_t margin) {
  ReusePrediction out;
  for (const auto& [dir, node] : now) {
    if (!node.directory) continue;
    const auto was = previous.find(dir);
    if (was == previous.end() || !was->second.directory || was->second.id != node.id) continue;
    std::vector<std::string> rule_dirs = proper_ancestors(dir);
    rule_dirs.push_back(dir);
    std::int64_t newest = world.last_change(dir);
    bool same_rules = true;
    for (const std::string& base : rule_dirs) {
      const std::string gitignore = join(base, ".gitignore");
      const auto then = previous.find(gitignore);
      const auto it = now.find(gitignore);
      same_rules = same_rules && (then == previous.end()) == (it == now.end()) &&
                   (it == now.end() || it->second.id == then->second.id) &&
                   !world.future_mtime(gitignore);
      // One absent then and now is no rule, however often it came and went in between.
      if (it != now.end()) newest = std::max(newest, world.last_change(gitignore));
    }
    if (!same_rules) continue;
    if (newest < before_previous) out.possible.insert(dir);
    if (newest < before_previous - margin) out.definite.insert(dir);
  }
  return out;
}

// A uniform pick in [min, max): rc::gen::inRange scales its range with the case's size,
// which would leave the first cases with tiny trees, few steps and creations only.
template <typename T>
T pick(T min, T max) {
  return *rc::gen::resize(100, rc::gen::inRange<T>(min, max));
}

// Every name but "d" and "e" is matched by some pattern.
const std::vector<std::string> k_names = {"n0", "n1", "n2", "x.t", "y.t", "d", "e"};
const std::vector<std::string> k_patterns = {"n1", "n2/", "*.t", "!x.t", "!n1", "n0/", "# note"};

std::string gen_content() {
  return *rc::gen::oneOf(rc::gen::arbitrary<std::string>(),
                         rc::gen::container<std::string>(rc::gen::inRange('a', 'e')));
}

std::string gen_gitignore() {
  const int lines = pick(1, 4);
  std::string content;
  for (int i = 0; i < lines; ++i) content += *rc::gen::elementOf(k_patterns) + "\n";
  return content;
}

// One random operation on the world.
void random_operation(World& world) {
  const auto dirs = world.dirs(true);
  const auto subdirs = world.dirs(false);
  const auto files = world.files();
  // Half the time the tricky operations aim at a directory the last scan reused.
  std::vector<std::string> reused;
  for (const auto& d : world.reused_last()) {
    if (world.is_dir(d)) reused.push_back(d);
  }
  const auto some_dir = [&](const std::vector<std::string>& pool) {
    return !reused.empty() && *rc::gen::arbitrary<bool>() ? *rc::gen::elementOf(reused)
                                                          : *rc::gen::elementOf(pool);
  };
  const std::string dir = some_dir(dirs);
  const std::string fresh = join(dir, *rc::gen::elementOf(k_names));
  switch (pick(0, 20)) {
    case 0:
    case 1: world.write_file(fresh, gen_content()); break;
    case 2:
    case 17:
    case 18: world.make_dir(fresh); break;
    case 3:
      if (!files.empty()) world.remove(*rc::gen::elementOf(files));
      break;
    case 4:
      if (!subdirs.empty()) world.remove(*rc::gen::elementOf(subdirs));
      break;
    case 5:
      if (!files.empty()) world.rename(*rc::gen::elementOf(files), fresh);
      break;
    case 6:
      if (!subdirs.empty()) world.rename(some_dir(subdirs), fresh);
      break;
    case 7:  // touch-only: files anywhere in time, directories into the past
      if (!files.empty()) {
        world.touch(*rc::gen::elementOf(files), pick<std::int64_t>(1, 2'000'000'000),
                    pick(0, 1'000'000'000));
      }
      break;
    case 8:
      if (!subdirs.empty()) {
        world.touch(*rc::gen::elementOf(subdirs), pick<std::int64_t>(1'000'000'000, 1'700'000'000),
                    0);
      }
      break;
    case 9: {
      const auto& pool = *rc::gen::arbitrary<bool>() || subdirs.empty() ? files : subdirs;
      if (!pool.empty()) world.chmod(*rc::gen::elementOf(pool), *rc::gen::arbitrary<bool>());
      break;
    }
    case 10:
      if (!files.empty()) world.same_size_edit(*rc::gen::elementOf(files));
      break;
    case 11:
    case 12:
      if (!subdirs.empty()) {
        world.hidden_change(some_dir(subdirs), pick(0, 3), *rc::gen::elementOf(k_names),
                            gen_content());
      }
      break;
    case 13:
    case 14:  // the root's rules void reuse everywhere: a quarter of the time only
      world.write_gitignore(subdirs.empty() || pick(0, 4) == 0 ? "" : some_dir(subdirs),
                            gen_gitignore());
      break;
    case 15:
      if (!subdirs.empty()) world.dir_to_file(some_dir(subdirs), gen_content());
      break;
    default:
      if (!files.empty()) world.file_to_dir(*rc::gen::elementOf(files));
      break;
  }
}

TEST(ScannerListingReuseModel, ReusedListingsReportExactlyTheModelsChanges) {
  const std::int64_t margin = test_racy_margin_ns();
  const int steps_limit = max_steps();
  Coverage coverage;
  const auto started = std::chrono::steady_clock::now();
  const bool passed = rc::check("reused listings never hide a change", [&] {
    test::TempDir dir;
    std::filesystem::create_directories(dir / "tree");
    auto index = FileIndex::open(dir / "index");
    RC_ASSERT(index.has_value());
    auto io = io::create_fallback_io({}, nullptr);
    Scanner scanner(dir / "tree", *index, *io);
    ScanOptions options;
    options.racy_margin_ns = margin;
    World world(dir / "tree", coverage);
    auto check = [&](bool ok, const std::string& what) {
      if (ok) return;
      if (coverage.first_failure.empty()) coverage.first_failure = what;
      RC_FAIL(what);
    };
    auto wait_out_margin = [&] {
      std::this_thread::sleep_for(std::chrono::nanoseconds(margin + 1'000'000));
    };

    // A starting tree, aged past the racy window before the first scan records it.
    const int initial = pick(6, 24);
    for (int i = 0; i < initial; ++i) {
      const auto dirs = world.dirs(true);
      const std::string parent = *rc::gen::elementOf(dirs);
      const std::string path = join(parent, *rc::gen::elementOf(k_names));
      if (pick(0, 2) == 0) {
        world.make_dir(path);
      } else if (pick(0, 6) == 0) {
        world.write_gitignore(parent, gen_gitignore());
      } else {
        world.write_file(path, gen_content());
      }
    }
    world.start_counting();
    wait_out_margin();
    Tree seen = visible(world.tree());
    std::int64_t before_previous = wall_ns();
    auto first = scanner.scan(options);
    check(first.has_value() && first->errors.empty(), "first scan failed");
    check(as_map(*first) == expected_changes({}, seen), "first scan: reported " +
                                                            describe(as_map(*first)) + "expected " +
                                                            describe(expected_changes({}, seen)));
    std::string cursor = first->cursor;

    const int steps = pick(1, steps_limit + 1);
    for (int step = 0; step < steps; ++step) {
      const int operations = pick(1, 4);
      for (int i = 0; i < operations; ++i) random_operation(world);
      const Tree now = visible(world.tree());
      const ReusePrediction reuse = predict_reuse(world, now, seen, before_previous, margin);
      const ChangeList expected = expected_changes(seen, now);
      if (*rc::gen::arbitrary<bool>()) wait_out_margin();

      before_previous = wall_ns();
      auto result = scanner.scan(options);
      const std::string at = "step " + std::to_string(step) + ": ";
      check(result.has_value() && result->errors.empty(), at + "scan failed");
      const ChangeList reported = as_map(*result);
      check(reported == expected,
            at + "reported " + describe(reported) + "expected " + describe(expected) +
                "(listings reused: " + std::to_string(result->listings_reused) + ")");
      check(result->entries == now.size(), at + std::to_string(result->entries) + " entries, " +
                                               std::to_string(now.size()) + " visible");
      check(result->listings_reused >= reuse.definite.size() &&
                result->listings_reused <= reuse.possible.size(),
            at + "listings reused: " + std::to_string(result->listings_reused) +
                ", model: at least " + std::to_string(reuse.definite.size()) + ", at most " +
                std::to_string(reuse.possible.size()) + " (" + describe(reuse.possible) + ")");
      auto since = scanner.since(cursor);
      check(since.has_value() && !since->fresh_instance, at + "since() failed");
      check(as_map(*since) == expected,
            at + "since() reported " + describe(as_map(*since)) + "expected " + describe(expected));

      ++coverage.steps;
      coverage.reused += result->listings_reused;
      coverage.possible += reuse.possible.size();
      if (result->listings_reused > 0) ++coverage.steps_reusing;
      if (!reuse.definite.empty()) ++coverage.steps_definite;
      world.reused_last() = reuse.definite;
      seen = now;
      cursor = result->cursor;
    }
  });
  EXPECT_TRUE(passed) << "first failure: " << coverage.first_failure;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double share =
      coverage.steps == 0 ? 0.0 : static_cast<double>(coverage.steps_reusing) / coverage.steps;
  std::cout << "listing-reuse model: " << coverage.steps << " steps in " << seconds
            << " s (racy margin " << margin / 1'000'000.0 << " ms); listings reused in "
            << coverage.steps_reusing << " steps (" << static_cast<int>(share * 100)
            << "%), required by the model in " << coverage.steps_definite << "; " << coverage.reused
            << " of " << coverage.possible
            << " possible directory listings reused; hidden entry changes in reused "
               "directories: "
            << coverage.hidden_in_reused
            << "; renames across reused directories: " << coverage.rename_across_reused
            << "; directory renames: " << coverage.dir_renames
            << "; .gitignore writes: " << coverage.gitignore_edits << " ("
            << coverage.gitignore_in_place
            << " in place); directories replaced by files: " << coverage.dir_to_file << "\n";
  if (passed) {
    // Reuse must really be in play (60-70% of steps with the defaults), and the tricky cases
    // must have met reused directories (typically 20+ times each; a run cut down
    // with RC_PARAMS or FORGE_SCAN_MODEL_MAX_STEPS checks the share only).
    EXPECT_GE(share, 0.4);
    if (coverage.steps < 400) return;
    EXPECT_GT(coverage.hidden_in_reused, 0u);
    EXPECT_GT(coverage.rename_across_reused, 0u);
    EXPECT_GT(coverage.gitignore_in_place, 0u);
    EXPECT_GT(coverage.dir_to_file, 0u);
  }
}

}  // namespace
}  // namespace forge::scan
