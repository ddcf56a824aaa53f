#include "forge/ninja/deps_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "forge/core/support/unique_fd.h"

namespace forge::ninja {
namespace {

Error deps_error(std::string_view name, std::size_t offset, std::string_view what) {
  return Error(ErrorCategory::validation, fmt::format("{}: {} at byte {}", name, what, offset))
      .with_file(name)
      .with_operation("ninja.read_deps")
      .with_suggestion(
          "Forge leaves this build to plain ninja, which recovers the deps log itself (or "
          "delete .ninja_deps to start over)");
}

std::uint32_t load_u32(std::string_view bytes, std::size_t offset) {
  std::uint32_t value = 0;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

void store_u32(std::string& out, std::uint32_t value) {
  char raw[sizeof value];
  std::memcpy(raw, &value, sizeof value);
  out.append(raw, sizeof raw);
}

}  // namespace

const DepsRecord* DepsLog::find(const std::string& output) const {
  const auto it = ids.find(output);
  if (it == ids.end() || static_cast<std::size_t>(it->second) >= records.size()) return nullptr;
  const auto& record = records[static_cast<std::size_t>(it->second)];
  return record ? &*record : nullptr;
}

std::vector<std::string> DepsLog::dep_paths(const DepsRecord& record) const {
  std::vector<std::string> out;
  out.reserve(record.deps.size());
  for (const std::int32_t id : record.deps) out.push_back(paths[static_cast<std::size_t>(id)]);
  return out;
}

Result<DepsLog> parse_deps_log(std::string_view bytes, std::string_view name) {
  DepsLog log;
  if (bytes.size() < k_deps_signature.size() + 4 || !bytes.starts_with(k_deps_signature)) {
    return fail(deps_error(name, 0, "not a ninja deps log (bad signature)"));
  }
  const std::uint32_t version = load_u32(bytes, k_deps_signature.size());
  if (version != k_deps_version) {
    return fail(deps_error(name, k_deps_signature.size(),
                           fmt::format("deps log version {} is not supported (Forge reads {})",
                                       version, k_deps_version)));
  }
  std::size_t offset = k_deps_signature.size() + 4;
  while (offset < bytes.size()) {
    if (bytes.size() - offset < 4) return fail(deps_error(name, offset, "cut-off record header"));
    std::uint32_t size = load_u32(bytes, offset);
    const bool is_deps = (size & 0x80000000u) != 0;
    size &= 0x7fffffffu;
    if (size > k_deps_max_record_size || size % 4 != 0 || size < 4) {
      return fail(deps_error(name, offset, fmt::format("invalid record size {}", size)));
    }
    if (bytes.size() - offset - 4 < size) return fail(deps_error(name, offset, "cut-off record"));
    const std::string_view body = bytes.substr(offset + 4, size);
    if (is_deps) {
      if (size < 12) return fail(deps_error(name, offset, "deps record too short"));
      const auto out_id = static_cast<std::int32_t>(load_u32(body, 0));
      DepsRecord record;
      record.mtime =
          static_cast<std::int64_t>(static_cast<std::uint64_t>(load_u32(body, 4)) |
                                    (static_cast<std::uint64_t>(load_u32(body, 8)) << 32));
      const auto known = static_cast<std::int32_t>(log.paths.size());
      if (out_id < 0 || out_id >= known) return fail(deps_error(name, offset, "unknown output id"));
      for (std::size_t i = 12; i < size; i += 4) {
        const auto id = static_cast<std::int32_t>(load_u32(body, i));
        if (id < 0 || id >= known) return fail(deps_error(name, offset, "unknown dependency id"));
        record.deps.push_back(id);
      }
      if (log.records.size() <= static_cast<std::size_t>(out_id)) {
        log.records.resize(static_cast<std::size_t>(out_id) + 1);
      }
      log.records[static_cast<std::size_t>(out_id)] = std::move(record);
      ++log.record_count;
    } else {
      std::size_t path_size = size - 4;
      for (int i = 0; i < 3 && path_size > 0 && body[path_size - 1] == '\0'; ++i) --path_size;
      const auto id = static_cast<std::int32_t>(log.paths.size());
      if (load_u32(body, size - 4) != ~static_cast<std::uint32_t>(id) || path_size == 0) {
        return fail(deps_error(name, offset, "path record with a bad checksum"));
      }
      std::string path(body.substr(0, path_size));
      if (!log.ids.emplace(path, id).second) {
        return fail(deps_error(name, offset, "path recorded twice"));
      }
      log.paths.push_back(std::move(path));
    }
    offset += 4 + size;
  }
  return log;
}

Result<DepsLog> read_deps_log(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(Error::from_errno(errno == 0 ? ENOENT : errno, "ninja.read_deps", path.string()));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return parse_deps_log(bytes.str(), path.string());
}

Result<void> append_deps_log(const std::filesystem::path& path, DepsLog& log,
                             std::span<const DepsUpdate> updates) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return fail(Error::from_errno(errno, "ninja.append_deps", path.string()));
  std::string out;
  if (::lseek(fd.get(), 0, SEEK_END) == 0) {
    out.append(k_deps_signature);
    store_u32(out, k_deps_version);
  }
  auto id_of = [&](const std::string& node) {
    if (const auto it = log.ids.find(node); it != log.ids.end()) return it->second;
    const auto id = static_cast<std::int32_t>(log.paths.size());
    const std::size_t padded = (node.size() + 3) / 4 * 4;
    store_u32(out, static_cast<std::uint32_t>(padded + 4));
    out += node;
    out.append(padded - node.size(), '\0');
    store_u32(out, ~static_cast<std::uint32_t>(id));
    log.paths.push_back(node);
    log.ids.emplace(node, id);
    return id;
  };
  for (const DepsUpdate& update : updates) {
    const std::size_t size = 12 + 4 * update.deps.size();
    if (size > k_deps_max_record_size) {
      return fail(Error(ErrorCategory::validation,
                        fmt::format("{}: {} dependencies of {} exceed the deps log's record limit",
                                    path.string(), update.deps.size(), update.output))
                      .with_operation("ninja.append_deps"));
    }
    DepsRecord record;
    record.mtime = update.mtime;
    const std::int32_t out_id = id_of(update.output);
    for (const std::string& dep : update.deps) record.deps.push_back(id_of(dep));
    store_u32(out, static_cast<std::uint32_t>(size) | 0x80000000u);
    store_u32(out, static_cast<std::uint32_t>(out_id));
    const auto mtime = static_cast<std::uint64_t>(update.mtime);
    store_u32(out, static_cast<std::uint32_t>(mtime & 0xffffffffu));
    store_u32(out, static_cast<std::uint32_t>(mtime >> 32));
    for (const std::int32_t id : record.deps) store_u32(out, static_cast<std::uint32_t>(id));
    if (log.records.size() <= static_cast<std::size_t>(out_id)) {
      log.records.resize(static_cast<std::size_t>(out_id) + 1);
    }
    log.records[static_cast<std::size_t>(out_id)] = std::move(record);
    ++log.record_count;
  }
  std::string_view rest = out;
  while (!rest.empty()) {
    const ssize_t written = ::write(fd.get(), rest.data(), rest.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return fail(Error::from_errno(errno, "ninja.append_deps", path.string()));
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  if (const int error = fd.close(); error != 0) {
    return fail(Error::from_errno(error, "ninja.append_deps", path.string()));
  }
  return ok();
}

}  // namespace forge::ninja
