#include "libcurl_loader.h"

#include <dlfcn.h>

#include <cstdarg>
#include <cstdlib>
#include <mutex>

#include <curl/curl.h>
#include <fmt/format.h>

// curl.h may define these two as type-checking macros; the functions are defined below.
#undef curl_easy_setopt
#undef curl_easy_getinfo

namespace forge::cache {
namespace {

struct Api {
  CURLcode (*global_init)(long) = nullptr;
  CURL* (*easy_init)() = nullptr;
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
  CURLcode (*easy_perform)(CURL*) = nullptr;
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
  void (*easy_reset)(CURL*) = nullptr;
  void (*easy_cleanup)(CURL*) = nullptr;
  const char* (*easy_strerror)(CURLcode) = nullptr;
  curl_slist* (*slist_append)(curl_slist*, const char*) = nullptr;
  void (*slist_free_all)(curl_slist*) = nullptr;
  CURLSH* (*share_init)() = nullptr;
  CURLSHcode (*share_setopt)(CURLSH*, CURLSHoption, ...) = nullptr;
  CURLSHcode (*share_cleanup)(CURLSH*) = nullptr;
  curl_version_info_data* (*version_info)(CURLversion) = nullptr;
  std::string error;  // empty once every function is resolved
};

template <typename Function>
bool resolve(void* library, const char* name, Function& out, std::string& error) {
  out = reinterpret_cast<Function>(::dlsym(library, name));
  if (out == nullptr && error.empty()) error = fmt::format("it lacks {}", name);
  return out != nullptr;
}

const Api& api() {
  static Api loaded;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* configured = std::getenv("FORGE_LIBCURL");
    const std::string file =
        configured != nullptr && *configured != '\0' ? configured : "libcurl.so.4";
    // Never unloaded: handles and callbacks may live until the process ends.
    void* library = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    std::string error;
    if (library == nullptr) {
      const char* why = ::dlerror();
      error = why != nullptr ? why : "dlopen failed";
    } else {
      resolve(library, "curl_global_init", loaded.global_init, error);
      resolve(library, "curl_easy_init", loaded.easy_init, error);
      resolve(library, "curl_easy_setopt", loaded.easy_setopt, error);
      resolve(library, "curl_easy_perform", loaded.easy_perform, error);
      resolve(library, "curl_easy_getinfo", loaded.easy_getinfo, error);
      resolve(library, "curl_easy_reset", loaded.easy_reset, error);
      resolve(library, "curl_easy_cleanup", loaded.easy_cleanup, error);
      resolve(library, "curl_easy_strerror", loaded.easy_strerror, error);
      resolve(library, "curl_slist_append", loaded.slist_append, error);
      resolve(library, "curl_slist_free_all", loaded.slist_free_all, error);
      resolve(library, "curl_share_init", loaded.share_init, error);
      resolve(library, "curl_share_setopt", loaded.share_setopt, error);
      resolve(library, "curl_share_cleanup", loaded.share_cleanup, error);
      resolve(library, "curl_version_info", loaded.version_info, error);
    }
    if (!error.empty()) {
      loaded.error = fmt::format(
          "libcurl ({}) could not be loaded: {}; upstream caches (http, s3, grpc) need it: "
          "install libcurl4 (apt-get install libcurl4){}",
          file, error, configured != nullptr ? ", or fix FORGE_LIBCURL" : "");
    }
  });
  return loaded;
}

bool ready() {
  return api().error.empty();
}

}  // namespace

std::optional<std::string> libcurl_load_error() {
  if (ready()) return std::nullopt;
  return api().error;
}

}  // namespace forge::cache

using forge::cache::api;
using forge::cache::ready;

extern "C" {

CURLcode curl_global_init(long flags) {
  return ready() ? api().global_init(flags) : CURLE_FAILED_INIT;
}

CURL* curl_easy_init() {
  return ready() ? api().easy_init() : nullptr;
}

// libcurl reads the one argument after `option` by the option's type range (CURLOPTTYPE_*):
// a long, an object or function pointer, a curl_off_t, or a blob pointer. It is passed on
// read as that type.
CURLcode curl_easy_setopt(CURL* handle, CURLoption option, ...) {
  if (!ready()) return CURLE_FAILED_INIT;
  va_list arguments;
  va_start(arguments, option);
  CURLcode code;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    code = api().easy_setopt(handle, option, va_arg(arguments, long));
  } else if (option < CURLOPTTYPE_OFF_T) {  // object and function pointers
    code = api().easy_setopt(handle, option, va_arg(arguments, void*));
  } else if (option < CURLOPTTYPE_BLOB) {
    code = api().easy_setopt(handle, option, va_arg(arguments, curl_off_t));
  } else {
    code = api().easy_setopt(handle, option, va_arg(arguments, void*));
  }
  va_end(arguments);
  return code;
}

CURLcode curl_easy_perform(CURL* handle) {
  return ready() ? api().easy_perform(handle) : CURLE_FAILED_INIT;
}

// Every CURLINFO takes one pointer to where the answer goes.
CURLcode curl_easy_getinfo(CURL* handle, CURLINFO info, ...) {
  if (!ready()) return CURLE_FAILED_INIT;
  va_list arguments;
  va_start(arguments, info);
  const CURLcode code = api().easy_getinfo(handle, info, va_arg(arguments, void*));
  va_end(arguments);
  return code;
}

void curl_easy_reset(CURL* handle) {
  if (ready()) api().easy_reset(handle);
}

void curl_easy_cleanup(CURL* handle) {
  if (ready()) api().easy_cleanup(handle);
}

const char* curl_easy_strerror(CURLcode code) {
  return ready() ? api().easy_strerror(code) : "libcurl is not loaded";
}

curl_slist* curl_slist_append(curl_slist* list, const char* string) {
  return ready() ? api().slist_append(list, string) : nullptr;
}

void curl_slist_free_all(curl_slist* list) {
  if (ready()) api().slist_free_all(list);
}

CURLSH* curl_share_init() {
  return ready() ? api().share_init() : nullptr;
}

// CURLSHOPT_SHARE / UNSHARE take an int (a curl_lock_data), the others a pointer.
CURLSHcode curl_share_setopt(CURLSH* share, CURLSHoption option, ...) {
  if (!ready()) return CURLSHE_NOT_BUILT_IN;
  va_list arguments;
  va_start(arguments, option);
  CURLSHcode code;
  if (option == CURLSHOPT_SHARE || option == CURLSHOPT_UNSHARE) {
    code = api().share_setopt(share, option, va_arg(arguments, int));
  } else {
    code = api().share_setopt(share, option, va_arg(arguments, void*));
  }
  va_end(arguments);
  return code;
}

CURLSHcode curl_share_cleanup(CURLSH* share) {
  return ready() ? api().share_cleanup(share) : CURLSHE_INVALID;
}

// Unloaded: a version of 0, so no feature of a newer libcurl is assumed.
curl_version_info_data* curl_version_info(CURLversion age) {
  static curl_version_info_data none{};
  return ready() ? api().version_info(age) : &none;
}

}  // extern "C"
