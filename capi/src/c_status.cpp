// Status mapping, last-error storage, version and forge_free (see c_status.h, forge.h).
#include "c_status.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>

namespace forge::capi {
namespace {

thread_local std::string t_last_error;

}  // namespace

forge_status status_of(const Error& error) {
  switch (error.category()) {
    case ErrorCategory::validation: return FORGE_E_INVALID_ARGUMENT;
    case ErrorCategory::file_system: return error.code() == ENOENT ? FORGE_E_NOT_FOUND : FORGE_E_IO;
    case ErrorCategory::configuration: return FORGE_E_CONFIGURATION;
    case ErrorCategory::dependency: return FORGE_E_DEPENDENCY;
    case ErrorCategory::network:
    case ErrorCategory::timeout:
    case ErrorCategory::unknown:
    default: return FORGE_E_INTERNAL;
  }
}

forge_status fail_with(forge_status status, std::string_view message, ErrorSlot* slot) {
  try {
    t_last_error.assign(message);
    if (slot != nullptr) slot->set(t_last_error);
  } catch (...) {
    // Out of memory while recording the message: the status still says what happened.
  }
  return status;
}

forge_status fail_with(const Error& error, ErrorSlot* slot) {
  try {
    return fail_with(status_of(error), error.summary(), slot);
  } catch (...) {
    return status_of(error);
  }
}

forge_status null_handle() {
  return fail_with(FORGE_E_INVALID_HANDLE, k_null_handle_message);
}

forge_status null_argument(std::string_view function, std::string_view argument, ErrorSlot* slot) {
  try {
    return fail_with(FORGE_E_INVALID_ARGUMENT,
                     std::string(function) + ": argument '" + std::string(argument) +
                         "' is NULL; pass a valid pointer",
                     slot);
  } catch (...) {
    return FORGE_E_INVALID_ARGUMENT;
  }
}

forge_status exception_status(ErrorSlot* slot) noexcept {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return fail_with(FORGE_E_NO_MEMORY, "out of memory", slot);
  } catch (const std::exception& error) {
    return fail_with(FORGE_E_INTERNAL, std::string("internal error: ") + error.what(), slot);
  } catch (...) {
    return fail_with(FORGE_E_INTERNAL, "internal error: unknown exception", slot);
  }
}

void copy_hex(const hash::Digest& digest, char* out, std::size_t capacity) {
  const std::string hex = digest.hex();
  if (hex.size() + 1 > capacity) {
    out[0] = '\0';
    return;
  }
  std::memcpy(out, hex.c_str(), hex.size() + 1);
}

}  // namespace forge::capi

extern "C" {

const char* forge_status_name(forge_status status) {
  switch (status) {
    case FORGE_OK: return "FORGE_OK";
    case FORGE_END: return "FORGE_END";
    case FORGE_E_INVALID_ARGUMENT: return "FORGE_E_INVALID_ARGUMENT";
    case FORGE_E_INVALID_HANDLE: return "FORGE_E_INVALID_HANDLE";
    case FORGE_E_NOT_FOUND: return "FORGE_E_NOT_FOUND";
    case FORGE_E_IO: return "FORGE_E_IO";
    case FORGE_E_BUFFER_TOO_SMALL: return "FORGE_E_BUFFER_TOO_SMALL";
    case FORGE_E_CONFIGURATION: return "FORGE_E_CONFIGURATION";
    case FORGE_E_DEPENDENCY: return "FORGE_E_DEPENDENCY";
    case FORGE_E_NO_MEMORY: return "FORGE_E_NO_MEMORY";
    case FORGE_E_INTERNAL: return "FORGE_E_INTERNAL";
    default: return "FORGE_E_UNKNOWN";
  }
}

const char* forge_version(void) {
  return FORGE_VERSION;
}

const char* forge_last_error(void) {
  return forge::capi::t_last_error.c_str();
}

void forge_free(void* buffer) {
  std::free(buffer);
}

}  // extern "C"
