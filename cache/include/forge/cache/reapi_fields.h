#pragma once
// REAPI v2 protobuf field numbers (build/bazel/remote/execution/v2/remote_execution.proto)
// of the messages Forge reads and writes with its own wire codec (wire.h): ActionResult and
// its outputs, Tree, Directory and its nodes, Digest. One list, so the action cache's
// validation and the CAS tree tools cannot disagree. Protocol facts: never renumber.
// Constants only: no errors, no state, usable from any thread.

#include <cstdint>

namespace forge::cache::reapi {

// ActionResult
inline constexpr std::uint32_t k_action_result_output_files = 2;
inline constexpr std::uint32_t k_action_result_output_directories = 3;
inline constexpr std::uint32_t k_action_result_exit_code = 4;
inline constexpr std::uint32_t k_action_result_stdout_digest = 6;
inline constexpr std::uint32_t k_action_result_stderr_digest = 8;
inline constexpr std::uint32_t k_action_result_output_symlinks = 12;
// OutputFile, OutputDirectory, OutputSymlink
inline constexpr std::uint32_t k_output_path = 1;
inline constexpr std::uint32_t k_output_file_digest = 2;
inline constexpr std::uint32_t k_output_file_is_executable = 4;
inline constexpr std::uint32_t k_output_directory_tree_digest = 3;
inline constexpr std::uint32_t k_output_directory_root_digest = 5;
inline constexpr std::uint32_t k_output_symlink_target = 2;
// Tree { Directory root = 1; repeated Directory children = 2; }
inline constexpr std::uint32_t k_tree_root = 1;
inline constexpr std::uint32_t k_tree_children = 2;
// Directory { files = 1; directories = 2; symlinks = 3; }, its nodes (name = 1, ...)
inline constexpr std::uint32_t k_directory_files = 1;
inline constexpr std::uint32_t k_directory_directories = 2;
inline constexpr std::uint32_t k_directory_symlinks = 3;
inline constexpr std::uint32_t k_node_name = 1;
inline constexpr std::uint32_t k_node_digest = 2;         // FileNode, DirectoryNode
inline constexpr std::uint32_t k_file_is_executable = 4;  // FileNode
inline constexpr std::uint32_t k_symlink_target = 2;      // SymlinkNode
// Digest
inline constexpr std::uint32_t k_digest_hash = 1;
inline constexpr std::uint32_t k_digest_size_bytes = 2;

}  // namespace forge::cache::reapi
