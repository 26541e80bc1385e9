#include "cli/signals.h"

#include <pthread.h>
#include <signal.h>

#include <thread>

namespace s3reconcile::cli {

std::stop_token stop_on_signals() {
  static std::stop_source source;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A signal handler may not touch a stop_source; a thread in sigwait may.
  std::thread([set] {
    int received = 0;
    sigwait(&set, &received);
    source.request_stop();
  }).detach();
  return source.get_token();
}

}  // namespace s3reconcile::cli
