#include "forge/agent/agent.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "forge/agent/agent_upstream.h"
#include "forge/agent/wire_json.h"
#include "forge/core/io/backend_selector.h"

namespace forge::agent {
namespace {

Error bad_params(std::string_view method, std::string_view what) {
  return Error(ErrorCategory::validation, fmt::format("{}: {}", method, what))
      .with_suggestion("see README.md, \"Agent socket protocol\", for each method's params");
}

Result<std::string> string_param(const nlohmann::json& params, std::string_view method,
                                 const char* key) {
  const auto found = params.find(key);
  if (found == params.end() || !found->is_string()) {
    return fail(bad_params(method, fmt::format("\"{}\" must be a string", key)));
  }
  return found->get<std::string>();
}

Result<std::string> absolute_path_param(const nlohmann::json& params, std::string_view method,
                                        const char* key) {
  const auto found = params.find(key);
  if (found == params.end() || !found->is_string() ||
      !found->get_ref<const std::string&>().starts_with('/')) {
    return fail(bad_params(method, fmt::format("\"{}\" must be an absolute path", key)));
  }
  return found->get<std::string>();
}

}  // namespace

Agent::Agent(AgentConfig config, support::IoConfig io_config,
             std::shared_ptr<cache::CasStore> store, std::unique_ptr<io::PlatformIO> io,
             Methods methods)
    : m_config(std::move(config)),
      m_io_config(std::move(io_config)),
      m_store(std::move(store)),
      m_hashes(std::move(io)),
      m_methods(std::move(methods)) {}

Result<std::unique_ptr<Agent>> Agent::start(AgentConfig config, const support::IoConfig& io_config,
                                            const std::filesystem::path& serve_binary,
                                            Methods methods) {
  for (const auto& [name, method] : methods) {
    if (!is_known_method(name) || !method) {
      return fail(Error(ErrorCategory::configuration,
                        fmt::format("'{}' is not an agent protocol method", name))
                      .with_suggestion("add it to the protocol (protocol.h) first"));
    }
  }
  cache::StoreOptions store_options;
  store_options.dir = config.store_dir;
  FORGE_TRY(auto store, cache::CasStore::open(store_options));
  FORGE_TRY(auto tier, open_agent_upstream(config.cache, store->options()));
  if (tier) store->attach_upstream(std::move(tier));
  FORGE_TRY(auto io, io::create_platform_io(io_config));
  std::unique_ptr<Agent> agent(
      new Agent(config, io_config, std::move(store), std::move(io), std::move(methods)));
  FORGE_TRY_VOID(agent->reload(config));
  FORGE_TRY_VOID(agent->m_server.bind(config.socket, config.max_connections));
  if (config.serve_args) {
    FORGE_TRY(auto serve, ServeProcess::start(serve_binary, store_options.dir, *config.serve_args));
    agent->m_serve.emplace(std::move(serve));
  }
  FORGE_TRY_VOID(agent->m_server.serve(
      [raw = agent.get()](const Request& request) { return raw->handle(request); }));
  return agent;
}

Result<void> Agent::reload(const AgentConfig& config) {
  std::vector<std::shared_ptr<Workspace>> removed;
  {
    std::lock_guard lock(m_mutex);
    for (auto it = m_workspaces.begin(); it != m_workspaces.end();) {
      if (std::find(config.workspaces.begin(), config.workspaces.end(), it->first) ==
          config.workspaces.end()) {
        removed.push_back(std::move(it->second));
        it = m_workspaces.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& workspace : removed) workspace->stop();
  for (const auto& root : config.workspaces) {
    {
      std::lock_guard lock(m_mutex);
      if (m_workspaces.count(root) != 0) continue;
    }
    auto started = Workspace::start(root, m_io_config);  // a full scan: outside the lock
    if (!started) {
      return fail(std::move(started).error().prefixed(fmt::format("workspace {}", root.string())));
    }
    std::lock_guard lock(m_mutex);
    m_workspaces.emplace(root, std::shared_ptr<Workspace>(std::move(*started)));
  }
  std::lock_guard lock(m_mutex);
  m_config.workspaces = config.workspaces;
  return ok();
}

Result<void> Agent::stop() {
  m_server.stop();
  std::map<std::filesystem::path, std::shared_ptr<Workspace>> workspaces;
  std::optional<ServeProcess> serve;
  {
    std::lock_guard lock(m_mutex);
    workspaces.swap(m_workspaces);
    if (m_serve) {
      serve.emplace(std::move(*m_serve));
      m_serve.reset();
    }
  }
  for (auto& [root, workspace] : workspaces) workspace->stop();
  // forge serve drains in-flight requests for up to 30 s; allow it that and a little more.
  if (serve) return serve->stop(std::chrono::seconds(35));
  return ok();
}

Agent::~Agent() {
  (void)stop();
}

Result<nlohmann::json> Agent::handle(const Request& request) {
  if (request.method == "status") return status();
  if (request.method == "since") return since(request.params);
  if (request.method == "hash") return hash(request.params);
  if (request.method == "find_missing") return find_missing(request.params);
  if (request.method == "get") return get(request.params);
  if (request.method == "put") return put(request.params);
  if (const auto method = m_methods.find(request.method); method != m_methods.end()) {
    return method->second(request.params,
                          [this](const std::filesystem::path& path) { return covering(path); });
  }
  if (is_known_method(request.method)) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("{}: this agent was started without it", request.method))
                    .with_suggestion("run the agent of a `forge` built with its plugin"));
  }
  return fail(bad_params(request.method, "unknown method"));
}

