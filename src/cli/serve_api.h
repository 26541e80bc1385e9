// The HTTP side of `serve`: probes, metrics, the passes API and the status
// page, all on serve.listen.
//   GET  /livez            200 while the process serves
//   GET  /readyz, /healthz 200 or 503, with JSON naming what is wrong (health.h)
//   GET  /metrics          Prometheus text format
//   POST /v1/passes        a pass now (bearer token); 202 with its id, or a
//                          stream of progress lines (Accept: application/x-ndjson)
//   GET  /v1/passes        passes_view(): in flight, recorded, shared, runs
//   GET  /v1/passes/{id}   one run (or the run holding that pass id)
//   GET  /                 the status page
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/health.h"
#include "cli/http_server.h"
#include "cli/index_connection_cache.h"
#include "cli/metrics.h"
#include "cli/pass_board.h"
#include "config/config.h"
#include "s3reconcile/mutex.h"

namespace s3reconcile::cli {

// What the HTTP side needs from the rest of serve.
struct ServeContext {
  // The config now in force (it changes on SIGHUP).
  std::function<std::shared_ptr<const config::Config>()> config;
  PassBoard* board = nullptr;
  Metrics* metrics = nullptr;
  // Connections to the index of the config in force, kept between requests.
  IndexConnectionCache* index = nullptr;
  // Starts passes asked for through the API on another thread, `backends`
  // already claimed on the board (and released when they end); returns
  // the run's id.
  std::function<std::string(bool dry_run, PassSelection selection, std::vector<std::string> backends)> launch;
  // The bearer token POST /v1/passes needs; none: passes on demand are off.
  std::function<std::optional<std::string>()> api_token;
  std::string instance;
  Clock::time_point started_at;
};

// Whether `presented` equals `expected`, in time that does not depend on
// where they differ (both are hashed first, so not on their lengths either).
bool same_token(std::string_view presented, std::string_view expected);

class ServeApi {
 public:
  explicit ServeApi(ServeContext context) : context_(std::move(context)) {}

  void handle(HttpExchange& exchange);

 private:
  void health(HttpExchange& exchange);
  void start_passes(HttpExchange& exchange);
  void show_run(HttpExchange& exchange, const std::string& id);
  // Sends progress lines of run `id` until it ends, then its summary.
  void stream(HttpExchange& exchange, const std::string& id);

  ServeContext context_;
  // Health is checked at most once a second, however often probes come.
  Mutex health_mu_;
  std::optional<std::pair<std::chrono::steady_clock::time_point, HealthReport>> last_health_ S3R_GUARDED_BY(health_mu_);
};

}  // namespace s3reconcile::cli
