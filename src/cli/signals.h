// Signals turned into things threads can wait on: SIGINT and SIGTERM request
// a stop, SIGHUP asks for a config reload.
#pragma once

#include <chrono>
#include <stop_token>

namespace s3reconcile::cli {

class Signals {
 public:
  // Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and threads it
  // starts later) and starts a thread that waits for them. Call once, early,
  // before other threads exist.
  static Signals& install();

  std::stop_token stop_token() const;

  // Waits up to `timeout` for a stop or a reload request. Returns true when a
  // reload was requested (and clears the request).
  bool wait_for_reload(std::chrono::milliseconds timeout);

 private:
  Signals() = default;
};

}  // namespace s3reconcile::cli
