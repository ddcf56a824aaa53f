#include "forge/cmake/file_api.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace forge::cmake {
namespace fs = std::filesystem;
namespace {

const nlohmann::json& query_json() {
  static const nlohmann::json query = {
      {"requests",
       {{{"kind", "codemodel"}, {"version", k_codemodel_major}},
        {{"kind", "cache"}, {"version", k_cache_major}},
        {{"kind", "cmakeFiles"}, {"version", k_cmake_files_major}},
        {{"kind", "toolchains"}, {"version", k_toolchains_major}}}}};
  return query;
}

int understood_major(const std::string& kind) {
  if (kind == "codemodel") return k_codemodel_major;
  if (kind == "cache") return k_cache_major;
  if (kind == "cmakeFiles") return k_cmake_files_major;
  if (kind == "toolchains") return k_toolchains_major;
  return -1;
}

Error no_reply(const fs::path& build_dir, std::string why) {
  return Error(ErrorCategory::configuration, std::move(why))
      .with_file((build_dir / ".cmake/api/v1/reply").string())
      .with_suggestion(fmt::format("run cmake once in the build directory (`cmake {}`): it "
                                   "answers the query forge wrote in {}",
                                   build_dir.string(), query_file(build_dir).string()));
}

Error corrupt(const fs::path& file, std::string why) {
  return Error(ErrorCategory::validation, fmt::format("{}: {}", file.string(), why))
      .with_file(file.string())
      .with_suggestion("re-run cmake in the build directory to rewrite the file-API reply");
}

// Reply objects are valid JSON objects; anything else is a corrupt reply.
Result<ReplyObject> parse_object(const nlohmann::json& entry, const fs::path& reply_dir,
                                 const fs::path& index_file) {
  if (!entry.is_object() || !entry.contains("kind") || !entry.contains("jsonFile") ||
      !entry.contains("version")) {
    return fail(corrupt(index_file, "a reply object lacks kind, version or jsonFile"));
  }
  ReplyObject object;
  object.kind = entry.at("kind").get<std::string>();
  object.major = entry.at("version").value("major", 0);
  object.minor = entry.at("version").value("minor", 0);
  object.file = reply_dir / entry.at("jsonFile").get<std::string>();
  return object;
}

void note_if_stale(Reply& reply) {
  std::error_code ec;
  const auto index_time = fs::last_write_time(reply.index_file, ec);
  if (ec) return;
  for (const char* name : {"build.ninja", "CMakeCache.txt", "Makefile"}) {
    const auto time = fs::last_write_time(reply.build_dir / name, ec);
    if (!ec && time > index_time) {
      reply.notes.push_back(fmt::format(
          "stale reply: {} is newer than {}; re-run cmake (`cmake {}`) for a current answer", name,
          reply.index_file.filename().string(), reply.build_dir.string()));
      return;
    }
  }
}

Result<Reply> parse_index(const fs::path& build_dir, const fs::path& index_file) {
  FORGE_TRY(auto index, read_json_file(index_file));
  Reply reply;
  reply.build_dir = build_dir;
  reply.index_file = index_file;
  const fs::path reply_dir = index_file.parent_path();
  try {
    const auto& cmake = index.at("cmake");
    reply.generator = cmake.at("generator").value("name", "");
    reply.multi_config = cmake.at("generator").value("multiConfig", false);
    reply.cmake_version = cmake.at("version").value("string", "");
    if (cmake.contains("paths")) reply.ctest = cmake.at("paths").value("ctest", "");
    const auto reply_map = index.value("reply", nlohmann::json::object());
    if (!reply_map.contains(k_client) || !reply_map.at(k_client).contains("query.json")) {
      return fail(no_reply(build_dir, fmt::format("the newest file-API reply {} does not answer "
                                                  "forge's query (cmake ran before forge "
                                                  "wrote it)",
                                                  index_file.string())));
    }
    const auto& answer = reply_map.at(k_client).at("query.json");
    for (const auto& response : answer.value("responses", nlohmann::json::array())) {
      if (response.contains("error")) {
        reply.notes.push_back(
            fmt::format("cmake could not answer a request: {}", response.at("error").dump()));
        continue;
      }
      FORGE_TRY(auto object, parse_object(response, reply_dir, index_file));
      const int major = understood_major(object.kind);
      if (object.major != major) {
        reply.notes.push_back(
            fmt::format("reply object {} v{}.{} is not understood (forge reads v{}); it is ignored",
                        object.kind, object.major, object.minor, major));
        continue;
      }
      reply.objects[object.kind] = std::move(object);
    }
  } catch (const nlohmann::json::exception& error) {
    return fail(
        corrupt(index_file, fmt::format("unexpected reply index layout ({})", error.what())));
  }
  if (!reply.objects.contains("codemodel")) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("{} has no codemodel v{} (cmake {} is too old or too new)",
                                  index_file.string(), k_codemodel_major, reply.cmake_version))
                    .with_file(index_file.string())
                    .with_suggestion("configure with CMake 3.14 or newer that still serves "
                                     "codemodel v2"));
  }
  note_if_stale(reply);
  return reply;
}

}  // namespace

