#pragma once
// The binary encoding of a Model, for the model cache (model_cache.h). Not a format for
// other programs: it exists so that a cached model loads in milliseconds instead of
// re-reading thousands of reply files and re-running ninja and ctest.
//
// Layout (integers little-endian, store/encoding.h):
//   string  : u32 length, bytes
//   strings : u32 count, count x string
//   index   : u64 (a position in Model::targets)
//   Model   : string source_dir, build_dir, generator; u8 multi_config; string config,
//             cmake_version; u32 n, n x Target; u32 n, n x Test; strings cmake_inputs;
//             u32 n, n x Toolchain (4 strings); u8 headers_exact; strings notes
//   Target  : string id, name, type, source_dir, build_dir; u32 n, n x Source;
//             u32 n, n x CompileGroup; strings artifacts, link_libraries, link_flags;
//             u32 n, n x index dependencies; strings headers; u8 headers_known
//   Source  : string path; u8 has_group, [index group]; u8 generated
//   CompileGroup : string language; strings fragments, defines, includes, system_includes;
//             string sysroot
//   Test    : string name; strings command; string working_directory; strings labels;
//             u8 has_target, [index target]
// k_model_format_version names this layout: change the layout, bump it (a cached model of
// another version is a miss, never misread). Model::from_cache is not encoded.
//
// Thread-safe (pure functions). decode_model fails with a validation error on bytes that
// do not decode (truncated, trailing bytes, an index out of range); it never reads past
// the input.

#include <cstdint>
#include <string>
#include <string_view>

#include "forge/cmake/model.h"
#include "forge/core/support/error.h"

namespace forge::cmake {

inline constexpr std::uint32_t k_model_format_version = 1;
static_assert(k_model_format_version == 1,
              "bump k_model_format_version when the Model layout above or its fields change");

std::string encode_model(const Model& model);
Result<Model> decode_model(std::string_view bytes);

}  // namespace forge::cmake
