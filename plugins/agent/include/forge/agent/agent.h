#pragma once
// Agent: the state behind `forge agent` — the store, the watched workspaces, the warm hash
// cache — and the handler of every socket method (protocol.h; README "Agent socket
// protocol"):
//   status        {} → {"version", "pid", "store_dir", "workspaces": [{"root", "watches",
//                 "stale"}], "connections", "hash_cache_entries", "serve": null | {"pid",
//                 "running", "exit_status"?},
//                 "upstream": null | the tier's status (upstream_tier.h: fetch_hits, uploads,
//                 queue_length...)}
//   since         {"workspace": ROOT, "cursor": C (optional)} → {"cursor", "fresh_instance",
//                 "source": "watcher"|"scan", "changes": [{"path", "change", "type", "xxh3"?,
//                 "sha256"?, "target"?}]}
//   hash          {"paths": [ABS...], "algo": "sha256"|"xxh3"|"both"} → {"results": [{"path",
//                 "size", "sha256"?, "xxh3"?, "cached"} | {"path", "error": {"category", "code",
//                 "message"}}]}
//   find_missing  {"digests": ["HEX/SIZE"...]} → {"missing": [...]}
//   get           {"digest": "HEX/SIZE", "path": ABS} → {"size"}: written to a temp file
//                 beside PATH and renamed onto it; a miss is a Validation error
//   put           {"path": ABS} → {"digest": "HEX/SIZE"}: the store's atomic put_file
//   cmake.affected, ninja.settle (version 2): served by the Methods given to start() (the
//                 agent knows no build tool; `forge agent` passes forge_cmake's and
//                 forge_ninja's request functions); without one, an error response
// Threading: handle() is called from many connection threads at once; reload() and stop()
// from the controlling thread. Workspaces are shared_ptrs: a reload that removes one does
// not pull it from under a `since` in flight.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "forge/agent/agent_config.h"
#include "forge/agent/hash_cache.h"
#include "forge/agent/serve_process.h"
#include "forge/agent/socket_server.h"
#include "forge/agent/workspace.h"
#include "forge/cache/cas_store.h"

namespace forge::agent {

// The watched workspace whose tree holds `path` (the deepest such root), nullptr when none:
// how a method reads a workspace's scan index, which the agent holds open (LMDB forbids a
// second open in one process).
using WorkspaceLookup =
    std::function<std::shared_ptr<Workspace>(const std::filesystem::path& path)>;
// A method served by another library: its params object → its result object. Called from
// connection threads concurrently, so it must be thread-safe.
using Method = std::function<Result<nlohmann::json>(const nlohmann::json& params,
                                                    const WorkspaceLookup& workspaces)>;
using Methods = std::map<std::string, Method, std::less<>>;

class Agent {
 public:
  // Opens the store, starts every workspace, binds the socket, starts `forge serve` (the
  // `serve_binary`, when the config has "serve") and starts answering. `methods` adds the
  // build-tool methods (their names must be protocol methods: is_known_method).
  static Result<std::unique_ptr<Agent>> start(AgentConfig config,
                                              const support::IoConfig& io_config,
                                              const std::filesystem::path& serve_binary,
                                              Methods methods = {});
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Applies a re-read config: starts added workspaces, stops removed ones. The socket, store
  // and connection limit stay as they were (a restart changes those); an error leaves the
  // workspaces that did start running and names the one that did not.
  Result<void> reload(const AgentConfig& config);
  // Stops answering (in-flight requests finish), stops every workspace, then stops
  // `forge serve` (it drains its own requests); an unclean serve exit is the error.
  Result<void> stop();
  Result<nlohmann::json> handle(const Request& request);

 private:
  Agent(AgentConfig config, support::IoConfig io_config, std::shared_ptr<cache::CasStore> store,
        std::unique_ptr<io::PlatformIO> io, Methods methods);
  Result<nlohmann::json> status();
  nlohmann::json serve_status();
  Result<nlohmann::json> since(const nlohmann::json& params);
  Result<nlohmann::json> hash(const nlohmann::json& params);
  Result<nlohmann::json> find_missing(const nlohmann::json& params);
  Result<nlohmann::json> get(const nlohmann::json& params);
  Result<nlohmann::json> put(const nlohmann::json& params);
  std::shared_ptr<Workspace> workspace(const std::string& root);
  std::shared_ptr<Workspace> covering(const std::filesystem::path& path);  // WorkspaceLookup

  AgentConfig m_config;
  support::IoConfig m_io_config;
  std::shared_ptr<cache::CasStore> m_store;
  HashCache m_hashes;
  const Methods m_methods;  // fixed at start: read without a lock
  SocketServer m_server;
  std::mutex m_mutex;
  std::map<std::filesystem::path, std::shared_ptr<Workspace>> m_workspaces;  // guarded
  std::optional<ServeProcess> m_serve;  // guarded by m_mutex (status reads it)
};

}  // namespace forge::agent
