#include "forge/cmake/model_codec.h"

#include "forge/core/store/byte_reader.h"
#include "forge/core/store/encoding.h"

namespace forge::cmake {
namespace {

// Appends the encoding of one field at a time.
class Writer {
 public:
  void u8(bool value) { m_out.push_back(value ? '\1' : '\0'); }
  void u32(std::size_t value) {
    store::put_le<std::uint32_t>(m_out, static_cast<std::uint32_t>(value));
  }
  void u64(std::size_t value) { store::put_le<std::uint64_t>(m_out, value); }
  void str(const std::string& value) {
    u32(value.size());
    m_out += value;
  }
  void strs(const std::vector<std::string>& values) {
    u32(values.size());
    for (const auto& value : values) str(value);
  }
  void index(const std::optional<std::size_t>& value) {
    u8(value.has_value());
    if (value) u64(*value);
  }
  std::string take() { return std::move(m_out); }

 private:
  std::string m_out;
};

// Reads fields back in the Writer's shapes over a bounds-checked store::ByteReader: the first
// short read sets failed() and every later read yields zero.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : m_in(bytes) {}
  bool failed() const { return !m_in.ok(); }
  bool at_end() const { return m_in.at_end(); }

  bool u8() { return m_in.number<std::uint8_t>() != 0; }
  std::uint64_t u64() { return m_in.number<std::uint64_t>(); }
  std::string str() { return std::string(m_in.str32()); }
  std::vector<std::string> strs() {
    std::vector<std::string> out(count());
    for (auto& value : out) value = str();
    return out;
  }
  std::optional<std::size_t> index() {
    if (!u8()) return std::nullopt;
    return static_cast<std::size_t>(u64());
  }
  // An element count; every element takes at least one byte (store::ByteReader::count).
  std::size_t count() { return m_in.count(); }

 private:
  store::ByteReader m_in;
};

void write_target(Writer& out, const Target& target) {
  out.str(target.id);
  out.str(target.name);
  out.str(target.type);
  out.str(target.source_dir);
  out.str(target.build_dir);
  out.u32(target.sources.size());
  for (const auto& source : target.sources) {
    out.str(source.path);
    out.index(source.compile_group);
    out.u8(source.generated);
  }
  out.u32(target.compile_groups.size());
  for (const auto& group : target.compile_groups) {
    out.str(group.language);
    out.strs(group.fragments);
    out.strs(group.defines);
    out.strs(group.includes);
    out.strs(group.system_includes);
    out.str(group.sysroot);
  }
  out.strs(target.artifacts);
  out.strs(target.link_libraries);
  out.strs(target.link_flags);
  out.u32(target.dependencies.size());
  for (std::size_t dependency : target.dependencies) out.u64(dependency);
  out.strs(target.headers);
  out.u8(target.headers_known);
}

Target read_target(Reader& in) {
  Target target;
  target.id = in.str();
  target.name = in.str();
  target.type = in.str();
  target.source_dir = in.str();
  target.build_dir = in.str();
  target.sources.resize(in.count());
  for (auto& source : target.sources) {
    source.path = in.str();
    source.compile_group = in.index();
    source.generated = in.u8();
  }
  target.compile_groups.resize(in.count());
  for (auto& group : target.compile_groups) {
    group.language = in.str();
    group.fragments = in.strs();
    group.defines = in.strs();
    group.includes = in.strs();
    group.system_includes = in.strs();
    group.sysroot = in.str();
  }
  target.artifacts = in.strs();
  target.link_libraries = in.strs();
  target.link_flags = in.strs();
  target.dependencies.resize(in.count());
  for (auto& dependency : target.dependencies) dependency = in.u64();
  target.headers = in.strs();
  target.headers_known = in.u8();
  return target;
}

// Every index points where the Model's contract says it does.
bool indices_valid(const Model& model) {
  const std::size_t n = model.targets.size();
  for (const auto& target : model.targets) {
    for (const auto& source : target.sources) {
      if (source.compile_group && *source.compile_group >= target.compile_groups.size())
        return false;
    }
    for (std::size_t dependency : target.dependencies) {
      if (dependency >= n) return false;
    }
  }
  for (const auto& test : model.tests) {
    if (test.target && *test.target >= n) return false;
  }
  return true;
}

}  // namespace

std::string encode_model(const Model& model) {
  Writer out;
  out.str(model.source_dir);
  out.str(model.build_dir);
  out.str(model.generator);
  out.u8(model.multi_config);
  out.str(model.config);
  out.str(model.cmake_version);
  out.u32(model.targets.size());
  for (const auto& target : model.targets) write_target(out, target);
  out.u32(model.tests.size());
  for (const auto& test : model.tests) {
    out.str(test.name);
    out.strs(test.command);
    out.str(test.working_directory);
    out.strs(test.labels);
    out.index(test.target);
  }
  out.strs(model.cmake_inputs);
  out.u32(model.toolchains.size());
  for (const auto& toolchain : model.toolchains) {
    out.str(toolchain.language);
    out.str(toolchain.compiler_id);
    out.str(toolchain.compiler_version);
    out.str(toolchain.compiler_path);
  }
  out.u8(model.headers_exact);
  out.strs(model.notes);
  return out.take();
}

Result<Model> decode_model(std::string_view bytes) {
  Reader in(bytes);
  Model model;
  model.source_dir = in.str();
  model.build_dir = in.str();
  model.generator = in.str();
  model.multi_config = in.u8();
  model.config = in.str();
  model.cmake_version = in.str();
  model.targets.resize(in.count());
  for (auto& target : model.targets) target = read_target(in);
  model.tests.resize(in.count());
  for (auto& test : model.tests) {
    test.name = in.str();
    test.command = in.strs();
    test.working_directory = in.str();
    test.labels = in.strs();
    test.target = in.index();
  }
  model.cmake_inputs = in.strs();
  model.toolchains.resize(in.count());
  for (auto& toolchain : model.toolchains) {
    toolchain.language = in.str();
    toolchain.compiler_id = in.str();
    toolchain.compiler_version = in.str();
    toolchain.compiler_path = in.str();
  }
  model.headers_exact = in.u8();
  model.notes = in.strs();
  if (in.failed() || !in.at_end() || !indices_valid(model)) {
    return fail(Error(ErrorCategory::validation,
                      "undecodable cached CMake model (truncated, trailing bytes or an index "
                      "out of range)")
                    .with_operation("cmake.decode_model"));
  }
  return model;
}

}  // namespace forge::cmake
