#include "forge/core/watch/debouncer.h"

namespace forge::watch {
namespace {

// Merges a new event into what is pending for a path.
std::optional<EventKind> merge(EventKind old_kind, EventKind new_kind) {
  if (old_kind == EventKind::created && new_kind == EventKind::removed) return std::nullopt;
  if (old_kind == EventKind::created || old_kind == EventKind::renamed) {
    return new_kind == EventKind::removed ? EventKind::removed : old_kind;
  }
  if (old_kind == EventKind::removed && new_kind == EventKind::created) return EventKind::modified;
  if (new_kind == EventKind::removed) return EventKind::removed;
  return old_kind == EventKind::removed ? EventKind::removed : new_kind;
}

}  // namespace

std::string_view to_string(EventKind kind) {
  switch (kind) {
    case EventKind::created: return "created";
    case EventKind::modified: return "modified";
    case EventKind::removed: return "removed";
    case EventKind::renamed: return "renamed";
    case EventKind::rescan_required: return "rescan_required";
    default: return "unknown";
  }
}

bool skipped_name(std::string_view name) {
  return name == ".git" || name == ".forge";
}

std::string join_relative(const std::string& dir, std::string_view name) {
  return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
}

void Debouncer::clear() {
  m_pending.clear();
  m_moves.clear();
  m_immediate.clear();
}

void Debouncer::note(const std::string& path, EventKind kind, bool is_directory,
                     const std::string& from) {
  const auto now = Clock::now();
  auto it = m_pending.find(path);
  if (it == m_pending.end()) {
    m_pending.emplace(path, Pending{kind, from, is_directory, now});
    return;
  }
  const auto merged = merge(it->second.kind, kind);
  if (!merged) {
    m_pending.erase(it);
    return;
  }
  it->second.kind = *merged;
  if (!from.empty()) it->second.from = from;
  it->second.is_directory = is_directory;
  it->second.last = now;
}

void Debouncer::moved_from(std::uint64_t key, const std::string& path, bool is_directory) {
  m_moves[key] = Move{path, is_directory, Clock::now()};
}

std::optional<std::string> Debouncer::moved_to(std::uint64_t key, const std::string& path,
                                               bool is_directory) {
  auto move = m_moves.find(key);
  if (move == m_moves.end()) return std::nullopt;
  std::string from = std::move(move->second.path);
  m_moves.erase(move);
  m_pending.erase(from);
  note(path, EventKind::renamed, is_directory, from);
  return from;
}

void Debouncer::expire_moves(Clock::time_point now) {
  // A first half whose second never came within the window: moved out of the tree.
  for (auto it = m_moves.begin(); it != m_moves.end();) {
    if (now - it->second.at >= m_window) {
      note(it->second.path, EventKind::removed, it->second.is_directory);
      it = m_moves.erase(it);
    } else {
      ++it;
    }
  }
}

void Debouncer::forget_moves() {
  m_moves.clear();
}

void Debouncer::immediate(WatchEvent event) {
  m_immediate.push_back(std::move(event));
}

std::vector<WatchEvent> Debouncer::take_due(Clock::time_point now, Clock::time_point& next_due) {
  std::vector<WatchEvent> ready = std::move(m_immediate);
  m_immediate.clear();
  next_due = Clock::time_point::max();
  for (auto it = m_pending.begin(); it != m_pending.end();) {
    const auto due = it->second.last + m_window;
    if (due <= now) {
      ready.push_back(
          WatchEvent{it->second.kind, it->first, it->second.from, {}, it->second.is_directory});
      it = m_pending.erase(it);
    } else {
      next_due = std::min(next_due, due);
      ++it;
    }
  }
  return ready;
}

std::vector<WatchEvent> Debouncer::take_all() {
  std::vector<WatchEvent> ready = std::move(m_immediate);
  m_immediate.clear();
  for (const auto& [path, pending] : m_pending) {
    ready.push_back(WatchEvent{pending.kind, path, pending.from, {}, pending.is_directory});
  }
  m_pending.clear();
  return ready;
}

}  // namespace forge::watch
