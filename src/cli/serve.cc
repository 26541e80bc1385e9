#include "cli/serve.h"

#include <iostream>
#include <random>

#include <prometheus/exposer.h>

#include "cli/app.h"
#include "cli/metrics.h"
#include "cli/pass_runner.h"
#include "cli/survey_metrics.h"
#include "config/config.h"

namespace s3reconcile::cli {
namespace {

// The interval, give or take 10%, so that instances started together drift apart.
std::chrono::milliseconds jittered(std::chrono::milliseconds interval, std::mt19937_64& rng) {
  const auto spread = interval.count() / 10;
  std::uniform_int_distribution<long long> pick(-spread, spread);
  return std::chrono::milliseconds(std::max<long long>(1, interval.count() + pick(rng)));
}

// What /healthz serves: a single gauge saying the process is up and looping.
class Health final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family;
    family.name = "s3reconcile_up";
    family.help = "1 while serve runs";
    family.type = prometheus::MetricType::Gauge;
    prometheus::ClientMetric metric;
    metric.gauge.value = 1;
    family.metric.push_back(metric);
    return {family};
  }
};

}  // namespace

int serve(const ServeFlags& flags, Signals& signals) {
  auto config = config::load_config(flags.config_file);
  if (!config.ok()) {
    std::cerr << "s3reconcile: " << config.status().message() << "\n";
    return kExitUsage;
  }
  const auto progress_interval = parse_progress_interval(flags.progress_interval);
  if (!progress_interval.ok()) {
    std::cerr << "s3reconcile: " << progress_interval.status().message() << "\n";
    return kExitUsage;
  }
  auto log = make_logger(flags.log_level, flags.log_format);
  MergeCounters counters;
  Progress progress(counters, ProgressOptions{false, *progress_interval, log});
  Metrics metrics;
  auto health = std::make_shared<Health>();
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // Idle or slow clients each hold a worker until their request times out:
    // enough workers, and a short timeout, keep /metrics and /healthz
    // answering while some connections sit idle.
    exposer = std::make_unique<prometheus::Exposer>(std::vector<std::string>{
        "listening_ports", config->serve.listen, "num_threads", "16", "request_timeout_ms", "5000"});
  } catch (const std::exception& e) {
    std::cerr << "s3reconcile: " << config->file << ": serve.listen: cannot listen on " << config->serve.listen << ": "
              << e.what() << "\n";
    return kExitUsage;
  }
  exposer->RegisterCollectable(metrics.registry(), "/metrics");
  exposer->RegisterCollectable(health, "/healthz");
  log.info(
      "serving",
      {{"listen", config->serve.listen}, {"interval_ms", config->serve.interval.count()}, {"config", config->file}});

  const std::stop_token stop = signals.stop_token();
  // The hidden storage survey, on its own thread and interval (serve.survey_interval).
  const SurveyLoop survey_loop(*config, *metrics.registry(), log, stop);
  std::mt19937_64 rng{std::random_device{}()};
  while (!stop.stop_requested()) {
    PassRequest request;
    request.kind = "serve";
    request.stop = stop;
    request.log = log;
    request.counters = &counters;
    request.progress = &progress;
    request.limits = config->reconcile.limits;
    // Whole backends under advisory locks, or passes shared range by range.
    request.join = config->serve.join;
    request.lock_backends = !config->serve.join;
    PassRun run = run_passes(*config, request);
    metrics.record(run);
    if (!run.setup.ok()) log.error("round failed", {{"error", run.setup.to_string()}});
    if (stop.stop_requested()) break;
    if (signals.wait_for_reload(jittered(config->serve.interval, rng))) {
      auto fresh = config::load_config(flags.config_file);
      if (!fresh.ok()) {
        log.error("config reload failed, keeping the running config", {{"error", fresh.status().message()}});
      } else {
        if (fresh->serve.listen != config->serve.listen) {
          log.warn("serve.listen changed; restart serve to move the metrics address");
        }
        config = std::move(fresh);
        log.info("config reloaded", {{"config", config->file}});
      }
    }
  }
  log.info("stopped");
  return kExitOk;
}

}  // namespace s3reconcile::cli
