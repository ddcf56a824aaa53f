#pragma once
// A small CMake project written by the tests and configured with the real cmake (Ninja
// generator): an INTERFACE library (iface), an OBJECT library (objs), static libraries
// (core, util), executables (app with a generated source, solo), a configure_file header
// and two add_test tests. Shared by the forge_cmake unit tests and the integration tests.
//
//   iface (INTERFACE, header iface/include/iface/iface.h) <- core, solo
//   objs (OBJECT, core/src/obj.cc)        -> objects archived into core
//   core (STATIC: core/src/core.cc, private.h; includes generated/version.h from version.h.in)
//   util (STATIC: util.cc) PUBLIC core
//   app  (EXECUTABLE: app/main.cc, gen.cc generated from gen/gen.cc.in) links util
//   solo (EXECUTABLE: solo.cc) uses iface
//   tests: app_runs (app), solo_runs (solo)

#include <filesystem>
#include <string>

namespace forge::test {

// Writes the project's sources into `source_dir`.
void write_demo_project(const std::filesystem::path& source_dir);

// `cmake -S source -B build -G generator` (with forge's query written first when
// `with_query`); returns cmake's exit code, its output in `log`.
int configure(const std::filesystem::path& source_dir, const std::filesystem::path& build_dir,
              std::string* log = nullptr, const std::string& generator = "Ninja",
              bool with_query = true);

// `cmake --build build -j2`; returns the exit code.
int build(const std::filesystem::path& build_dir, std::string* log = nullptr);

}  // namespace forge::test
