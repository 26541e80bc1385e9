#include "cli/pass_runner.h"

#include <algorithm>
#include <cstdio>

#include <unistd.h>

#include <fmt/format.h>

#include "cli/stores.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/local_backend.h"
#include "s3reconcile/pass_ledger.h"
#include "s3reconcile/pass_records.h"
#include "s3reconcile/reconcile.h"
#include "s3reconcile/s3_backend.h"
#include "s3reconcile/shared_pass.h"
#include "s3reconcile/time_format.h"

namespace s3reconcile::cli {
std::string instance_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown-host");
  return fmt::format("{}:{}", host, ::getpid());
}

namespace {

bool selected(const std::vector<std::string>& names, const std::string& name) {
  return names.empty() || std::find(names.begin(), names.end(), name) != names.end();
}

// A backend ready to list and probe, whatever its type.
struct OpenBackend {
  std::unique_ptr<LocalBackend> local;
  std::unique_ptr<S3Backend> s3;
  ObjectLister* lister = nullptr;
  ObjectProber* prober = nullptr;
};

StatusOr<OpenBackend> open_backend(const config::BackendConfig& c, const config::ReconcileConfig& tuning,
                                   const PassRequest& request) {
  OpenBackend b;
  if (c.type == "s3") {
    S3BackendOptions options = c.s3;
    if (request.s3_observer) options.observer = request.s3_observer(c.name);
    auto s3 = S3Backend::open(std::move(options));
    if (!s3.ok()) return s3.status().with_context(fmt::format("backend \"{}\"", c.name));
    b.s3 = std::move(*s3);
    b.lister = b.s3.get();
    b.prober = b.s3.get();
  } else {
    b.local = std::make_unique<LocalBackend>(LocalBackendOptions{c.path, tuning.page_size});
    b.lister = b.local.get();
    b.prober = b.local.get();
  }
  return b;
}

// Writes a pass's records. A record is for the operator's eyes: one that
// cannot be written is a warning, never a reason to fail or alter the pass.
class Recorder {
 public:
  Recorder(PassRecords* records, const PassRequest& request, std::string instance)
      : records_(records), request_(request), instance_(std::move(instance)) {}

  // The record of a pass about to start (not written yet).
  PassRecord start(const std::string& pass_id, const std::string& backend, const PassScope& scope) const {
    PassRecord r;
    r.pass_id = pass_id;
    r.instance = instance_;
    r.backend = backend;
    r.bucket = scope.bucket;
    r.paths = scope.paths();
    r.kind = request_.kind;
    r.shared = request_.join;
    r.dry_run = request_.dry_run;
    r.started_at = Clock::now();
    return r;
  }

  void begin(const PassRecord& r) const {
    if (records_ != nullptr) warn_unless_ok(records_->begin(r), r);
  }

  // Under the id the pass ended with (a shared pass's ledger id, once joined).
  void finish(PassRecord r, const Result& result) const {
    if (!result.pass_id.empty()) r.pass_id = result.pass_id;
    r.finished_at = Clock::now();
    r.outcome = std::string(pass_outcome(result));
    r.error = result.status.ok() ? "" : result.status.to_string();
    r.counts = result.totals();
    if (records_ != nullptr) warn_unless_ok(records_->finish(r), r);
  }

 private:
  void warn_unless_ok(const Status& s, const PassRecord& r) const {
    if (s.ok()) return;
    request_.log.warn("pass record not written",
                      {{"pass_id", r.pass_id}, {"backend", r.backend}, {"error", s.to_string()}});
  }

  PassRecords* records_;
  const PassRequest& request_;
  const std::string instance_;
};

// Deletes what the index keeps of passes that ended more than `keep` ago
// (store.keep_pass_history): their records and, on an index with a ledger,
// the settled shared passes with their ranges. Without it an unattended
// serve adds rows forever. Housekeeping: a failure is a warning.
void prune_pass_history(IndexStore& store, std::chrono::milliseconds keep, const EventLog& log) {
  if (keep.count() == 0) return;
  const Clock::time_point before = Clock::now() - keep;
  StatusOr<std::size_t> records = std::size_t{0}, shared = std::size_t{0};
  if (PassRecords* r = store.pass_records(); r != nullptr) records = r->prune(before);
  if (PassLedger* l = store.pass_ledger(); l != nullptr) shared = l->prune(before);
  for (const auto* pruned : {&records, &shared}) {
    if (!pruned->ok()) log.warn("pass history not pruned", {{"error", pruned->status().to_string()}});
  }
  const std::size_t gone = (records.ok() ? *records : 0) + (shared.ok() ? *shared : 0);
  if (gone == 0) return;
  log.info("pass history pruned", {{"pass_records", records.ok() ? *records : 0},
                                   {"shared_passes", shared.ok() ? *shared : 0},
                                   {"ended_before", iso8601_utc_micros(before)}});
}

// A backend claimed for the passes of one loop iteration, released at its
// end however it ends. Always held without claims to honour.
class ClaimHold {
 public:
  ClaimHold(BackendClaims* claims, std::string backend)
      : claims_(claims), backend_(std::move(backend)), held_(claims == nullptr || claims->try_claim(backend_)) {}
  ~ClaimHold() {
    if (claims_ != nullptr && held_) claims_->release(backend_);
  }
  ClaimHold(const ClaimHold&) = delete;
  ClaimHold& operator=(const ClaimHold&) = delete;
  bool held() const { return held_; }

