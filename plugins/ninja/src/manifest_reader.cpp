// The build.ninja reader (manifest.h): a small recursive-descent parser over Ninja 1.11's
// grammar, then evaluation of each edge's rule bindings with Ninja's lookup order.
#include <deque>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "forge/ninja/manifest.h"

namespace forge::ninja {
namespace {

// A string with $variable references, kept unevaluated until its scope is known.
struct EvalString {
  std::vector<std::pair<std::string, bool>> parts;  // (text, is_variable)
  bool empty() const { return parts.empty(); }
};

struct Rule {
  std::unordered_map<std::string, EvalString> bindings;
};

struct Scope {
  std::unordered_map<std::string, std::string> vars;
  std::unordered_map<std::string, Rule> rules;
  Scope* parent = nullptr;

  std::string lookup(const std::string& name) const {
    for (const Scope* scope = this; scope != nullptr; scope = scope->parent) {
      if (const auto it = scope->vars.find(name); it != scope->vars.end()) return it->second;
    }
    return {};
  }
  const Rule* rule(const std::string& name) const {
    for (const Scope* scope = this; scope != nullptr; scope = scope->parent) {
      if (const auto it = scope->rules.find(name); it != scope->rules.end()) return &it->second;
    }
    return nullptr;
  }
};

template <typename Lookup>
std::string evaluate(const EvalString& value, Lookup&& lookup) {
  std::string out;
  for (const auto& [text, is_variable] : value.parts) out += is_variable ? lookup(text) : text;
  return out;
}

bool is_varname_char(char c, bool braced) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || (braced && c == '.');
}

struct PendingEdge {
  std::size_t index = 0;  // into Manifest::edges
  const Rule* rule = nullptr;
  Scope* env = nullptr;  // the edge's own scope, or its file's scope when it has no bindings
};

class Reader {
 public:
  explicit Reader(std::filesystem::path dir) : m_dir(std::move(dir)) {}

  Result<Manifest> read(const std::string& file) {
    m_scopes.push_back(std::make_unique<Scope>());
    FORGE_TRY_VOID(parse_file(file, *m_scopes.back()));
    for (const PendingEdge& pending : m_pending) FORGE_TRY_VOID(finish_edge(pending));
    return std::move(m_manifest);
  }

 private:
  // --- lexing over one file's text -----------------------------------------------------
  struct Cursor {
    std::string name;
    std::string text;
    std::size_t pos = 0;
    std::size_t line = 1;
    char peek(std::size_t ahead = 0) const {
      return pos + ahead < text.size() ? text[pos + ahead] : '\0';
    }
    bool at_end() const { return pos >= text.size(); }
  };

  Error syntax(const Cursor& in, std::string_view what) const {
    return Error(ErrorCategory::validation, fmt::format("{}:{}: {}", in.name, in.line, what))
        .with_file(in.name)
        .with_operation("ninja.read_manifest")
        .with_suggestion("run plain ninja to see its own diagnosis of the manifest");
  }

  static void eat_whitespace(Cursor& in) {
    for (;;) {
      if (in.peek() == ' ') {
        ++in.pos;
      } else if (in.peek() == '$' && in.peek(1) == '\n') {
        in.pos += 2;
        ++in.line;
      } else if (in.peek() == '$' && in.peek(1) == '\r' && in.peek(2) == '\n') {
        in.pos += 3;
        ++in.line;
      } else {
        return;
      }
    }
  }

  Result<void> expect_newline(Cursor& in) const {
    eat_whitespace(in);
    if (in.peek() == '\r' && in.peek(1) == '\n') ++in.pos;
    if (in.at_end()) return ok();
    if (in.peek() != '\n') return fail(syntax(in, "expected a newline"));
    ++in.pos;
    ++in.line;
    return ok();
  }

  static std::string read_ident(Cursor& in) {
    const std::size_t start = in.pos;
    while (is_varname_char(in.peek(), true)) ++in.pos;
    return in.text.substr(start, in.pos - start);
  }