std::shared_ptr<Workspace> Agent::workspace(const std::string& root) {
  std::error_code ec;
  const auto canonical = std::filesystem::weakly_canonical(root, ec);
  std::lock_guard lock(m_mutex);
  const auto found = m_workspaces.find(ec ? std::filesystem::path(root) : canonical);
  return found == m_workspaces.end() ? nullptr : found->second;
}

std::shared_ptr<Workspace> Agent::covering(const std::filesystem::path& path) {
  std::error_code ec;
  const auto canonical = std::filesystem::weakly_canonical(path, ec);
  if (ec) return nullptr;
  std::shared_ptr<Workspace> best;
  std::size_t best_length = 0;
  std::lock_guard lock(m_mutex);
  for (const auto& [root, workspace] : m_workspaces) {
    const auto [end, unused] =
        std::mismatch(root.begin(), root.end(), canonical.begin(), canonical.end());
    const std::size_t length = root.native().size();
    if (end == root.end() && (!best || length > best_length)) {
      best = workspace;
      best_length = length;
    }
  }
  return best;
}

Result<nlohmann::json> Agent::status() {
  nlohmann::json workspaces = nlohmann::json::array();
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [root, workspace] : m_workspaces) {
      workspaces.push_back({{"root", root.string()},
                            {"watches", workspace->watch_count()},
                            {"stale", workspace->stale()}});
    }
  }
  return nlohmann::json{
      {"version", k_protocol_version},
      {"pid", ::getpid()},
      {"store_dir", m_store->options().dir.string()},
      {"workspaces", std::move(workspaces)},
      {"connections", m_server.active_connections()},
      {"hash_cache_entries", m_hashes.size()},
      {"serve", serve_status()},
      {"upstream", m_store->upstream() != nullptr ? m_store->upstream()->status_json()
                                                  : nlohmann::json(nullptr)}};
}

nlohmann::json Agent::serve_status() {
  std::lock_guard lock(m_mutex);
  if (!m_serve) return nullptr;
  nlohmann::json out{{"pid", m_serve->pid()}, {"running", m_serve->running()}};
  if (m_serve->exit_status()) out["exit_status"] = *m_serve->exit_status();
  return out;
}

Result<nlohmann::json> Agent::since(const nlohmann::json& params) {
  FORGE_TRY(const std::string root, absolute_path_param(params, "since", "workspace"));
  std::string cursor;
  if (params.contains("cursor")) {
    FORGE_TRY(cursor, string_param(params, "since", "cursor"));
  }
  const auto watched = workspace(root);
  if (!watched) {
    return fail(Error(ErrorCategory::validation, fmt::format("{} is not a watched workspace", root))
                    .with_suggestion("add it to the agent's \"workspaces\" and send SIGHUP"));
  }
  std::string source;
  FORGE_TRY(const auto changes, watched->since(cursor, &source));
  nlohmann::json out{{"root", watched->root().string()},
                     {"cursor", changes.cursor},
                     {"fresh_instance", changes.fresh_instance},
                     {"source", source},
                     {"changes", nlohmann::json::array()}};
  for (const auto& change : changes.changes) out["changes"].push_back(change_to_json(change));
  return out;
}

