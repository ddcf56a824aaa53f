// The value parsers of config_loader.h that need no field table: listen addresses and the
// edit distance behind did-you-mean.
#include "forge/core/support/config_loader.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "forge/core/support/config_file.h"

namespace forge::support {

Result<ListenAddress> parse_listen_address(std::string_view address) {
  const auto bad = [&](std::string_view problem) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("listen address '{}': {}", quote_text(address), problem))
                    .with_suggestion("write \"host:port\" or \"[v6 address]:port\", port "
                                     "0..65535 (0: any free port), e.g. \"127.0.0.1:8080\""));
  };
  if (address.find('\0') != std::string_view::npos) return bad("it contains a NUL byte");
  std::string_view host;
  std::string_view port;
  if (address.starts_with("[")) {
    const auto close = address.find("]:");
    if (close == std::string_view::npos) return bad("an IPv6 address is written [addr]:port");
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos) return bad("the port is missing");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("an IPv6 address must be in brackets");
  }
  if (host.empty()) return bad("the host is missing");
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) {
    return bad(fmt::format("port '{}' is not a number", quote_text(port)));
  }
  const int number = std::stoi(std::string(port));
  if (number > 65535) return bad(fmt::format("port {} is outside 0..65535", number));
  return ListenAddress{std::string(host), static_cast<std::uint16_t>(number)};
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace forge::support