  // A path (stops at space, ':', '|', newline) or a value (stops at the newline).
  Result<EvalString> read_eval(Cursor& in, bool path) const {
    EvalString out;
    auto literal = [&](std::string_view text) {
      if (out.parts.empty() || out.parts.back().second) out.parts.emplace_back("", false);
      out.parts.back().first += text;
    };
    while (!in.at_end()) {
      const char c = in.peek();
      if (c == '\n' || (c == '\r' && in.peek(1) == '\n')) break;
      if (path && (c == ' ' || c == ':' || c == '|')) break;
      if (c != '$') {
        literal(std::string_view(&in.text[in.pos], 1));
        ++in.pos;
        continue;
      }
      const char next = in.peek(1);
      if (next == '$' || next == ' ' || next == ':') {
        literal(std::string_view(&in.text[in.pos + 1], 1));
        in.pos += 2;
      } else if (next == '\n' || (next == '\r' && in.peek(2) == '\n')) {
        in.pos += next == '\n' ? 2 : 3;
        ++in.line;
        while (in.peek() == ' ') ++in.pos;
      } else if (next == '{') {
        in.pos += 2;
        const std::size_t start = in.pos;
        while (is_varname_char(in.peek(), true)) ++in.pos;
        if (in.peek() != '}' || in.pos == start) return fail(syntax(in, "bad ${...} reference"));
        out.parts.emplace_back(in.text.substr(start, in.pos - start), true);
        ++in.pos;
      } else if (is_varname_char(next, false)) {
        ++in.pos;
        const std::size_t start = in.pos;
        while (is_varname_char(in.peek(), false)) ++in.pos;
        out.parts.emplace_back(in.text.substr(start, in.pos - start), true);
      } else {
        return fail(syntax(in, "bad $-escape (use $$ for a literal $)"));
      }
    }
    return out;
  }

  Result<std::pair<std::string, EvalString>> read_let(Cursor& in) const {
    std::string name = read_ident(in);
    if (name.empty()) return fail(syntax(in, "expected a variable name"));
    eat_whitespace(in);
    if (in.peek() != '=') return fail(syntax(in, "expected '='"));
    ++in.pos;
    eat_whitespace(in);
    FORGE_TRY(EvalString value, read_eval(in, false));
    FORGE_TRY_VOID(expect_newline(in));
    return std::pair{std::move(name), std::move(value)};
  }

  // True when the next line is an indented binding. Skips comment lines on the way.
  static bool at_indent(Cursor& in) {
    for (;;) {
      std::size_t spaces = 0;
      while (in.peek(spaces) == ' ') ++spaces;
      const char next = in.peek(spaces);
      if (next == '#') {
        while (!in.at_end() && in.peek() != '\n') ++in.pos;
        if (!in.at_end()) {
          ++in.pos;
          ++in.line;
        }
        continue;
      }
      if (next == '\n' || next == '\r' || next == '\0') {
        in.pos += spaces;  // a blank line: ends a block, skipped at the top level
        return false;
      }
      if (spaces == 0) return false;
      in.pos += spaces;
      return true;
    }
  }

  // Paths until a terminator, unevaluated.
  Result<void> read_paths(Cursor& in, std::vector<EvalString>& out) const {
    for (;;) {
      FORGE_TRY(EvalString path, read_eval(in, true));
      if (path.empty()) return ok();
      out.push_back(std::move(path));
      eat_whitespace(in);
    }
  }

  // --- statements --------------------------------------------------------------------------
  Result<void> parse_file(const std::string& file, Scope& scope) {
    if (++m_depth > 64) return fail(Error(ErrorCategory::validation, "include nesting too deep"));
    Cursor in;
    in.name = file;
    m_manifest.files.push_back(file);
    const std::filesystem::path path =
        std::filesystem::path(file).is_absolute() ? std::filesystem::path(file) : m_dir / file;
    std::ifstream stream(path, std::ios::binary);
    if (!stream) {
      return fail(
          Error::from_errno(errno == 0 ? ENOENT : errno, "ninja.read_manifest", path.string())
              .with_suggestion("run forge ninja -C on a directory configured for Ninja "
                               "(cmake -G Ninja)"));
    }
    std::ostringstream text;
    text << stream.rdbuf();
    in.text = text.str();
    while (!in.at_end()) {
      if (at_indent(in)) return fail(syntax(in, "unexpected indent"));
      if (in.at_end()) break;
      if (in.peek() == '\n' || in.peek() == '\r') {
        FORGE_TRY_VOID(expect_newline(in));
        continue;
      }
      const std::size_t start = in.pos;
      const std::string keyword = read_ident(in);
      eat_whitespace(in);
      if (keyword == "build") {
        FORGE_TRY_VOID(parse_build(in, scope));
      } else if (keyword == "rule") {
        FORGE_TRY_VOID(parse_rule(in, scope));
      } else if (keyword == "pool") {
        read_ident(in);
        FORGE_TRY_VOID(expect_newline(in));
        while (at_indent(in)) FORGE_TRY_VOID(read_let(in));
      } else if (keyword == "default") {
        std::vector<EvalString> targets;
        FORGE_TRY_VOID(read_paths(in, targets));
        for (const EvalString& target : targets) {
          m_manifest.defaults.push_back(canonicalize_path(
              evaluate(target, [&](const std::string& v) { return scope.lookup(v); })));
        }
        FORGE_TRY_VOID(expect_newline(in));
      } else if (keyword == "include" || keyword == "subninja") {
        FORGE_TRY(EvalString name, read_eval(in, true));
        FORGE_TRY_VOID(expect_newline(in));
        const std::string included =
            evaluate(name, [&](const std::string& v) { return scope.lookup(v); });
        if (keyword == "include") {
          FORGE_TRY_VOID(parse_file(included, scope));
        } else {
          m_scopes.push_back(std::make_unique<Scope>());
          m_scopes.back()->parent = &scope;
          FORGE_TRY_VOID(parse_file(included, *m_scopes.back()));
        }
      } else {
        in.pos = start;
        FORGE_TRY(auto let, read_let(in));
        scope.vars[let.first] =
            evaluate(let.second, [&](const std::string& v) { return scope.lookup(v); });
      }
    }
    --m_depth;
    return ok();
  }

