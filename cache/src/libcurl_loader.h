#pragma once
// libcurl, loaded on first use instead of linked. Only the upstream tiers (http(s)://, s3://,
// grpc(s)://) talk through libcurl, but linking it made every forge process load
// libcurl.so.4 and the ~30 libraries it needs (TLS, Kerberos, LDAP, SSH, IDN, ...): about
// 24 ms of CPU at each start, more than `forge cmake affected` or a no-op `forge ninja`
// spends on their own work. libcurl_loader.cpp defines, with C linkage, the libcurl
// functions Forge calls (curl_global_init, curl_easy_*, curl_slist_*, curl_share_*,
// curl_version_info); each forwards to the
// real one, resolved from the library the first time any of them runs. Code keeps calling
// libcurl's API as documented. A function Forge starts to use must be added there (the
// link fails until it is).
//
// The library is `libcurl.so.4` (Debian's libcurl4), or the file named by $FORGE_LIBCURL.
// When it cannot be loaded, the forwarders fail as libcurl's own do when out of resources
// (curl_easy_init returns NULL, the others CURLE_FAILED_INIT), and libcurl_load_error()
// says why, for the error message.
// Thread-safety: loading happens once, under std::call_once; everything is thread-safe.

#include <optional>
#include <string>

namespace forge::cache {

// nullopt when libcurl is loaded (loading it now if needed); else what went wrong, with the
// fix ("install libcurl4").
std::optional<std::string> libcurl_load_error();

}  // namespace forge::cache
