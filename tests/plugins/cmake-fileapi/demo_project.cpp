#include "demo_project.h"

#include <fstream>

#include "forge/cmake/file_api.h"
#include "forge/test/process.h"

namespace forge::test {
namespace {

void put(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

}  // namespace

void write_demo_project(const std::filesystem::path& s) {
  put(s / "CMakeLists.txt", R"(cmake_minimum_required(VERSION 3.20)
project(demo CXX)
enable_testing()
configure_file(version.h.in ${CMAKE_BINARY_DIR}/generated/version.h)
add_library(iface INTERFACE)
target_include_directories(iface INTERFACE iface/include)
add_library(objs OBJECT core/src/obj.cc)
target_include_directories(objs PUBLIC core/include)
add_library(core STATIC core/src/core.cc core/src/private.h)
target_include_directories(core PUBLIC core/include PRIVATE ${CMAKE_BINARY_DIR}/generated)
target_link_libraries(core PUBLIC iface PRIVATE objs)
add_library(util STATIC util.cc)
target_link_libraries(util PUBLIC core)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/gen.cc
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/gen/gen.cc.in ${CMAKE_BINARY_DIR}/gen.cc
  MAIN_DEPENDENCY gen/gen.cc.in)
add_executable(app app/main.cc ${CMAKE_BINARY_DIR}/gen.cc)
target_link_libraries(app PRIVATE util)
add_executable(solo solo.cc)
target_link_libraries(solo PRIVATE iface)
add_test(NAME app_runs COMMAND app)
add_test(NAME solo_runs COMMAND solo)
)");
  put(s / "version.h.in", "#define VERSION 1\n");
  put(s / "iface/include/iface/iface.h", "inline int iface_value() { return 1; }\n");
  put(s / "core/include/core/core.h", "int core_value();\n");
  put(s / "core/src/private.h", "inline int private_value() { return 2; }\n");
  put(s / "core/src/obj.cc", "#include \"core/core.h\"\nint obj_value() { return 3; }\n");
  put(s / "core/src/core.cc",
      "#include \"core/core.h\"\n#include \"private.h\"\n#include \"version.h\"\n"
      "#include \"iface/iface.h\"\nint obj_value();\n"
      "int core_value() { return private_value() + iface_value() + obj_value() + VERSION; }\n");
  put(s / "util.cc", "#include \"core/core.h\"\nint util_value() { return core_value(); }\n");
  put(s / "app/main.cc",
      "int util_value();\nint gen_value();\n"
      "int main() { return util_value() + gen_value() > 0 ? 0 : 1; }\n");
  put(s / "gen/gen.cc.in", "int gen_value() { return 4; }\n");
  put(s / "solo.cc",
      "#include \"iface/iface.h\"\nint main() { return iface_value() == 1 ? 0 : 1; }\n");
}

int configure(const std::filesystem::path& source_dir, const std::filesystem::path& build_dir,
              std::string* log, const std::string& generator, bool with_query) {
  std::filesystem::create_directories(build_dir);
  if (with_query && !cmake::write_query(build_dir)) return -1;
  const auto result =
      run_shell("cmake -S " + shell_quote(source_dir.string()) + " -B " +
                shell_quote(build_dir.string()) + " -G " + shell_quote(generator) + " 2>&1");
  if (log) *log = result.out;
  return result.exit_code;
}

int build(const std::filesystem::path& build_dir, std::string* log) {
  const auto result = run_shell("cmake --build " + shell_quote(build_dir.string()) + " -j2 2>&1");
  if (log) *log = result.out;
  return result.exit_code;
}

}  // namespace forge::test
