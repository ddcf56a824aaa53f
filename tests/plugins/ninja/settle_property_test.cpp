// Model-based property of settle + ninja + record on a small real Ninja project whose
// commands are `cat` (fast, no compiler): random touch / edit / revert / add-an-include /
// delete-output steps, each followed by settle, `ninja -v`, record. After every step every
// output equals what a clean build from scratch produces, and every edge that ran had a
// reason: an input whose content changed since the edge's last run, a missing output, or
// an input rebuilt in the same run.
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "forge/core/io/backend_selector.h"
#include "forge/ninja/manifest.h"
#include "forge/ninja/settle.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge::ninja {
namespace {

// Sources s0..s2, headers h and e; x_i = cat s_i h [e if s_i has the line "#include e"], its
// depfile lists what it read; all = cat x0 x1 x2. Both rules are restat rules.
constexpr int k_sources = 3;
constexpr const char* k_include = "#include e\n";

std::string manifest() {
  std::string text =
      "rule cc\n  command = cat $in h $$(sed -n 's/^#include //p' $in) > $out && printf "
      "'%s: %s h %s\\n' $out $in \"$$(sed -n 's/^#include //p' $in)\" > $out.d\n"
      "  depfile = $out.d\n  deps = gcc\n  restat = 1\n"
      "rule join\n  command = cat $in > $out\n  restat = 1\n";
  for (int i = 0; i < k_sources; ++i) {
    text += "build x" + std::to_string(i) + ": cc s" + std::to_string(i) + "\n";
  }
  text += "build all: join x0 x1 x2\n";
  return text;
}

struct Model {
  std::map<std::string, std::string> files;  // s0..s2, h, e
  std::string x(int i) const {
    const std::string& source = files.at("s" + std::to_string(i));
    return source + files.at("h") +
           (source.find(k_include) != std::string::npos ? files.at("e") : "");
  }
};

RC_GTEST_PROP(SettleProperty, OutputsMatchACleanBuildAndOnlyChangedEdgesRun, ()) {
  test::TempDir dir;
  auto io = io::create_platform_io(support::IoConfig{});
  RC_ASSERT(io.has_value());
  dir.write_file("build.ninja", manifest());
  Model model;
  for (int i = 0; i < k_sources; ++i)
    model.files["s" + std::to_string(i)] = "s" + std::to_string(i) + "\n";
  model.files["h"] = "h\n";
  model.files["e"] = "e\n";
  for (const auto& [name, content] : model.files) dir.write_file(name, content);
  const std::string ninja = "ninja -C " + test::shell_quote(dir.path().string());
  RC_ASSERT(test::run_shell(ninja).exit_code == 0);
  RecordOptions record_options{dir.path(), 0, 0};
  RC_ASSERT(record(**io, record_options).has_value());
  // Content of every input of x_i at its last run, to judge which runs had a reason.
  std::map<std::string, std::string> built;
  for (int i = 0; i < k_sources; ++i) built["x" + std::to_string(i)] = model.x(i);

  const int steps = *rc::gen::inRange(1, 4);
  for (int step = 0; step < steps; ++step) {
    const int kind = *rc::gen::inRange(0, 6);
    const int i = *rc::gen::inRange(0, k_sources);
    const std::string source = "s" + std::to_string(i);
    std::set<std::string> deleted;
    test::run_shell("sleep 0.002");
    switch (kind) {
      case 0:  // touch everything
        test::run_shell("cd " + test::shell_quote(dir.path().string()) + " && touch s0 s1 s2 h e");
        break;
      case 1:  // edit a source
        model.files[source] += "edit\n";
        dir.write_file(source, model.files[source]);
        break;
      case 2:  // revert a source to its original content (rewritten: new mtime)
        model.files[source] = source + "\n";
        dir.write_file(source, model.files[source]);
        break;
      case 3:  // add an include of e (the deps change with the content)
        if (model.files[source].find(k_include) == std::string::npos)
          model.files[source] += k_include;
        dir.write_file(source, model.files[source]);
        break;
      case 4: {  // edit a header
        const std::string header = *rc::gen::element<std::string>("h", "e");
        model.files[header] += "edit\n";
        dir.write_file(header, model.files[header]);
        break;
      }
      default:  // delete an output
        std::filesystem::remove(dir / ("x" + std::to_string(i)));
        deleted.insert("x" + std::to_string(i));
        break;
    }
    SettleOptions settle_options;
    settle_options.dir = dir.path();
    settle_options.racy_margin_ns = 0;
    RC_ASSERT(settle(**io, settle_options).has_value());
    const auto run = test::run_shell(ninja + " -v");
    RC_ASSERT(run.exit_code == 0);
    RC_ASSERT(record(**io, record_options).has_value());

    std::set<std::string> ran;
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);) {
      for (int j = 0; j < k_sources; ++j) {
        if (line.find("> x" + std::to_string(j) + " ") != std::string::npos)
          ran.insert("x" + std::to_string(j));
      }
      if (line.find("> all") != std::string::npos) ran.insert("all");
    }
    std::string all;
    bool x_changed = false;
    for (int j = 0; j < k_sources; ++j) {
      const std::string x = "x" + std::to_string(j);
      const std::string expected = model.x(j);
      RC_ASSERT(dir.read_file(x) == expected);  // what a clean build produces
      const bool had_reason = built[x] != expected || deleted.contains(x);
      if (ran.contains(x)) RC_ASSERT(had_reason);
      if (had_reason) RC_ASSERT(ran.contains(x));
      x_changed = x_changed || built[x] != expected;
      built[x] = expected;
      all += expected;
    }
    RC_ASSERT(dir.read_file("all") == all);
    if (ran.contains("all")) {  // an input was rebuilt in this run
      RC_ASSERT(ran.contains("x0") || ran.contains("x1") || ran.contains("x2"));
    }
    RC_ASSERT(x_changed == false || ran.contains("all"));
  }
}

}  // namespace
}  // namespace forge::ninja
