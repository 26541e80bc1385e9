#include "cli/serve.h"

#include <fstream>
#include <iostream>
#include <list>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "cli/app.h"
#include "cli/http_server.h"
#include "cli/index_connection_cache.h"
#include "cli/metrics.h"
#include "cli/pass_board.h"
#include "cli/pass_runner.h"
#include "cli/serve_api.h"
#include "cli/stores.h"
#include "cli/survey_metrics.h"
#include "config/config.h"
#include "s3reconcile/mutex.h"

namespace s3reconcile::cli {
namespace {

// The interval, give or take 10%, so that instances started together drift apart.
std::chrono::milliseconds jittered(std::chrono::milliseconds interval, std::mt19937_64& rng) {
  const auto spread = interval.count() / 10;
  std::uniform_int_distribution<long long> pick(-spread, spread);
  return std::chrono::milliseconds(std::max<long long>(1, interval.count() + pick(rng)));
}

// The API token the config names: the first line of serve.api_token_file,
// or the variable serve.api_token_env; none when neither is set.
StatusOr<std::optional<std::string>> load_api_token(const config::Config& config) {
  const auto& serve = config.serve;
  std::string token;
  if (!serve.api_token_file.empty()) {
    std::ifstream in(serve.api_token_file);
    if (!in) return invalid_argument_error(fmt::format("serve.api_token_file: cannot read {}", serve.api_token_file));
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty())
      return invalid_argument_error(fmt::format("serve.api_token_file: {} is empty", serve.api_token_file));
  } else if (!serve.api_token_env.empty()) {
    const char* value = std::getenv(serve.api_token_env.c_str());
    if (value == nullptr || *value == '\0') {
      return invalid_argument_error(fmt::format("serve.api_token_env: {} is not set", serve.api_token_env));
    }
    token = value;
  } else {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(token);
}

// One serve process: the config in force, the passes it runs on schedule
// and on demand, and what it shows of them over HTTP.
class Server {
 public:
  Server(std::shared_ptr<const config::Config> config, std::optional<std::string> token, EventLog log,
         MergeCounters& counters, Progress& progress, std::chrono::milliseconds progress_interval, std::stop_token stop)
      : config_(std::move(config)),
        token_(std::move(token)),
        log_(std::move(log)),
        counters_(counters),
        progress_(progress),
        progress_interval_(progress_interval),
        stop_(std::move(stop)),
        board_(&metrics_),
        api_(ServeContext{[this] { return this->config(); }, &board_, &metrics_, &index_,
                          [this](bool dry_run, PassSelection selection, std::vector<std::string> backends) {
                            return launch(dry_run, std::move(selection), std::move(backends));
                          },
                          [this] { return api_token(); }, instance_name(), Clock::now()}),
        http_([this](HttpExchange& exchange) { handle(exchange); }) {}

  ~Server() {
    http_.stop();
    MutexLock lock(mu_);
    for (auto& launched : launched_) launched.thread.join();
  }

  Status listen() { return http_.start(config()->serve.listen); }
  prometheus::Registry& metrics_registry() { return metrics_.registry(); }

  std::shared_ptr<const config::Config> config() const {
    MutexLock lock(mu_);
    return config_;
  }
  std::optional<std::string> api_token() const {
    MutexLock lock(mu_);
    return token_;
  }
  void reload(std::shared_ptr<const config::Config> config, std::optional<std::string> token) {
    MutexLock lock(mu_);
    config_ = std::move(config);
    token_ = std::move(token);
  }

  // One scheduled round: every backend not already in a pass.
  void round() {
    const auto config = this->config();
    PassRequest request = base_request(*config, "serve");
    request.counters = &counters_;
    request.progress = &progress_;
    request.claims = &board_;
    run(*config, std::move(request));
  }

 private:
  // A request that throws is a 500 and a log line, never the end of serve.
  void handle(HttpExchange& exchange) {
    try {
      api_.handle(exchange);
    } catch (const std::exception& e) {
      log_.error("HTTP request failed", {{"path", exchange.request().path}, {"error", e.what()}});
      exchange.respond(HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}});
    }
  }

  PassRequest base_request(const config::Config& config, std::string kind) {
    PassRequest request;
    request.kind = std::move(kind);
    request.stop = stop_;
    request.log = log_;
    request.limits = config.reconcile.limits;
    // Whole backends under advisory locks, or passes shared range by range.
    request.join = config.serve.join;
    request.lock_backends = !config.serve.join;
    request.index_observer = &metrics_;
    request.s3_observer = [this](const std::string& backend) { return metrics_.s3_observer(backend); };
    return request;
  }

