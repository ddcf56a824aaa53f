#include "http_headers.h"

#include <cctype>

namespace forge::bazel_remote {
namespace {

std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); nullopt-like -1 if malformed.
int parse_qvalue(std::string_view text) {
  if (text.empty() || (text[0] != '0' && text[0] != '1')) return -1;
  int thousandths = (text[0] - '0') * 1000;
  if (text.size() == 1) return thousandths;
  if (text[1] != '.' || text.size() > 5) return -1;
  int scale = 100;
  for (const char c : text.substr(2)) {
    if (c < '0' || c > '9') return -1;
    thousandths += (c - '0') * scale;
    scale /= 10;
  }
  return thousandths <= 1000 ? thousandths : -1;
}

// The quality of one Accept-Encoding element's parameters ("; q=0.5"): 1000 without q.
int quality(std::string_view parameters) {
  int q = 1000;
  while (!parameters.empty()) {
    const auto semicolon = parameters.find(';');
    const auto parameter = trim(parameters.substr(0, semicolon));
    parameters =
        semicolon == std::string_view::npos ? std::string_view() : parameters.substr(semicolon + 1);
    if (parameter.empty()) continue;
    const auto equals = parameter.find('=');
    if (equals == std::string_view::npos) return 0;
    if (iequals(trim(parameter.substr(0, equals)), "q")) {
      q = parse_qvalue(trim(parameter.substr(equals + 1)));
      if (q < 0) return 0;
    }
  }
  return q;
}

}  // namespace

bool accepts_coding(std::string_view accept_encoding, std::string_view coding) {
  bool accepted = false;
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    const auto element = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const auto semicolon = element.find(';');
    if (!iequals(trim(element.substr(0, semicolon)), coding)) continue;
    // The last mention wins, as with a repeated parameter.
    accepted = quality(semicolon == std::string_view::npos ? std::string_view()
                                                           : element.substr(semicolon + 1)) > 0;
  }
  return accepted;
}

bool is_plain_chunked(std::string_view transfer_encoding) {
  return iequals(trim(transfer_encoding), "chunked");
}

}  // namespace forge::bazel_remote
