#include "body_chunk.h"

#include <vector>

namespace forge::bazel_remote {
namespace {

std::vector<std::unique_ptr<char[]>>& spare() {
  thread_local std::vector<std::unique_ptr<char[]>> list;
  return list;
}

}  // namespace

BodyChunk::BodyChunk() {
  auto& list = spare();
  if (list.empty()) {
    m_bytes = std::make_unique_for_overwrite<char[]>(k_chunk_size);
  } else {
    m_bytes = std::move(list.back());
    list.pop_back();
  }
}

BodyChunk::~BodyChunk() {
  auto& list = spare();
  if (list.size() < k_spare_body_chunks) list.push_back(std::move(m_bytes));
}

std::size_t BodyChunk::spare_on_this_thread() {
  return spare().size();
}

}  // namespace forge::bazel_remote
