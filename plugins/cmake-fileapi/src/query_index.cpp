#include "forge/cmake/query_index.h"

#include <algorithm>

#include <fmt/format.h>

#include "forge/cmake/model_codec.h"
#include "forge/core/store/encoding.h"

namespace forge::cmake {
namespace {

std::string dir_key(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

void sort_unique(std::vector<std::uint32_t>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

void put_u32(std::string& out, std::size_t value) {
  store::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(value));
}

void put_targets(std::string& out, const std::vector<std::uint32_t>& targets) {
  put_u32(out, targets.size());
  for (const std::uint32_t t : targets) put_u32(out, t);
}

void put_dirs(std::string& out, const DirTargets& dirs) {
  put_u32(out, dirs.size());
  for (const auto& [dir, targets] : dirs) {
    put_u32(out, dir.size());
    out += dir;
    put_targets(out, targets);
  }
}

// Reads fields in order; the first short read or out-of-range target makes ok() false.
class Reader {
 public:
  Reader(std::string_view bytes, std::size_t offset) : m_bytes(bytes), m_offset(offset) {}
  bool ok() const { return m_ok; }
  bool at_end() const { return m_offset == m_bytes.size(); }
  std::size_t offset() const { return m_offset; }
  void skip(std::size_t n) {
    if (have(n)) m_offset += n;
  }
  std::uint32_t u32() { return have(4) ? store::get_le<std::uint32_t>(m_bytes, m_offset) : 0; }
  // A count of elements of at least `size` bytes each, bounded by the bytes left.
  std::size_t count(std::size_t size) {
    const std::uint32_t n = u32();
    return have(std::size_t{n} * size) ? n : 0;
  }
  std::string str() {
    const std::uint32_t length = u32();
    if (!have(length)) return {};
    std::string out(m_bytes.substr(m_offset, length));
    m_offset += length;
    return out;
  }
  std::vector<std::uint32_t> targets(std::size_t limit) {
    std::vector<std::uint32_t> out(count(4));
    for (auto& t : out) {
      t = u32();
      if (t >= limit) m_ok = false;
    }
    return out;
  }
  DirTargets dirs(std::size_t limit) {
    DirTargets out;
    const std::size_t n = count(8);
    for (std::size_t i = 0; i < n && m_ok; ++i) {
      std::string dir = str();
      out[std::move(dir)] = targets(limit);
    }
    return out;
  }

 private:
  bool have(std::size_t n) {
    if (m_ok && m_bytes.size() - m_offset >= n) return true;
    m_ok = false;
    return false;
  }
  std::string_view m_bytes;
  std::size_t m_offset;
  bool m_ok = true;
};

Error undecodable(std::string_view what) {
  return Error(ErrorCategory::validation,
               fmt::format("undecodable cached CMake {} (truncated, trailing bytes, another "
                           "version or a target out of range)",
                           what))
      .with_operation("cmake.decode_query_index");
}

}  // namespace

BuiltIndex build_query_index(const Model& model) {
  BuiltIndex out;
  QueryIndex& index = out.index;
  const std::size_t n = model.targets.size();
  index.slim = model;
  index.slim.from_cache = false;
  for (Target& target : index.slim.targets) {
    target = Target{.id = target.id, .name = target.name, .type = target.type};
  }

  // Consumption edges, as compute_affected propagates them (affected.h).
  std::unordered_map<std::string_view, std::uint32_t> artifact_owner;
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& artifact : model.targets[i].artifacts) {
      artifact_owner.emplace(artifact, static_cast<std::uint32_t>(i));
    }
  }
  index.consumers.resize(n);
  for (std::size_t t = 0; t < n; ++t) {
    const Target& target = model.targets[t];
    auto add = [&](const std::string& path) {
      if (const auto found = artifact_owner.find(path);
          found != artifact_owner.end() && found->second != t) {
        index.consumers[found->second].push_back(static_cast<std::uint32_t>(t));
      }
    };
    for (const auto& source : target.sources) add(source.path);
    for (const auto& library : target.link_libraries) add(library);
  }
  for (auto& consumers : index.consumers) sort_unique(consumers);

  for (std::size_t i = 0; i < n; ++i) {
    const Target& target = model.targets[i];
    const auto t = static_cast<std::uint32_t>(i);
    for (const auto& source : target.sources) {
      FileUse& use = out.files[source.path];
      use.targets.push_back(t);
      if (source.compile_group) use.compiled = true;
    }
    for (const auto& header : target.headers) out.files[header].targets.push_back(t);
    if (target.headers_known) continue;
    for (const auto& group : target.compile_groups) {
      for (const auto* dirs : {&group.includes, &group.system_includes}) {
        for (const auto& dir : *dirs) {
          if (!dir.empty()) index.include_dirs[dir_key(dir)].push_back(t);
        }
      }
    }
    for (const auto& source : target.sources) {
      if (source.compile_group)
        index.source_dirs[std::string(parent_dir(source.path))].push_back(t);
    }
  }
  for (auto& [path, use] : out.files) sort_unique(use.targets);
  for (auto* dirs : {&index.include_dirs, &index.source_dirs}) {
    for (auto& [dir, targets] : *dirs) sort_unique(targets);
  }
  return out;
}

std::string_view parent_dir(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : path.substr(0, slash);
}

std::string encode_query_index(const QueryIndex& index) {
  std::string out;
  put_u32(out, k_query_index_version);
  const std::string slim = encode_model(index.slim);
  put_u32(out, slim.size());
  out += slim;
  put_u32(out, index.consumers.size());
  for (const auto& consumers : index.consumers) put_targets(out, consumers);
  put_dirs(out, index.include_dirs);
  put_dirs(out, index.source_dirs);
  return out;
}

Result<QueryIndex> decode_query_index(std::string_view bytes) {
  Reader in(bytes, 0);
  if (in.u32() != k_query_index_version) return fail(undecodable("query index"));
  const std::uint32_t slim_size = in.u32();
  const std::size_t slim_at = in.offset();
  in.skip(slim_size);
  if (!in.ok()) return fail(undecodable("query index"));
  QueryIndex index;
  FORGE_TRY(index.slim, decode_model(bytes.substr(slim_at, slim_size)));
  const std::size_t n = index.slim.targets.size();
  index.consumers.resize(in.count(4));
  for (auto& consumers : index.consumers) consumers = in.targets(n);
  index.include_dirs = in.dirs(n);
  index.source_dirs = in.dirs(n);
  if (!in.ok() || !in.at_end() || index.consumers.size() != n) {
    return fail(undecodable("query index"));
  }
  return index;
}

std::string encode_file_use(const FileUse& use) {
  std::string out;
  out.push_back(use.compiled ? '\1' : '\0');
  put_targets(out, use.targets);
  return out;
}

Result<FileUse> decode_file_use(std::string_view bytes, std::size_t targets) {
  if (bytes.empty()) return fail(undecodable("file entry"));
  Reader in(bytes, 1);
  FileUse use;
  use.compiled = bytes[0] != '\0';
  use.targets = in.targets(targets);
  if (!in.ok() || !in.at_end()) return fail(undecodable("file entry"));
  return use;
}

}  // namespace forge::cmake
