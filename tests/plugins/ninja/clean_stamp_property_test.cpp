// A rapidcheck property of the clean stamp (clean_stamp.h) with the real ninja: after any
// random sequence of touches, edits (also edits that keep the old mtime, the racy case),
// reverts, manifest rewrites, command changes, deleted outputs and `forge ninja` cycles, a
// stamp that still holds never hides work: the full settle (stamp ignored) would make
// nothing clean, and Ninja's own dry run runs only what a missing output forces.
#include <fcntl.h>
#include <sys/stat.h>

#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "forge/core/io/backend_selector.h"
#include "forge/core/support/clock.h"
#include "forge/ninja/clean_stamp.h"
#include "forge/ninja/settle.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"
#include "tiny_project.h"

namespace forge::ninja {
namespace {

std::int64_t mtime_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

void set_mtime(const std::filesystem::path& path, std::int64_t mtime_ns) {
  struct timespec times[2];
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = mtime_ns / 1'000'000'000;
  times[1].tv_nsec = mtime_ns % 1'000'000'000;
  ::utimensat(AT_FDCWD, path.c_str(), times, 0);
}

enum class Step {
  touch,
  edit,
  edit_same_mtime,
  revert,
  rewrite_manifest,
  change_command,
  delete_output,
  cycle
};

RC_GTEST_PROP(CleanStampProperty, AHoldingStampNeverHidesWorkSettleCouldDo, ()) {
  test::TempDir dir;
  auto io = io::create_platform_io(support::IoConfig{});
  RC_ASSERT(io.has_value());
  const std::string quoted = test::shell_quote(dir.path().string());
  auto ninja = [&](const std::string& args) {
    return test::run_shell("ninja -C " + quoted + " " + args);
  };
  dir.write_file("build.ninja", test::k_tiny_manifest);
  const std::map<std::string, std::string> original{
      {"a.txt", "a\n"}, {"b.txt", "b\n"}, {"hdr.h", "h\n"}};
  for (const auto& [name, content] : original) dir.write_file(name, content);
  RC_ASSERT(ninja("").exit_code == 0);
  auto cycle = [&] {
    SettleOptions settle_options;
    settle_options.dir = dir.path();
    RC_ASSERT(settle(**io, settle_options).has_value());
    RC_ASSERT(ninja("").exit_code == 0);
    RecordOptions record_options;
    record_options.dir = dir.path();
    record_options.racy_margin_ns = 0;  // stamp even what was written just now
    RC_ASSERT(record(**io, record_options).has_value());
  };
  {
    RecordOptions record_options;
    record_options.dir = dir.path();
    record_options.racy_margin_ns = 0;
    RC_ASSERT(record(**io, record_options).has_value());
  }

  bool command_changed = false;
  const auto steps = *rc::gen::container<std::vector<Step>>(
      *rc::gen::inRange(1, 4),
      rc::gen::element(Step::touch, Step::edit, Step::edit_same_mtime, Step::revert,
                       Step::rewrite_manifest, Step::change_command, Step::delete_output,
                       Step::cycle));
  for (const Step step : steps) {
    const std::string file = *rc::gen::element<std::string>("a.txt", "b.txt", "hdr.h");
    const auto path = dir / file;
    switch (step) {
      case Step::touch:
        set_mtime(path, now_ns() + *rc::gen::inRange(1, 5) * 1'000'000'000LL);
        break;
      case Step::edit: dir.write_file(file, "edited " + file + "\n"); break;
      case Step::edit_same_mtime: {
        const std::int64_t before = mtime_of(path);
        dir.write_file(file, "quiet " + file + "\n");
        set_mtime(path, before);
        break;
      }
      case Step::revert: dir.write_file(file, original.at(file)); break;
      case Step::rewrite_manifest: {
        std::string manifest = test::k_tiny_manifest;
        if (command_changed)
          manifest.replace(manifest.find("cat $in > $out"), 14, "cat $in  > $out");
        dir.write_file("build.ninja", manifest);
        break;
      }
      case Step::change_command: {
        std::string manifest = test::k_tiny_manifest;
        manifest.replace(manifest.find("cat $in > $out"), 14, "cat $in  > $out");
        dir.write_file("build.ninja", manifest);
        command_changed = true;
        break;
      }
      case Step::delete_output:
        std::filesystem::remove(dir / *rc::gen::element<std::string>("a.out", "b.out", "all.out"));
        break;
      case Step::cycle: cycle(); break;
    }
  }
  if (!clean_stamp_edges(dir.path())) return;  // the full settle runs: settle_test's domain
  SettleOptions full;
  full.dir = dir.path();
  full.dry_run = true;
  full.use_clean_stamp = false;
  auto report = settle(**io, full);
  RC_ASSERT(report.has_value());
  RC_ASSERT(report->settled == 0u);  // nothing the skipped settle could have made clean
  for (const auto& edge : report->report) {
    // Whatever Ninja runs now, a missing output (or one that will be rebuilt) forces.
    RC_ASSERT(edge.blocker.find("missing") != std::string::npos ||
              edge.blocker == "an input will be rebuilt" ||
              edge.reason.find("doesn't exist") != std::string::npos);
  }
}

}  // namespace
}  // namespace forge::ninja