Result<nlohmann::json> Agent::hash(const nlohmann::json& params) {
  const auto paths = params.find("paths");
  if (paths == params.end() || !paths->is_array()) {
    return fail(bad_params("hash", "\"paths\" must be an array of absolute paths"));
  }
  std::vector<std::string> list;
  for (const auto& path : *paths) {
    if (!path.is_string() || path.get<std::string>().empty() || path.get<std::string>()[0] != '/') {
      return fail(bad_params("hash", "every path must be an absolute path string"));
    }
    list.push_back(path.get<std::string>());
  }
  hash::AlgorithmSet algorithms{true, false};
  if (params.contains("algo")) {
    FORGE_TRY(const std::string algo, string_param(params, "hash", "algo"));
    if (algo == "both") {
      algorithms = hash::AlgorithmSet::both();
    } else {
      FORGE_TRY(const auto parsed, hash::parse_algorithm(algo));
      algorithms = hash::AlgorithmSet::only(parsed);
    }
  }
  nlohmann::json results = nlohmann::json::array();
  for (auto& answer : m_hashes.hash(list, algorithms)) {
    nlohmann::json entry{{"path", answer.path}};
    if (!answer.digests) {
      entry["error"] = error_to_json(answer.digests.error());
    } else {
      entry["size"] = answer.size;
      if (answer.digests->sha256) entry["sha256"] = answer.digests->sha256->hex();
      if (answer.digests->xxh3) entry["xxh3"] = answer.digests->xxh3->hex();
      entry["cached"] = answer.cached;
    }
    results.push_back(std::move(entry));
  }
  return nlohmann::json{{"results", std::move(results)}};
}

Result<nlohmann::json> Agent::find_missing(const nlohmann::json& params) {
  const auto digests = params.find("digests");
  if (digests == params.end() || !digests->is_array()) {
    return fail(bad_params("find_missing", "\"digests\" must be an array of \"HEX/SIZE\""));
  }
  std::vector<cache::BlobDigest> parsed;
  for (const auto& digest : *digests) {
    if (!digest.is_string()) return fail(bad_params("find_missing", "a digest is not a string"));
    FORGE_TRY(auto one, cache::parse_blob_digest(digest.get<std::string>()));
    parsed.push_back(one);
  }
  FORGE_TRY(const auto missing, m_store->find_missing(parsed));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& digest : missing) out.push_back(digest.to_string());
  return nlohmann::json{{"missing", std::move(out)}};
}

Result<nlohmann::json> Agent::get(const nlohmann::json& params) {
  FORGE_TRY(const std::string text, string_param(params, "get", "digest"));
  FORGE_TRY(const auto digest, cache::parse_blob_digest(text));
  FORGE_TRY(const std::string path, absolute_path_param(params, "get", "path"));
  FORGE_TRY(auto reader, m_store->open_blob(digest));
  if (!reader) {
    return fail(Error(ErrorCategory::validation, fmt::format("{} is not in the store", text))
                    .with_suggestion("put it first, or check the digest"));
  }
  const std::string temp = fmt::format("{}.forge-get-{}", path, ::gettid());
  UniqueFd out(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (!out) return fail(Error::from_errno(errno, "create", temp));
  std::vector<std::byte> buffer(cache::copy_buffer_size(reader->size()));
  auto check = reader->verifier();  // the file is renamed into place only if the bytes match
  Result<void> written = ok();
  for (std::uint64_t offset = 0; written && offset < reader->size();) {
    auto n = reader->read(offset, buffer);
    if (!n || *n == 0) {
      written = fail(n ? Error(ErrorCategory::file_system, "stored blob shorter than indexed")
                       : std::move(n).error());
      break;
    }
    check.update(std::span(buffer.data(), *n));
    for (std::size_t done = 0; done < *n;) {
      const ssize_t w = ::write(out.get(), buffer.data() + done, *n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        written = fail(Error::from_errno(errno, "write", temp));
        break;
      }
      done += static_cast<std::size_t>(w);
    }
    offset += *n;
  }
  if (written) written = check.finish();
  if (written && ::close(out.release()) != 0) {
    written = fail(Error::from_errno(errno, "close", temp));
  }
  if (written && ::rename(temp.c_str(), path.c_str()) != 0) {
    written = fail(Error::from_errno(errno, "rename", path));
  }
  if (!written) {
    ::unlink(temp.c_str());
    return fail(std::move(written).error());
  }
  return nlohmann::json{{"size", digest.size}};
}

Result<nlohmann::json> Agent::put(const nlohmann::json& params) {
  FORGE_TRY(const std::string path, absolute_path_param(params, "put", "path"));
  FORGE_TRY(const auto digest, m_store->put_file(path));
  return nlohmann::json{{"digest", digest.to_string()}};
}

}  // namespace forge::agent
