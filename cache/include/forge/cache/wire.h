#pragma once
// The protobuf wire format (https://protobuf.dev/programming-guides/encoding/), just enough
// to read and write REAPI messages without linking a protobuf library into `forge` (whose
// start-up cost the CLI avoids, see cli/serve_launcher.cpp). The one reader for the action
// cache's ActionResult/Tree validation and forge_cas_tree's Directory messages.
//
// WireReader walks the fields of one message; a nested message is read with a new
// WireReader over the field's bytes. Errors are Validation errors whose message starts with
// "malformed <what>" (the message type given to the reader). WireWriter appends fields in
// the order they are written: callers write in field-number order to get protobuf's
// deterministic serialization (what Bazel hashes).
// Value types; not thread-safe. A WireReader views memory the caller keeps alive.

#include <cstdint>
#include <string>
#include <string_view>

#include "forge/core/support/error.h"

namespace forge::cache {

enum class WireType : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

struct WireField {
  std::uint32_t number = 0;
  WireType type = WireType::varint;
  std::uint64_t varint = 0;  // varint fields
  std::string_view bytes;    // length-delimited payload (views the reader's input)
};

class WireReader {
 public:
  // `what` names the message type in errors ("Directory"); `suggestion` replaces the default
  // fix in them ("the blob is not a serialized ...<what>; check the digest").
  WireReader(std::string_view data, std::string_view what, std::string_view suggestion = {})
      : m_data(data), m_what(what), m_suggestion(suggestion) {}
  bool done() const { return m_pos >= m_data.size(); }
  // The next field; fixed-width fields are skipped over (their value is not kept).
  Result<WireField> next();
  // A Validation error "malformed <what>: <detail>".
  Error malformed(std::string_view detail) const;

 private:
  Result<std::uint64_t> varint();
  std::string_view m_data;
  std::string_view m_what;
  std::string_view m_suggestion;
  std::size_t m_pos = 0;
};

class WireWriter {
 public:
  void varint_field(std::uint32_t number, std::uint64_t value);
  void bytes_field(std::uint32_t number, std::string_view bytes);
  const std::string& bytes() const { return m_out; }
  std::string take() { return std::move(m_out); }

 private:
  void varint(std::uint64_t value);
  std::string m_out;
};

}  // namespace forge::cache
