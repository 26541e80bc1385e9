#include "cli/signals.h"
#include "s3reconcile/mutex.h"

#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace s3reconcile::cli {
namespace {

// A signal handler may touch none of these; the thread in sigwait may.
std::stop_source g_stop;
Mutex g_mu;
std::condition_variable_any g_changed;
bool g_reload S3R_GUARDED_BY(g_mu) = false;

}  // namespace

Signals& Signals::install() {
  static Signals* signals = [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
      while (true) {
        int received = 0;
        if (sigwait(&set, &received) != 0) continue;
        MutexLock lock(g_mu);
        if (received == SIGHUP) {
          g_reload = true;
        } else {
          g_stop.request_stop();
        }
        g_changed.notify_all();
      }
    }).detach();
    return new Signals();
  }();
  return *signals;
}

std::stop_token Signals::stop_token() const { return g_stop.get_token(); }

bool Signals::wait_for_reload(std::chrono::milliseconds timeout) {
  MutexLock lock(g_mu);
  lock.wait_for(g_changed, g_stop.get_token(), timeout, []() S3R_REQUIRES(g_mu) { return g_reload; });
  const bool reload = g_reload;
  g_reload = false;
  return reload;
}

}  // namespace s3reconcile::cli
