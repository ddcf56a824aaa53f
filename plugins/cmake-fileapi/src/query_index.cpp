#include "forge/cmake/query_index.h"

#include <algorithm>

#include <fmt/format.h>

#include "forge/cmake/model_codec.h"
#include "forge/core/store/byte_reader.h"
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

// A target list; an index at or past `limit` makes the reader fail.
std::vector<std::uint32_t> read_targets(store::ByteReader& in, std::size_t limit) {
  std::vector<std::uint32_t> out(in.count(4));
  for (auto& t : out) {
    t = in.number<std::uint32_t>();
    if (t >= limit) in.fail();
  }
  return out;
}

DirTargets read_dirs(store::ByteReader& in, std::size_t limit) {
  DirTargets out;
  const std::size_t n = in.count(8);
  for (std::size_t i = 0; i < n && in.ok(); ++i) {
    std::string dir(in.str32());
    out[std::move(dir)] = read_targets(in, limit);
  }
  return out;
}

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
  store::ByteReader in(bytes);
  if (in.number<std::uint32_t>() != k_query_index_version) {
    return fail(undecodable("query index"));
  }
  const auto slim_size = in.number<std::uint32_t>();
  const std::size_t slim_at = in.offset();
  in.skip(slim_size);
  if (!in.ok()) return fail(undecodable("query index"));
  QueryIndex index;
  FORGE_TRY(index.slim, decode_model(bytes.substr(slim_at, slim_size)));
  const std::size_t n = index.slim.targets.size();
  index.consumers.resize(in.count(4));
  for (auto& consumers : index.consumers) consumers = read_targets(in, n);
  index.include_dirs = read_dirs(in, n);
  index.source_dirs = read_dirs(in, n);
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
  store::ByteReader in(bytes, 1);
  FileUse use;
  use.compiled = bytes[0] != '\0';
  use.targets = read_targets(in, targets);
  if (!in.ok() || !in.at_end()) return fail(undecodable("file entry"));
  return use;
}

}  // namespace forge::cmake