 private:
  BackendClaims* const claims_;
  const std::string backend_;
  const bool held_;
};
// A pass over `scope` of `backend` that could not run, with why.
Result failed_pass(const std::string& pass_id, const std::string& backend, const PassScope& scope, Status why) {
  Result failed;
  failed.pass_id = pass_id;
  failed.backend = backend;
  failed.bucket = scope.bucket;
  failed.prefix = scope.paths();
  failed.status = std::move(why);
  return failed;
}

// A pass, continuing where the last one over the same paths stopped at its
// request budget, and recording where this one stopped (or that it reached
// the end, so that the next wraps around). A dry run reads the resume point
// and moves nothing.
Result budgeted_pass(const BackendRef& backend, const std::vector<std::string>& known_buckets, IndexStore& store,
                     PassOptions options, const PassScope& scope) {
  if (options.max_list_requests == 0) return reconcile_backend(backend, known_buckets, store, options, scope);
  auto resume = store.resume_point(backend.name, scope.paths());
  if (!resume.ok()) {
    return failed_pass(options.pass_id, backend.name, scope,
                       resume.status().with_context("reading where the last pass stopped"));
  }
  options.resume_after = *resume;
  Result result = reconcile_backend(backend, known_buckets, store, options, scope);
  if (result.status.ok() && !options.dry_run) {
    result.status = store.set_resume_point(backend.name, scope.paths(), result.resume_after)
                        .with_context("recording where the pass stopped");
  }
  return result;
}

}  // namespace

Status check_selection(const config::Config& config, const PassSelection& selection) {
  for (const auto& name : selection.backends) {
    const bool known =
        std::any_of(config.backends.begin(), config.backends.end(), [&](const auto& b) { return b.name == name; });
    if (!known) return invalid_argument_error(fmt::format("--backend {}: no such backend in {}", name, config.file));
  }
  for (const auto& name : selection.buckets) {
    if (std::find(config.buckets.begin(), config.buckets.end(), name) == config.buckets.end()) {
      return invalid_argument_error(fmt::format("--bucket {}: no such bucket in {}", name, config.file));
    }
  }
  if (!selection.buckets.empty() && !selection.prefix.empty()) {
    return invalid_argument_error(fmt::format(
        "--prefix {} and --bucket narrow a pass two ways; give one (--prefix {}/... narrows inside a bucket)",
        quote_key(selection.prefix), selection.buckets.front()));
  }
  return ok_status();
}

