#include "forge/cmake/loader.h"

#include <fmt/format.h>

#include "forge/cmake/codemodel.h"
#include "forge/cmake/ctest_tests.h"
#include "forge/cmake/file_api.h"
#include "forge/cmake/header_deps.h"
#include "forge/cmake/process.h"

namespace forge::cmake {
namespace fs = std::filesystem;

Result<Model> load_model(const LoadOptions& options) {
  std::error_code ec;
  fs::path build_dir = fs::absolute(options.build_dir, ec).lexically_normal();
  if (build_dir.has_filename() == false) build_dir = build_dir.parent_path();
  if (fs::is_directory(build_dir, ec) && fs::exists(build_dir / "CMakeCache.txt", ec)) {
    FORGE_TRY_VOID(write_query(build_dir));
  }
  FORGE_TRY(auto reply, read_reply(build_dir));
  FORGE_TRY(auto model, read_codemodel(reply, options.config));
  FORGE_TRY_VOID(read_cmake_files(reply, model));
  FORGE_TRY_VOID(read_toolchains(reply, model));
  if (options.header_deps) FORGE_TRY_VOID(read_header_deps(model));
  if (options.tests) FORGE_TRY_VOID(read_tests(model, reply.ctest));
  return model;
}

Result<void> reconfigure(const fs::path& build_dir) {
  FORGE_TRY(auto output, run_program({"cmake", build_dir.string()}, build_dir));
  if (output.exit_code != 0) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("cmake failed to re-configure {} (exit {}):\n{}{}",
                                  build_dir.string(), output.exit_code, output.out, output.err))
                    .with_file(build_dir.string())
                    .with_suggestion("fix the CMake error above, then run forge again"));
  }
  return ok();
}

}  // namespace forge::cmake
