#include "args.h"

#include <fmt/format.h>

#include "forge/core/support/byte_size.h"

namespace forge::cli {

Args::Args(std::vector<std::string> tokens)
    : m_tokens(std::move(tokens)), m_consumed(m_tokens.size(), false) {
  m_end_of_options = m_tokens.size();
  for (std::size_t i = 0; i < m_tokens.size(); ++i) {
    if (m_tokens[i] == "--") {
      m_end_of_options = i;
      m_consumed[i] = true;
      break;
    }
  }
}

Result<std::vector<std::string>> Args::options(std::string_view name) {
  std::vector<std::string> values;
  const std::string flag = fmt::format("--{}", name);
  const std::string prefix = flag + "=";
  for (std::size_t i = 0; i < m_end_of_options; ++i) {
    if (m_consumed[i]) continue;
    const std::string& token = m_tokens[i];
    if (token == flag) {
      if (i + 1 >= m_end_of_options) {
        return fail(
            Error(ErrorCategory::validation, fmt::format("option {} needs a value", flag), EINVAL)
                .with_suggestion(fmt::format("write {} VALUE or {}=VALUE", flag, flag)));
      }
      m_consumed[i] = m_consumed[i + 1] = true;
      values.push_back(m_tokens[i + 1]);
      ++i;
    } else if (token.starts_with(prefix)) {
      m_consumed[i] = true;
      values.push_back(token.substr(prefix.size()));
    }
  }
  return values;
}

Result<std::optional<std::string>> Args::option(std::string_view name) {
  FORGE_TRY(auto values, options(name));
  if (values.empty()) return std::optional<std::string>{};
  return std::optional<std::string>{values.back()};
}

bool Args::flag(std::string_view name) {
  const std::string flag = fmt::format("--{}", name);
  bool found = false;
  for (std::size_t i = 0; i < m_end_of_options; ++i) {
    if (!m_consumed[i] && m_tokens[i] == flag) {
      m_consumed[i] = true;
      found = true;
    }
  }
  return found;
}

std::vector<std::string> Args::positional() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < m_tokens.size(); ++i) {
    if (m_consumed[i]) continue;
    const std::string& token = m_tokens[i];
    if (i < m_end_of_options && token.size() > 1 && token[0] == '-') continue;
    out.push_back(token);
  }
  return out;
}

Result<void> Args::finish(std::string_view valid_options) const {
  for (std::size_t i = 0; i < m_end_of_options; ++i) {
    const std::string& token = m_tokens[i];
    if (!m_consumed[i] && token.size() > 1 && token[0] == '-') {
      return fail(
          Error(ErrorCategory::validation, fmt::format("unknown option '{}'", token), EINVAL)
              .with_suggestion(fmt::format("valid options: {}", valid_options)));
    }
  }
  return ok();
}

Result<std::uint64_t> parse_byte_size(std::string_view text, std::string_view what) {
  return support::parse_byte_size(text, what);
}

}  // namespace forge::cli
