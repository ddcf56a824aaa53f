// `forge cache put|get|stat`: the content-addressed store from the command line.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "command.h"
#include "forge/cache/cas_store.h"

namespace forge::cli {
namespace {

constexpr std::string_view k_usage =
    "usage: forge cache put FILE... [--dir STORE]\n"
    "       forge cache get HEX/SIZE [-o FILE | --output FILE] [--dir STORE]\n"
    "       forge cache stat [--dir STORE]\n\n"
    "put:  stores each FILE (streamed, hashed, fsync'ed, renamed into place) and prints\n"
    "      `HEX/SIZE  FILE`.\n"
    "get:  writes the blob to stdout or FILE; exit 1 when it is not in the store.\n"
    "stat: entries and bytes as JSON.\n"
    "STORE defaults to $XDG_CACHE_HOME/forge (or ~/.cache/forge).";

std::filesystem::path default_store() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "forge";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".cache" / "forge";
  }
  return "/tmp/forge-cache";
}

int report(const Error& error, int code) {
  fmt::print(stderr, "forge cache: {}\n", error.to_string());
  return code;
}

Result<cache::BlobDigest> put_file(cache::CasStore& store, const std::string& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(Error::from_errno(errno, "open", file));
  auto writer = store.begin_put(std::nullopt);
  if (!writer) {
    ::close(fd);
    return fail(std::move(writer).error());
  }
  std::vector<std::byte> buffer(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error error = Error::from_errno(errno, "read", file);
      ::close(fd);
      return fail(std::move(error));
    }
    if (n == 0) break;
    if (auto written = writer->write(std::span(buffer).first(static_cast<std::size_t>(n)));
        !written) {
      ::close(fd);
      return fail(std::move(written).error());
    }
  }
  ::close(fd);
  return writer->commit();
}

int run(std::vector<std::string> tokens) {
  if (tokens.empty() || (tokens[0] != "put" && tokens[0] != "get" && tokens[0] != "stat")) {
    fmt::print(stderr, "{}\n", k_usage);
    return k_exit_usage;
  }
  const std::string action = tokens[0];
  for (auto& token : tokens) {
    if (token == "-o") token = "--output";
  }
  Args args(std::vector<std::string>(tokens.begin() + 1, tokens.end()));
  auto dir = args.option("dir");
  auto output = args.option("output");
  if (!dir || !output) return report(!dir ? dir.error() : output.error(), k_exit_usage);
  if (auto done = args.finish("--dir, -o/--output"); !done)
    return report(done.error(), k_exit_usage);
  const auto positional = args.positional();

  cache::StoreOptions options;
  options.dir = *dir ? std::filesystem::path(**dir) : default_store();
  auto store = cache::CasStore::open(options);
  if (!store) return report(store.error(), k_exit_failure);

  if (action == "stat") {
    auto stats = (*store)->stats();
    if (!stats) return report(stats.error(), k_exit_failure);
    fmt::print("{}\n", nlohmann::json{{"dir", options.dir.string()},
                                      {"entries", stats->entries},
                                      {"bytes", stats->bytes}}
                           .dump());
    return k_exit_ok;
  }
  if (action == "put") {
    if (positional.empty()) {
      fmt::print(stderr, "forge cache put: no FILE given\n\n{}\n", k_usage);
      return k_exit_usage;
    }
    int failures = 0;
    for (const auto& file : positional) {
      auto digest = put_file(**store, file);
      if (!digest) {
        ++failures;
        fmt::print(stderr, "forge cache: {}\n", digest.error().summary());
        continue;
      }
      fmt::print("{}  {}\n", digest->to_string(), file);
    }
    return failures == 0 ? k_exit_ok : k_exit_failure;
  }
  if (positional.size() != 1) {
    fmt::print(stderr, "forge cache get: give exactly one HEX/SIZE\n\n{}\n", k_usage);
    return k_exit_usage;
  }
  auto digest = cache::parse_blob_digest(positional[0]);
  if (!digest) return report(digest.error(), k_exit_usage);
  auto content = (*store)->get(*digest);
  if (!content) return report(content.error(), k_exit_failure);
  if (!*content) {
    fmt::print(stderr, "forge cache: {} is not in {}\n", digest->to_string(), options.dir.string());
    return k_exit_failure;
  }
  std::FILE* out = *output ? std::fopen((*output)->c_str(), "wb") : stdout;
  if (out == nullptr) return report(Error::from_errno(errno, "open", **output), k_exit_failure);
  const bool written =
      std::fwrite((*content)->data(), 1, (*content)->size(), out) == (*content)->size();
  if (out != stdout) std::fclose(out);
  if (!written)
    return report(Error::from_errno(EIO, "write", output->value_or("stdout")), k_exit_failure);
  return k_exit_ok;
}

const CommandRegistration k_registration{Command{
    .name = "cache",
    .summary = "put files into the content-addressed store, get blobs back, show its size",
    .usage = k_usage,
    .run = run,
}};

}  // namespace
}  // namespace forge::cli