  Result<void> parse_rule(Cursor& in, Scope& scope) {
    const std::string name = read_ident(in);
    if (name.empty()) return fail(syntax(in, "expected a rule name"));
    FORGE_TRY_VOID(expect_newline(in));
    Rule rule;
    while (at_indent(in)) {
      FORGE_TRY(auto let, read_let(in));
      rule.bindings[let.first] = std::move(let.second);
    }
    if (!scope.rules.emplace(name, std::move(rule)).second) {
      return fail(syntax(in, fmt::format("duplicate rule '{}'", name)));
    }
    return ok();
  }

  Result<void> parse_build(Cursor& in, Scope& scope) {
    std::vector<EvalString> outs, implicit_outs, ins, implicit, order_only, validations;
    FORGE_TRY_VOID(read_paths(in, outs));
    if (in.peek() == '|') {
      ++in.pos;
      eat_whitespace(in);
      FORGE_TRY_VOID(read_paths(in, implicit_outs));
    }
    if (outs.empty() && implicit_outs.empty()) return fail(syntax(in, "build without outputs"));
    if (in.peek() != ':') return fail(syntax(in, "expected ':' after the outputs"));
    ++in.pos;
    eat_whitespace(in);
    const std::string rule_name = read_ident(in);
    eat_whitespace(in);
    FORGE_TRY_VOID(read_paths(in, ins));
    if (in.peek() == '|' && in.peek(1) != '|' && in.peek(1) != '@') {
      ++in.pos;
      eat_whitespace(in);
      FORGE_TRY_VOID(read_paths(in, implicit));
    }
    if (in.peek() == '|' && in.peek(1) == '|') {
      in.pos += 2;
      eat_whitespace(in);
      FORGE_TRY_VOID(read_paths(in, order_only));
    }
    if (in.peek() == '|' && in.peek(1) == '@') {
      in.pos += 2;
      eat_whitespace(in);
      FORGE_TRY_VOID(read_paths(in, validations));
    }
    FORGE_TRY_VOID(expect_newline(in));

    PendingEdge pending;
    if (rule_name != "phony") {
      pending.rule = scope.rule(rule_name);
      if (pending.rule == nullptr)
        return fail(syntax(in, fmt::format("unknown rule '{}'", rule_name)));
    }
    pending.env = &scope;
    if (at_indent(in)) {
      m_scopes.push_back(std::make_unique<Scope>());
      Scope* own = m_scopes.back().get();
      own->parent = &scope;
      do {
        FORGE_TRY(auto let, read_let(in));
        // Edge bindings are evaluated in the file's scope, as Ninja does.
        own->vars[let.first] =
            evaluate(let.second, [&](const std::string& v) { return scope.lookup(v); });
      } while (at_indent(in));
      pending.env = own;
    }
    const auto lookup = [&](const std::string& v) { return pending.env->lookup(v); };
    Edge edge;
    edge.rule = rule_name;
    auto add = [&](std::vector<std::string>& to, const std::vector<EvalString>& from) {
      for (const EvalString& path : from) to.push_back(canonicalize_path(evaluate(path, lookup)));
      return from.size();
    };
    edge.explicit_outputs = add(edge.outputs, outs);
    add(edge.outputs, implicit_outs);
    edge.explicit_inputs = add(edge.inputs, ins);
    edge.implicit_inputs = add(edge.inputs, implicit);
    edge.order_only_inputs = add(edge.inputs, order_only);
    pending.index = m_manifest.edges.size();
    for (const std::string& output : edge.outputs) {
      if (!m_manifest.producer.emplace(output, pending.index).second) {
        return fail(syntax(in, fmt::format("multiple rules generate {}", output)));
      }
    }
    m_manifest.edges.push_back(std::move(edge));
    m_pending.push_back(pending);
    return ok();
  }

