#include "cli/pass_runner.h"

#include <algorithm>

#include <fmt/format.h>

#include "s3reconcile/local_backend.h"
#include "s3reconcile/reconcile.h"
#include "s3reconcile/sqlite_store.h"

namespace s3reconcile::cli {
namespace {

bool selected(const std::vector<std::string>& names, const std::string& name) {
  return names.empty() || std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

Status check_selection(const config::Config& config, const PassSelection& selection) {
  for (const auto& name : selection.backends) {
    const bool known = std::any_of(config.backends.begin(), config.backends.end(),
                                   [&](const auto& b) { return b.name == name; });
    if (!known) return invalid_argument_error(fmt::format("--backend {}: no such backend in {}", name, config.file));
  }
  for (const auto& name : selection.buckets) {
    if (std::find(config.buckets.begin(), config.buckets.end(), name) == config.buckets.end()) {
      return invalid_argument_error(fmt::format("--bucket {}: no such bucket in {}", name, config.file));
    }
  }
  return ok_status();
}

PassRun run_passes(const config::Config& config, const PassSelection& selection, bool dry_run,
                   std::stop_token stop, std::shared_ptr<spdlog::logger> log) {
  PassRun run;
  auto store = open_sqlite_store(SqliteStoreOptions{config.store.sqlite_path});
  if (!store.ok()) {
    run.setup = store.status();
    return run;
  }
  PassOptions options;
  options.page_size = config.reconcile.page_size;
  options.queue_size = config.reconcile.queue_size;
  options.dry_run = dry_run;
  options.stop = stop;
  options.logger = log;

  for (const auto& backend_config : config.backends) {
    if (!selected(selection.backends, backend_config.name)) continue;
    LocalBackend local(LocalBackendOptions{backend_config.path, config.reconcile.page_size});
    BackendRef backend{backend_config.name, &local, &local, backend_config.buckets,
                       backend_config.adopt_unprefixed};
    for (const auto& bucket : backend_config.buckets) {
      if (!selected(selection.buckets, bucket)) continue;
      if (stop.stop_requested()) return run;
      // Each pass has its own start: rows written before it are fair game.
      options.started_at = Clock::now();
      run.results.push_back(reconcile_backend(backend, bucket, config.buckets, **store, options));
    }
  }
  return run;
}

}  // namespace s3reconcile::cli