  void run(const config::Config& config, PassRequest request, std::string id = "") {
    if (id.empty()) id = board_.add_run(request.kind, request.dry_run, request.selection);
    auto watcher = board_.watch(id);
    request.watcher = watcher.get();
    board_.run_started(id);
    const PassRun run = run_passes(config, request);
    if (!run.setup.ok()) log_.error("round failed", {{"error", run.setup.to_string()}});
    board_.run_ended(id, run);
  }

  // Passes asked for through the API, on a thread of their own.
  std::string launch(bool dry_run, PassSelection selection, std::vector<std::string> backends) {
    const auto config = this->config();
    const std::string id = board_.add_run("api", dry_run, selection);
    PassRequest request = base_request(*config, "api");
    request.dry_run = dry_run;
    request.selection = std::move(selection);
    log_.info("pass requested", {{"run_id", id}, {"dry_run", dry_run}});
    MutexLock lock(mu_);
    // Threads of runs that ended are joined here, so that they do not pile up.
    launched_.remove_if([](Launched& l) {
      if (!l.done->load()) return false;
      l.thread.join();
      return true;
    });
    auto done = std::make_shared<std::atomic<bool>>(false);
    launched_.push_back(Launched{std::thread([this, config, request = std::move(request), id, backends, done] {
                                   // Its own progress lines: a round may be logging its own meanwhile.
                                   MergeCounters counters;
                                   Progress progress(counters, ProgressOptions{false, progress_interval_, log_});
                                   PassRequest with_progress = request;
                                   with_progress.counters = &counters;
                                   with_progress.progress = &progress;
                                   run(*config, std::move(with_progress), id);
                                   board_.release_all(backends);
                                   done->store(true);
                                 }),
                                 done});
    return id;
  }

  struct Launched {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  mutable Mutex mu_;
  std::shared_ptr<const config::Config> config_ S3R_GUARDED_BY(mu_);
  std::optional<std::string> token_ S3R_GUARDED_BY(mu_);
  std::list<Launched> launched_ S3R_GUARDED_BY(mu_);
  const EventLog log_;
  MergeCounters& counters_;
  Progress& progress_;
  const std::chrono::milliseconds progress_interval_;
  const std::stop_token stop_;
  Metrics metrics_;
  PassBoard board_;
  IndexConnectionCache index_{[](const config::StoreConfig& store) { return open_store(store); }};
  ServeApi api_;
  HttpServer http_;
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
  auto token = load_api_token(*config);
  if (!token.ok()) {
    std::cerr << "s3reconcile: " << config->file << ": " << token.status().message() << "\n";
    return kExitUsage;
  }
  auto log = make_logger(flags.log_level, flags.log_format);
  MergeCounters counters;
  Progress progress(counters, ProgressOptions{false, *progress_interval, log});
  const std::stop_token stop = signals.stop_token();
  Server server(std::make_shared<const config::Config>(std::move(*config)), std::move(*token), log, counters, progress,
                *progress_interval, stop);
  const auto running = server.config();
  if (Status listening = server.listen(); !listening.ok()) {
    std::cerr << "s3reconcile: " << running->file << ": serve.listen: " << listening.message() << "\n";
    return kExitUsage;
  }
  log.info("serving", {{"listen", running->serve.listen},
                       {"interval_ms", running->serve.interval.count()},
                       {"config", running->file},
                       {"passes_api", server.api_token().has_value()}});

  // The hidden storage survey, on its own thread and interval (serve.survey_interval).
  const SurveyLoop survey_loop(*running, server.metrics_registry(), log, stop);
  std::mt19937_64 rng{std::random_device{}()};
  auto next_round = std::chrono::steady_clock::now();
  while (!stop.stop_requested()) {
    if (std::chrono::steady_clock::now() >= next_round) {
      server.round();
      next_round = std::chrono::steady_clock::now() + jittered(server.config()->serve.interval, rng);
      continue;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(next_round - std::chrono::steady_clock::now());
    // A reload changes the config and nothing else: the next round comes
    // when it was due (passes now are POST /v1/passes).
    if (!signals.wait_for_reload(std::max(left, std::chrono::milliseconds(1)))) continue;
    auto fresh = config::load_config(flags.config_file);
    auto fresh_token = fresh.ok() ? load_api_token(*fresh) : StatusOr<std::optional<std::string>>(fresh.status());
    if (!fresh.ok() || !fresh_token.ok()) {
      log.error("config reload failed, keeping the running config",
                {{"error", (fresh.ok() ? fresh_token.status() : fresh.status()).message()}});
      continue;
    }
    if (fresh->serve.listen != server.config()->serve.listen) {
      log.warn("serve.listen changed; restart serve to move the HTTP address");
    }
    server.reload(std::make_shared<const config::Config>(std::move(*fresh)), std::move(*fresh_token));
    log.info("config reloaded", {{"config", server.config()->file}});
  }
  log.info("stopped");
  return kExitOk;
}

}  // namespace s3reconcile::cli
