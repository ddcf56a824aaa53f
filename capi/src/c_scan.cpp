// forge_index / forge_changes: a scan index of one root and its change sets (see forge.h).
#include <cctype>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "c_status.h"
#include "forge/core/io/backend_selector.h"
#include "forge/core/scan/file_index.h"
#include "forge/core/scan/scanner.h"

struct forge_index {
  std::filesystem::path root;
  std::filesystem::path index_dir;
  std::unique_ptr<forge::io::PlatformIO> io;
  std::unique_ptr<forge::scan::FileIndex> index;  // the Scanner refers to it: never moved
  std::unique_ptr<forge::scan::Scanner> scanner;
  std::mutex scan_mutex;  // Scanner allows one scan at a time per index
  forge::capi::ErrorSlot error;
};

struct forge_changes {
  forge::scan::ChangeSet set;
  std::size_t next = 0;
};

namespace {

using forge::capi::fail_with;
using forge::capi::guarded;
using forge::capi::null_argument;

// forge_entry_type is EntryType's numbering, so a change converts with a cast.
static_assert(static_cast<int>(forge::scan::EntryType::file) == FORGE_ENTRY_FILE &&
              static_cast<int>(forge::scan::EntryType::directory) == FORGE_ENTRY_DIRECTORY &&
              static_cast<int>(forge::scan::EntryType::symlink) == FORGE_ENTRY_SYMLINK &&
              static_cast<int>(forge::scan::EntryType::other) == FORGE_ENTRY_OTHER);

constexpr unsigned k_known_scan_flags = FORGE_SCAN_SHA256 | FORGE_SCAN_NO_GITIGNORE;

// "<instance>:<decimal>", the only shape Scanner::cursor produces.
bool well_formed_cursor(std::string_view cursor) {
  const auto colon = cursor.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == cursor.size()) return false;
  for (const char c : cursor.substr(colon + 1)) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

forge_status hand_out(forge::Result<forge::scan::ChangeSet> set, forge_changes** out,
                      forge::capi::ErrorSlot* slot) {
  if (!set) return fail_with(set.error(), slot);
  auto changes = std::make_unique<forge_changes>();
  changes->set = std::move(*set);
  *out = changes.release();
  return FORGE_OK;
}

forge_change_kind kind_of(forge::scan::ChangeKind kind) {
  switch (kind) {
    case forge::scan::ChangeKind::added: return FORGE_CHANGE_ADDED;
    case forge::scan::ChangeKind::removed: return FORGE_CHANGE_REMOVED;
    case forge::scan::ChangeKind::type_changed: return FORGE_CHANGE_TYPE_CHANGED;
    case forge::scan::ChangeKind::modified:
    default: return FORGE_CHANGE_MODIFIED;
  }
}

}  // namespace

