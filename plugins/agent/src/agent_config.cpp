#include "forge/agent/agent_config.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace forge::agent {
namespace {

Error invalid(const std::filesystem::path& file, std::string what) {
  return Error(ErrorCategory::configuration, fmt::format("{}: {}", file.string(), what))
      .with_file(file.string())
      .with_suggestion(
          "write {\"version\": 1, \"workspaces\": [\"/path\"], \"socket\": \"...\", "
          "\"store_dir\": \"...\", \"max_connections\": 64, \"serve\": [\"--http-port\", "
          "\"8080\"]}");
}

}  // namespace

std::filesystem::path default_socket_path() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && runtime[0] == '/') {
    return std::filesystem::path(runtime) / "forge" / "agent.sock";
  }
  return std::filesystem::path(fmt::format("/tmp/forge-{}", ::getuid())) / "agent.sock";
}

Result<AgentConfig> load_agent_config(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return fail(Error::from_errno(errno, "open", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  const auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return fail(invalid(file, "not a JSON object"));
  }
  AgentConfig config;
  config.socket = default_socket_path();
  for (const auto& [key, value] : json.items()) {
    if (key == "version") {
      if (!value.is_number_integer() || value.get<int>() != k_agent_config_version) {
        return fail(invalid(file, fmt::format("\"version\" must be {}", k_agent_config_version)));
      }
    } else if (key == "socket" || key == "store_dir") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        return fail(invalid(file, fmt::format("\"{}\" must be a non-empty path", key)));
      }
      (key == "socket" ? config.socket : config.store_dir) = value.get<std::string>();
    } else if (key == "max_connections") {
      if (!value.is_number_unsigned() || value.get<std::size_t>() < 1 ||
          value.get<std::size_t>() > 4096) {
        return fail(invalid(file, "\"max_connections\" must be in 1..4096"));
      }
      config.max_connections = value.get<std::size_t>();
    } else if (key == "serve") {
      if (!value.is_array()) {
        return fail(invalid(file, "\"serve\" must be an array of `forge serve` flags"));
      }
      config.serve_args.emplace();
      for (const auto& arg : value) {
        if (!arg.is_string()) return fail(invalid(file, "a \"serve\" flag is not a string"));
        if (arg.get<std::string>() == "--dir") {
          return fail(invalid(file, "\"serve\" must not set --dir: it serves \"store_dir\""));
        }
        config.serve_args->push_back(arg.get<std::string>());
      }
    } else if (key == "workspaces") {
      if (!value.is_array()) return fail(invalid(file, "\"workspaces\" must be an array of paths"));
      for (const auto& entry : value) {
        if (!entry.is_string()) return fail(invalid(file, "a workspace is not a string"));
        std::error_code ec;
        auto root = std::filesystem::canonical(entry.get<std::string>(), ec);
        if (ec || !std::filesystem::is_directory(root)) {
          return fail(invalid(
              file, fmt::format("workspace '{}' is not a directory", entry.get<std::string>())));
        }
        config.workspaces.push_back(std::move(root));
      }
    } else {
      return fail(invalid(file, fmt::format("unknown key \"{}\"", key)));
    }
  }
  return config;
}

}  // namespace forge::agent