  // --- evaluation of rule bindings (Ninja's EdgeEnv) ---------------------------------------
  Result<std::string> binding(const PendingEdge& pending, const std::string& name,
                              int depth) const {
    const Edge& edge = m_manifest.edges[pending.index];
    if (depth > 32) {
      return fail(Error(ErrorCategory::validation,
                        fmt::format("cycle in rule variables while evaluating '{}' of {}", name,
                                    edge.outputs.front()))
                      .with_operation("ninja.read_manifest"));
    }
    if (name == "in" || name == "in_newline" || name == "out") {
      const bool out = name == "out";
      const auto& paths = out ? edge.outputs : edge.inputs;
      const std::size_t count = out ? edge.explicit_outputs : edge.explicit_inputs;
      std::string joined;
      for (std::size_t i = 0; i < count; ++i) {
        if (i > 0) joined += name == "in_newline" ? '\n' : ' ';
        joined += shell_escape(paths[i]);
      }
      return joined;
    }
    if (const auto it = pending.env->vars.find(name); it != pending.env->vars.end()) {
      return it->second;
    }
    if (pending.rule != nullptr) {
      if (const auto it = pending.rule->bindings.find(name); it != pending.rule->bindings.end()) {
        std::string out;
        for (const auto& [text, is_variable] : it->second.parts) {
          if (!is_variable) {
            out += text;
            continue;
          }
          FORGE_TRY(std::string value, binding(pending, text, depth + 1));
          out += value;
        }
        return out;
      }
    }
    return pending.env->parent != nullptr ? pending.env->parent->lookup(name) : std::string();
  }

  Result<void> finish_edge(const PendingEdge& pending) {
    Edge& edge = m_manifest.edges[pending.index];
    if (edge.is_phony()) return ok();
    FORGE_TRY(edge.command, binding(pending, "command", 0));
    FORGE_TRY(const std::string rspfile_content, binding(pending, "rspfile_content", 0));
    if (!rspfile_content.empty()) edge.command += ";rspfile=" + rspfile_content;
    FORGE_TRY(edge.deps, binding(pending, "deps", 0));
    FORGE_TRY(edge.depfile, binding(pending, "depfile", 0));
    FORGE_TRY(const std::string restat, binding(pending, "restat", 0));
    FORGE_TRY(const std::string generator, binding(pending, "generator", 0));
    FORGE_TRY(const std::string dyndep, binding(pending, "dyndep", 0));
    edge.restat = !restat.empty();
    edge.generator = !generator.empty();
    if (!dyndep.empty()) {
      return fail(Error(ErrorCategory::validation,
                        fmt::format("{} uses dyndep, which forge ninja does not model",
                                    edge.outputs.front()))
                      .with_operation("ninja.read_manifest")
                      .with_suggestion("this build runs with plain ninja"));
    }
    return ok();
  }

  std::filesystem::path m_dir;
  std::deque<std::unique_ptr<Scope>> m_scopes;
  std::vector<PendingEdge> m_pending;
  Manifest m_manifest;
  int m_depth = 0;
};

}  // namespace

Result<Manifest> read_manifest(const std::filesystem::path& dir, const std::string& file) {
  return Reader(dir).read(file);
}

std::string canonicalize_path(std::string_view path) {
  std::vector<std::string_view> parts;
  const bool absolute = path.starts_with('/');
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!absolute) {
        parts.push_back(part);
      }
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out = absolute ? "/" : "";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

std::string shell_escape(std::string_view path) {
  const bool safe = path.find_first_not_of(
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789_+-./") == std::string_view::npos;
  if (safe) return std::string(path);
  std::string out = "'";
  for (const char c : path) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace forge::ninja