fs::path query_file(const fs::path& build_dir) {
  return build_dir / ".cmake/api/v1/query" / k_client / "query.json";
}

Result<bool> write_query(const fs::path& build_dir) {
  const fs::path file = query_file(build_dir);
  {
    std::ifstream in(file);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      const auto existing = nlohmann::json::parse(text.str(), nullptr, false);
      if (!existing.is_discarded() && existing == query_json()) return false;
    }
  }
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec)
    return fail(Error::from_error_code(ec, "create_directories", file.parent_path().string()));
  // Written to a temporary name and renamed, so cmake never reads half a query.
  const fs::path temp = file.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << query_json().dump(2) << '\n';
    if (!out.flush()) return fail(Error::from_errno(errno, "write", temp.string()));
  }
  fs::rename(temp, file, ec);
  if (ec) return fail(Error::from_error_code(ec, "rename", file.string()));
  return true;
}

Result<nlohmann::json> read_json_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return fail(Error::from_errno(errno, "open", file.string())
                    .with_suggestion("re-run cmake in the build directory to rewrite the "
                                     "file-API reply"));
  }
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return fail(corrupt(file, "not a valid JSON object (corrupt or truncated file-API reply)"));
  }
  return json;
}

Result<Reply> read_reply(const fs::path& build_dir) {
  std::error_code ec;
  if (!fs::is_directory(build_dir, ec)) {
    return fail(Error(ErrorCategory::file_system,
                      fmt::format("build directory {} does not exist", build_dir.string()), ENOENT)
                    .with_file(build_dir.string())
                    .with_suggestion("pass the directory cmake configured with -B BUILD "
                                     "(configure one with `cmake -S SRC -B BUILD -G Ninja`)"));
  }
  if (!fs::exists(build_dir / "CMakeCache.txt", ec)) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("{} is not a CMake build directory (no CMakeCache.txt)",
                                  build_dir.string()))
                    .with_file((build_dir / "CMakeCache.txt").string())
                    .with_suggestion("configure it with `cmake -S SRC -B BUILD -G Ninja` or "
                                     "pass the right -B"));
  }
  const auto index = newest_reply_index(build_dir);
  if (!index) {
    return fail(no_reply(build_dir, fmt::format("no CMake file-API reply in {}",
                                                (build_dir / ".cmake/api/v1/reply").string())));
  }
  return parse_index(build_dir, *index);
}

std::optional<fs::path> newest_reply_index(const fs::path& build_dir) {
  std::error_code ec;
  std::optional<fs::path> newest;
  for (fs::directory_iterator it(build_dir / ".cmake/api/v1/reply", ec), end; !ec && it != end;
       it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.starts_with("index-") && name.ends_with(".json") &&
        (!newest || name > newest->filename().string())) {
      newest = it->path();
    }
  }
  return newest;
}

}  // namespace forge::cmake
