#include "forge/agent/reload_signal.h"

#include <csignal>

#include <atomic>

namespace forge::agent {
namespace {

std::atomic<bool> g_reload{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

void on_sighup(int) {
  g_reload.store(true, std::memory_order_relaxed);
}

}  // namespace

Result<void> install_reload_handler() {
  struct sigaction action {};
  action.sa_handler = on_sighup;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (::sigaction(SIGHUP, &action, nullptr) != 0) {
    return fail(Error::from_errno(errno, "sigaction(SIGHUP)"));
  }
  return ok();
}

bool take_reload_request() {
  return g_reload.exchange(false, std::memory_order_relaxed);
}

}  // namespace forge::agent