extern "C" {

forge_status forge_index_open(const char* root, const char* index_dir, forge_index** out) {
  if (out == nullptr) return null_argument("forge_index_open", "out");
  *out = nullptr;
  if (root == nullptr) return null_argument("forge_index_open", "root");
  return guarded(nullptr, [&] {
    auto handle = std::make_unique<forge_index>();
    std::error_code ec;
    handle->root = std::filesystem::canonical(root, ec);
    if (ec) return fail_with(forge::Error::from_error_code(ec, "forge_index_open", root));
    if (!std::filesystem::is_directory(handle->root, ec)) {
      return fail_with(forge::Error::from_errno(ENOTDIR, "forge_index_open", root));
    }
    handle->index_dir = index_dir != nullptr ? std::filesystem::absolute(index_dir)
                                             : forge::scan::default_index_dir(handle->root);
    auto io = forge::io::create_platform_io(forge::support::IoConfig{});
    if (!io) return fail_with(io.error());
    handle->io = std::move(*io);
    auto index = forge::scan::FileIndex::open(handle->index_dir);
    if (!index) return fail_with(index.error());
    handle->index = std::make_unique<forge::scan::FileIndex>(std::move(*index));
    handle->scanner =
        std::make_unique<forge::scan::Scanner>(handle->root, *handle->index, *handle->io);
    *out = handle.release();
    return FORGE_OK;
  });
}

forge_status forge_index_close(forge_index** index) {
  if (index == nullptr) return null_argument("forge_index_close", "index");
  if (*index == nullptr) return forge::capi::null_handle();
  delete *index;
  *index = nullptr;
  return FORGE_OK;
}

forge_status forge_index_scan(forge_index* index, unsigned flags, forge_changes** out) {
  if (index == nullptr) return forge::capi::null_handle();
  auto* slot = &index->error;
  if (out == nullptr) return null_argument("forge_index_scan", "out", slot);
  *out = nullptr;
  if ((flags & ~k_known_scan_flags) != 0) {
    return fail_with(FORGE_E_INVALID_ARGUMENT,
                     "forge_index_scan: unknown flags " + std::to_string(flags) +
                         "; pass FORGE_SCAN_SHA256 and/or FORGE_SCAN_NO_GITIGNORE",
                     slot);
  }
  return guarded(slot, [&] {
    forge::scan::ScanOptions options;
    options.sha256 = (flags & FORGE_SCAN_SHA256) != 0;
    options.walk.use_gitignore = (flags & FORGE_SCAN_NO_GITIGNORE) == 0;
    options.walk.skip_dirs.push_back(index->index_dir);
    std::lock_guard lock(index->scan_mutex);
    return hand_out(index->scanner->scan(options), out, slot);
  });
}

forge_status forge_index_since(forge_index* index, const char* cursor, forge_changes** out) {
  if (index == nullptr) return forge::capi::null_handle();
  auto* slot = &index->error;
  if (out == nullptr) return null_argument("forge_index_since", "out", slot);
  *out = nullptr;
  return guarded(slot, [&] {
    const std::string_view text = cursor == nullptr ? std::string_view() : cursor;
    if (!text.empty() && !well_formed_cursor(text)) {
      return fail_with(FORGE_E_INVALID_ARGUMENT,
                       "forge_index_since: malformed cursor '" + std::string(text) +
                           "'; pass a cursor from forge_changes_info_get, or NULL for all files",
                       slot);
    }
    return hand_out(index->scanner->since(text), out, slot);
  });
}

const char* forge_index_error(const forge_index* index) {
  return index == nullptr ? forge::capi::k_null_handle_message : index->error.message();
}

forge_status forge_changes_info_get(const forge_changes* changes, forge_changes_info* info) {
  if (changes == nullptr) return forge::capi::null_handle();
  if (info == nullptr) return null_argument("forge_changes_info_get", "info");
  info->cursor = changes->set.cursor.c_str();
  info->fresh_instance = changes->set.fresh_instance ? 1 : 0;
  info->count = changes->set.changes.size();
  info->entries = changes->set.entries;
  info->hashed = changes->set.hashed;
  info->errors = changes->set.errors.size();
  return FORGE_OK;
}

forge_status forge_changes_next(forge_changes* changes, forge_change* change) {
  if (changes == nullptr) return forge::capi::null_handle();
  if (change == nullptr) return null_argument("forge_changes_next", "change");
  if (changes->next >= changes->set.changes.size()) return FORGE_END;
  const forge::scan::Change& from = changes->set.changes[changes->next++];
  change->path = from.path.c_str();
  change->kind = kind_of(from.kind);
  change->type = static_cast<forge_entry_type>(static_cast<int>(from.type));
  change->xxh3[0] = '\0';
  change->sha256[0] = '\0';
  if (from.xxh3) forge::capi::copy_hex(*from.xxh3, change->xxh3, sizeof change->xxh3);
  if (from.sha256) forge::capi::copy_hex(*from.sha256, change->sha256, sizeof change->sha256);
  return FORGE_OK;
}

forge_status forge_changes_free(forge_changes** changes) {
  if (changes == nullptr) return null_argument("forge_changes_free", "changes");
  if (*changes == nullptr) return forge::capi::null_handle();
  delete *changes;
  *changes = nullptr;
  return FORGE_OK;
}

}  // extern "C"
