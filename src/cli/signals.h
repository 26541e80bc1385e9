// Turns SIGINT and SIGTERM into a stop request that passes observe.
#pragma once

#include <stop_token>

namespace s3reconcile::cli {

// Blocks SIGINT and SIGTERM in the calling thread (and the threads it starts
// later) and starts a thread that waits for them and requests a stop on the
// returned token's source. Call once, early in main, before other threads.
std::stop_token stop_on_signals();

}  // namespace s3reconcile::cli
