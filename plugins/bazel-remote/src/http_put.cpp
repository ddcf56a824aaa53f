// PUT of HttpServer: bodies streamed into the store, checked against their name.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <boost/asio/redirect_error.hpp>

#include "entry_key.h"
#include "forge/cache/upstream_tier.h"
#include "forge/core/hash/digest.h"
#include "forge/core/hash/hasher.h"
#include "http_body.h"
#include "http_response.h"
#include "http_server_impl.h"
#include "zstd_stream.h"

namespace forge::bazel_remote {
namespace {

// The local tier's record of a blob, never read through from an upstream. Not a coroutine:
// the thread-local scope ends before any suspension.
Result<std::optional<cache::BlobDigest>> find_local(const cache::CasStore& cas,
                                                    const hash::Digest& sha256) {
  const cache::LocalOnlyScope local;
  return cas.find(sha256);
}

}  // namespace

template <typename Stream>
Task<Outcome> HttpServer::Impl::handle_put(Stream& stream, beast::flat_buffer& buffer,
                                           Parser& parser, const Route& route) {
  const auto& message = parser.get();
  const RequestInfo request{message.version(), message.keep_alive(), false};
  const auto length = parser.content_length();  // none for chunked bodies
  std::string lower(route.hash);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (options.read_only) {
    co_return co_await send_text(stream, request, http::status::forbidden,
                                 "this cache is read-only; uploads are refused (server started "
                                 "with --read-only)\n",
                                 false);
  }
  // Turborepo's signature (remoteCache.signature): kept beside the artifact, sent back on GET.
  const std::string_view artifact_tag =
      route.kind == RouteKind::turbo_artifact ? view(message["x-artifact-tag"]) : "";
  if (!artifact_tag.empty() && !is_valid_artifact_tag(artifact_tag)) {
    co_return co_await send_text(
        stream, request, http::status::bad_request,
        fmt::format("x-artifact-tag must be 1 to {} printable ASCII characters\n",
                    k_max_artifact_tag),
        false);
  }
  const bool validated_ac = route.kind == RouteKind::ac && !options.ac_uses_raw;
  // An opaque value filed under route.key in the raw keyspace: raw entries, Turborepo
  // artifacts and, with --ac-raw, /ac/ entries.
  const bool raw_value = route.kind != RouteKind::cas && !validated_ac;
  // The store refuses blobs above its own maximum: enforced here too, so a 413 never depends
  // on how the store words its error.
  const std::uint64_t limit =
      validated_ac ? options.max_ac_body_size
                   : std::min(options.max_body_size, cache->cas().options().max_blob_size);
  if (length && *length > limit) {
    co_return co_await send_text(
        stream, request, http::status::payload_too_large,
        fmt::format("body of {} bytes exceeds the limit of {} bytes; raise --max-blob-size\n",
                    *length, limit),
        false);
  }
  const auto expect = message[http::field::expect];
  if (beast::iequals(expect, "100-continue")) {
    http::response<http::empty_body> go_on{http::status::continue_, request.version};
    if (auto ec = co_await write_message(stream, go_on); ec) co_return Outcome{{}, 0, 0, false};
  }
  Outcome outcome;
  bool complete = false;
  const auto sha = hash::Digest::parse(hash::Algorithm::sha256, lower);

  // CAS blob already present with the announced size: drain the body, skip the disk. Only
  // the local tier is asked: the body is on its way, and a write must never wait for an
  // upstream (find() would read the blob through from it, or time out on a hung one).
  if (route.kind == RouteKind::cas && length) {
    const auto existing = find_local(cache->cas(), *sha);
    if (existing && *existing && (*existing)->size == *length) {
      // Still checked (hashing costs far less than the disk): a wrong body gets its 400.
      hash::MultiHasher hasher(hash::AlgorithmSet::only(hash::Algorithm::sha256));
      auto ec = co_await read_body(
          stream, buffer, parser,
          [&](std::span<const char> piece) {
            hasher.update(std::as_bytes(piece));
            return true;
          },
          complete, outcome.bytes_in);
      if (ec || !complete) co_return co_await body_failed(stream, request, ec, outcome.bytes_in);
      const auto actual = hasher.finish().sha256;
      const bool matches = actual && *actual == *sha;
      // Not a conditional expression of two co_awaits: GCC 12 destroys temporaries of such
      // expressions twice.
      Outcome sent;
      if (matches) {
        sent = co_await send_text(stream, request, http::status::ok, "", !stopping);
      } else {
        std::string text = fmt::format(
            "the body's SHA-256 is {}, not {}: it does not match its name; nothing was stored\n",
            actual ? actual->hex() : std::string("?"), lower);
        sent = co_await send_text(stream, request, http::status::bad_request, std::move(text),
                                  !stopping);
      }
      sent.bytes_in = outcome.bytes_in;
      co_return sent;
    }
  }

  if (validated_ac) {
    std::string body;
    bool too_big = false;
    auto ec = co_await read_body(
        stream, buffer, parser,
        [&](std::span<const char> piece) {
          if (body.size() + piece.size() > limit) {
            too_big = true;
            return false;
          }
          body.append(piece.data(), piece.size());
          return true;
        },
        complete, outcome.bytes_in);
    if (ec) co_return co_await body_failed(stream, request, ec, outcome.bytes_in);
    if (too_big) {
      co_return co_await send_text(
          stream, request, http::status::payload_too_large,
          fmt::format("action result exceeds the limit of {} bytes\n", limit), false);
    }
    auto stored = cache->put(cache::Keyspace::ac, route.key, body);
    if (!stored) {
      auto sent = co_await send_text(stream, request, status_for(stored.error()),
                                     error_body(stored.error()), !stopping);
      sent.bytes_in = outcome.bytes_in;
      co_return sent;
    }
    auto sent = co_await send_text(stream, request, http::status::ok, "", !stopping);
    sent.bytes_in = outcome.bytes_in;
    co_return sent;
  }

  // Stream into the store: CAS bodies are checked against their name, raw values are not.
  // A zstd body (Content-Encoding: zstd) is decoded as it arrives; its Content-Length is the
  // compressed size, so only the hash can be checked.
  const bool compressed = beast::iequals(message[http::field::content_encoding], "zstd");
  Result<cache::BlobWriter> writer =
      raw_value ? cache->cas().begin_put(std::nullopt)
                : (length && !compressed ? cache->cas().begin_put(cache::BlobDigest{*sha, *length})
                                         : cache->cas().begin_put_expecting_hash(*sha));
  std::optional<ZstdDecompressor> decompressor;
  if (compressed) decompressor.emplace();
  if (!writer) {
    co_return co_await send_text(stream, request, status_for(writer.error()),
                                 error_body(writer.error()), false);
  }
  // A zstd body of a blob the store holds cannot decode to more than that blob's size: stop
  // there (a small bomb must not expand to gigabytes on disk before its hash is checked).
  std::optional<std::uint64_t> known_size;
  if (compressed && route.kind == RouteKind::cas) {
    if (const auto existing = find_local(cache->cas(), *sha); existing && *existing) {
      known_size = (*existing)->size;
    }
  }
  std::optional<Error> write_error;
  std::uint64_t stored = 0;  // decoded bytes
  auto store = [&](std::span<const std::byte> plain) -> Result<void> {
    stored += plain.size();
    if (known_size && stored > *known_size) {
      return fail(Error(ErrorCategory::validation,
                        fmt::format("the body decodes to more than the {} bytes of blob {}: it "
                                    "does not match its name",
                                    *known_size, lower))
                      .with_suggestion("upload the blob the name was computed from"));
    }
    if (stored > limit) {
      return fail(Error(ErrorCategory::validation,
                        fmt::format("body exceeds the limit of {} bytes", limit), EFBIG)
                      .with_suggestion("raise --max-blob-size"));
    }
    return writer->write(plain);
  };
  auto ec = co_await read_body(
      stream, buffer, parser,
      [&](std::span<const char> piece) {
        auto written = decompressor ? decompressor->feed(std::as_bytes(piece), store)
                                    : store(std::as_bytes(piece));
        if (!written) write_error = std::move(written).error();
        return written.has_value();
      },
      complete, outcome.bytes_in);
  // Client gone or garbled framing: the writer cleans up.
  if (ec) co_return co_await body_failed(stream, request, ec, outcome.bytes_in);
  if (write_error) {
    auto sent = co_await send_text(stream, request, status_for(*write_error),
                                   error_body(*write_error), false);
    sent.bytes_in = outcome.bytes_in;
    co_return sent;
  }
  if (decompressor && !decompressor->at_frame_end()) {
    co_return co_await send_text(stream, request, http::status::bad_request,
                                 "the zstd body ends in the middle of a frame\n", !stopping);
  }
  auto committed = writer->commit();
  Result<void> indexed = ok();
  if (committed && raw_value) {
    indexed = cache->put_digest(cache::Keyspace::raw, route.key, *committed);
  }
  // The tag after the artifact: a reader between the two sees no tag or the previous one,
  // which Turborepo rejects as unverified (a miss), never a wrong hit.
  if (committed && indexed && !artifact_tag.empty()) {
    if (auto tagged = cache->put(cache::Keyspace::raw, route.tag_key, artifact_tag); !tagged) {
      indexed = fail(std::move(tagged).error());
    }
  }
  const Error* failure = !committed ? &committed.error() : !indexed ? &indexed.error() : nullptr;
  auto sent = failure != nullptr
                  ? co_await send_text(stream, request, status_for(*failure), error_body(*failure),
                                       !stopping)
                  : co_await send_text(stream, request, http::status::ok, "", !stopping);
  sent.bytes_in = outcome.bytes_in;
  co_return sent;
}

template Task<Outcome> HttpServer::Impl::handle_put<Socket>(Socket&, beast::flat_buffer&, Parser&,
                                                            const Route&);
template Task<Outcome> HttpServer::Impl::handle_put<TlsStream>(TlsStream&, beast::flat_buffer&,
                                                               Parser&, const Route&);

}  // namespace forge::bazel_remote
