#pragma once
// The `serve` command's table entry (name, summary, usage text), shared by the launcher in
// `forge` and by `forge-serve`, which differ only in what `run` does.

#include <string_view>

#include "command.h"

namespace forge::cli {

inline constexpr std::string_view k_serve_usage =
    "usage: forge serve [--dir STORE] [--address ADDR] [--http-port N] [--grpc-port N]\n"
    "                   [--no-grpc] [--max-size SIZE] [--max-blob-size SIZE] [--read-only]\n"
    "                   [--ac-raw] [--threads N] [--no-fsync] [--port-file FILE]\n"
    "                   [--htpasswd FILE] [--tokens FILE] [--anonymous-read]\n"
    "                   [--tls-cert FILE --tls-key FILE] [--raw-prefix PREFIX|off]\n"
    "                   [--instances shared|isolated]\n"
    "                   [--upstream URL [--upstream-write behind|through]\n"
    "                    [--s3-endpoint URL] [--s3-region REGION]]\n\n"
    "Serves STORE (default: the config's store_dir, else $XDG_CACHE_HOME/forge or\n"
    "~/.cache/forge) as a remote cache; addresses default to server.http_listen and\n"
    "server.grpc_listen from the config (flags override them):\n"
    "  HTTP  http://ADDR:HTTP_PORT   (default 127.0.0.1:8080) /ac/, /cas/, /status, /metrics,\n"
    "                                /healthz for bazel --remote_cache=http://...;\n"
    "                                /v8/artifacts/ for Turborepo (--api=http://...);\n"
    "                                any other path is a raw entry (GET/HEAD/PUT): ccache\n"
    "                                (remote_storage = http://ADDR:PORT/ccache), Gradle\n"
    "                                (HTTP build cache url http://ADDR:PORT/gradle/)\n"
    "  gRPC  grpc://ADDR:GRPC_PORT   (default 127.0.0.1:9092) REAPI v2 cache services and\n"
    "                                ByteStream; for bazel --remote_cache=grpc://...\n"
    "Port 0 picks a free port; --port-file writes {\"http\":N,\"grpc\":N} once listening.\n"
    "--max-size SIZE   evict least recently used blobs above SIZE (e.g. 50G; default: never)\n"
    "--max-blob-size   refuse larger uploads (default 4G)\n"
    "--read-only       refuse every upload (403 / PERMISSION_DENIED)\n"
    "--ac-raw          serve HTTP /ac/ from the unvalidated raw keyspace, for ccache's\n"
    "                  layout=bazel (its /ac/ entries are not REAPI ActionResults)\n"
    "--raw-prefix P    raw entries only under P (e.g. /ccache/; default / = every path;\n"
    "                  off: none)\n"
    "--instances M     shared (default): every instance name sees one action cache;\n"
    "                  isolated: one per instance name\n"
    "--no-fsync        acknowledge uploads before they reach the disk (faster, less safe)\n"
    "--htpasswd FILE   require HTTP Basic credentials from an htpasswd file (htpasswd -B)\n"
    "--tokens FILE     accept `Authorization: Bearer TOKEN` for the tokens in FILE\n"
    "--anonymous-read  with --htpasswd/--tokens: reads need no credentials, writes do\n"
    "--tls-cert/--tls-key  serve HTTPS with these PEM files\n"
    "--upstream URL    a shared tier behind the store: http(s)://HOST[:PORT][/PREFIX] (another\n"
    "                  Forge, bazel-remote, nginx WebDAV; basic auth from FORGE_UPSTREAM_AUTH)\n"
    "                  or s3://BUCKET[/PREFIX] (credentials from AWS_* or ~/.aws/credentials)\n"
    "                  or grpc://HOST:PORT[/INSTANCE], grpcs://... (any REAPI v2 cache; bearer\n"
    "                  token from the file FORGE_UPSTREAM_TOKEN_FILE or FORGE_UPSTREAM_TOKEN;\n"
    "                  TLS CA/client cert/key from FORGE_UPSTREAM_CA/_CERT/_KEY).\n"
    "                  Misses are read through (verified); writes are queued in\n"
    "                  STORE/upstream-queue and uploaded in the background\n"
    "--upstream-write  behind (default: queued, survives restarts) or through (synchronous)\n"
    "--s3-endpoint/--s3-region  for s3:// (default region: AWS_REGION, else us-east-1)\n"
    "Config keys (forge --config FILE serve; flags override them): server.raw_prefix,\n"
    "server.instances, server.read_only, cache.max_size, cache.max_blob_size,\n"
    "cache.upstream, cache.upstream_write, cache.s3_endpoint, cache.s3_region.\n"
    "SIGINT/SIGTERM: stop accepting, finish in-flight requests (30 s at most), exit 0.";

// The `serve` entry of the command table, run by `run`.
constexpr Command serve_command(int (*run)(std::vector<std::string> args)) {
  return Command{
      .name = "serve",
      .summary = "serve the store as a Bazel/ccache remote cache over HTTP and gRPC",
      .usage = k_serve_usage,
      .run = run,
  };
}

}  // namespace forge::cli
