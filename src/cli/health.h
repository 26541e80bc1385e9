// What /readyz and /healthz of `serve` answer: whether the index opens and
// every backend's passes complete, as JSON naming what is wrong.
#pragma once

#include <chrono>

#include <nlohmann/json.hpp>

#include "cli/index_connection_cache.h"
#include "config/config.h"
#include "s3reconcile/entry.h"

namespace s3reconcile::cli {

struct HealthReport {
  bool healthy = true;
  // {"status":"ok"|"unhealthy","problems":[...],"index":{...},"backends":[...]}
  nlohmann::ordered_json body;
};

// Checks, against the index's pass records (every instance's, so that a
// backend another instance reconciles counts too), that:
//   - the index opens and its records can be read;
//   - each backend's newest finished pass (dry runs aside) is "ok";
//   - it ended within serve.stale_after intervals, or, when none has ended
//     yet, serve started less than that long ago.
// The index is read on a connection borrowed from `index`.
HealthReport check_health(const config::Config& config, IndexConnectionCache& index, Clock::time_point serve_started,
                          Clock::time_point now);

}  // namespace s3reconcile::cli