PassRun run_passes(const config::Config& config, const PassRequest& request) {
  const PassSelection& selection = request.selection;
  const std::stop_token stop = request.stop;
  PassRun run;
  // Every connection to the index, timed when someone watches.
  auto open_index = [&config, observer = request.index_observer]() -> StatusOr<std::unique_ptr<IndexStore>> {
    auto opened = open_store(config.store);
    if (!opened.ok() || observer == nullptr) return opened;
    return timed_store(std::move(*opened), *observer);
  };
  auto store = open_index();
  if (!store.ok()) {
    run.setup = store.status();
    return run;
  }
  PassOptions options;
  options.page_size = config.reconcile.page_size;
  options.queue_size = config.reconcile.queue_size;
  options.batch_size = config.reconcile.batch_size;
  options.dry_run = request.dry_run;
  options.limits = request.limits;
  options.stop = stop;
  options.logger = request.log;
  options.counters = request.counters;
  options.parallelism = request.parallelism != 0 ? request.parallelism : config.reconcile.parallelism;
  options.fix_sizes = config.reconcile.fix_sizes;
  options.index_read_ahead = config.reconcile.index_read_ahead;
  options.max_list_requests = config.reconcile.max_list_requests;
  // More connections to the same index: the writer's and one per key range.
  options.open_store = open_index;

  SharedPassOptions shared;
  shared.owner = instance_name();
  const Recorder recorder((*store)->pass_records(), request, shared.owner);
  shared.ranges = config.reconcile.ranges;
  shared.lease = config.reconcile.lease;
  if (request.join && options.max_list_requests != 0) {
    run.setup = invalid_argument_error(
        "--join and reconcile.max_list_requests do not go together: a budget is spent in key order by one walk, "
        "and shared passes split theirs into ranges");
    return run;
  }
  if (request.join && (*store)->pass_ledger() == nullptr) {
    run.setup = invalid_argument_error(fmt::format(
        "--join needs a PostgreSQL index (store.postgres): {} keeps no pass ledger", describe_store(config.store)));
    return run;
  }

  for (const auto& backend_config : config.backends) {
    if (!selected(selection.backends, backend_config.name)) continue;
    if (stop.stop_requested()) return run;
    // With a shared index, one instance at a time reconciles a backend.
    if (request.lock_backends) {
      auto locked = (*store)->try_lock_backend(backend_config.name);
      if (!locked.ok()) {
        run.setup = locked.status();
        return run;
      }
      if (!*locked) {
        request.log.info("skipped",
                         {{"backend", backend_config.name}, {"reason", "another instance is reconciling it"}});
        continue;
      }
    }
    // One pass of a backend at a time in this process.
    ClaimHold claim(request.claims, backend_config.name);
    if (!claim.held()) {
      request.log.info("skipped", {{"backend", backend_config.name}, {"reason", "a pass of it is already running"}});
      if (request.lock_backends) (void)(*store)->unlock_backend(backend_config.name);
      continue;
    }
    auto opened = open_backend(backend_config, config.reconcile, request);
    BackendRef backend{
        backend_config.name,    opened.ok() ? opened->lister : nullptr, opened.ok() ? opened->prober : nullptr,
        backend_config.buckets, backend_config.adopt_unprefixed,        backend_config.import_orphans};
    // One pass over the whole backend (or a prefix), or one per named bucket.
    std::vector<PassScope> scopes;
    if (selection.buckets.empty()) {
      scopes.push_back(PassScope{"", selection.prefix});
    } else {
      for (const auto& bucket : backend_config.buckets) {
        if (selected(selection.buckets, bucket)) scopes.push_back(PassScope{bucket, ""});
      }
    }
    for (const auto& scope : scopes) {
      if (stop.stop_requested()) return run;
      options.pass_id = new_pass_id();
      PassRecord record = recorder.start(options.pass_id, backend_config.name, scope);
      options.live_counts = request.watcher ? request.watcher->pass_started(record) : nullptr;
      if (!opened.ok()) {
        // A backend that cannot even be set up fails each of its passes.
        Result failed = failed_pass(options.pass_id, backend_config.name, scope, opened.status());
        recorder.finish(record, failed);
        if (request.watcher) request.watcher->pass_ended(record, failed);
        run.results.push_back(std::move(failed));
        continue;
      }
      // Each pass has its own start: rows written before it are fair game.
      options.started_at = Clock::now();
      if (request.progress) {
        // A shared pass is named by the ledger only once joined.
        request.progress->pass_started(
            pass_log(request.log, request.join ? "" : options.pass_id, backend_config.name, scope), backend_config.name,
            scope.bucket);
      }
      options.on_change = nullptr;
      if (request.on_change) {
        options.on_change = [&request, &backend_config](ChangeAction action, const Entry& entry) {
          return request.on_change(backend_config.name, entry.bucket, action, entry);
        };
      }
      if (request.join) {
        // Recorded under the ledger's id, which every instance of it shares.
        shared.on_joined = [&recorder, &record, &request](const std::string& pass_id) {
          record.pass_id = pass_id;
          recorder.begin(record);
          if (request.watcher) request.watcher->pass_joined(pass_id);
        };
        run.results.push_back(join_shared_pass(backend, config.buckets, **store, options, shared, scope));
      } else {
        recorder.begin(record);
        run.results.push_back(budgeted_pass(backend, config.buckets, **store, options, scope));
      }
      recorder.finish(record, run.results.back());
      if (request.progress) request.progress->pass_ended();
      if (request.watcher) request.watcher->pass_ended(record, run.results.back());
    }
    if (request.lock_backends) {
      Status unlocked = (*store)->unlock_backend(backend_config.name);
      if (!unlocked.ok()) {
        request.log.warn("unlock failed", {{"backend", backend_config.name}, {"error", unlocked.to_string()}});
      }
    }
  }
  prune_pass_history(**store, config.store.keep_pass_history, request.log);
  return run;
}

}  // namespace s3reconcile::cli
