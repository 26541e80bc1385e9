#include "cli/metrics.h"

#include <atomic>
#include <set>
#include <sstream>

#include <prometheus/text_serializer.h>

namespace s3reconcile::cli {
namespace {

double unix_seconds(Clock::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

// "2xx" ... "5xx", or "none" when no answer came.
std::string status_class(long http_status) {
  if (http_status < 100 || http_status > 599) return "none";
  return std::to_string(http_status / 100) + "xx";
}

}  // namespace

// The counters of one pass in flight: each count lands in its backend's and
// bucket's series as the engine makes it.
class Metrics::PassCounters final : public LiveCounts {
 public:
  PassCounters(Metrics& metrics, std::string backend)
      : metrics_(metrics), backend_(std::move(backend)), started_(std::chrono::steady_clock::now()) {}

  void add(std::string_view bucket, std::uint64_t PassCounts::*field, std::uint64_t n) override {
    bool first = false;
    {
      MutexLock lock(mu_);
      first = buckets_seen_.emplace(bucket).second;
    }
    for (const auto& [name, member] : kPassCountFields) {
      // A bucket's every series appears at once, at 0: a series that first
      // appears at 1 is a step increase() and rate() cannot see.
      if (member != field && !first) continue;
      const CountSeries& series = metrics_.count_series_.at(name);
      prometheus::Labels labels = series.extra;
      labels["backend"] = backend_;
      labels["bucket"] = std::string(bucket);
      series.family->Add(labels).Increment(member == field ? static_cast<double>(n) : 0.0);
    }
    if (field == &PassCounts::listed) {
      const double listed = static_cast<double>(listed_.fetch_add(n) + n);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
      if (seconds > 0) metrics_.keys_per_second_.Add({{"backend", backend_}}).Set(listed / seconds);
    }
  }

 private:
  Metrics& metrics_;
  const std::string backend_;
  const std::chrono::steady_clock::time_point started_;
  std::atomic<std::uint64_t> listed_{0};
  Mutex mu_;
  std::set<std::string, std::less<>> buckets_seen_ S3R_GUARDED_BY(mu_);
};

class Metrics::S3Counters final : public S3RequestObserver {
 public:
  S3Counters(Metrics& metrics, std::string backend) : metrics_(metrics), backend_(std::move(backend)) {}

  void on_request(const S3RequestEvent& e) override {
    static const prometheus::Histogram::BucketBoundaries kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                     0.5,   1,    2.5,   5,    10,  30};
    const std::string operation(e.operation);
    metrics_.s3_requests_
        .Add({{"backend", backend_}, {"operation", operation}, {"status_class", status_class(e.http_status)}})
        .Increment();
    if (e.retried) metrics_.s3_retries_.Add({{"backend", backend_}, {"operation", operation}}).Increment();
    metrics_.s3_bytes_.Add({{"backend", backend_}, {"operation", operation}})
        .Increment(static_cast<double>(e.bytes_received));
    metrics_.s3_duration_.Add({{"backend", backend_}, {"operation", operation}}, kBuckets)
        .Observe(std::chrono::duration<double>(e.elapsed).count());
  }

 private:
  Metrics& metrics_;
  const std::string backend_;
};

prometheus::Family<prometheus::Counter>& Metrics::counter(const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Gauge>& Metrics::gauge(const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      passes_(
          counter("s3reconcile_passes_total", "Passes ended, by backend and result (ok, stopped_at_budget, error)")),
      api_pages_(counter("s3reconcile_api_pages_total", "Listing pages fetched")),
      setup_failures_(
          counter("s3reconcile_setup_failures_total", "Rounds where no pass could start (the index did not open)")),
      duration_(prometheus::BuildHistogram()
                    .Name("s3reconcile_pass_duration_seconds")
                    .Help("Duration of passes")
                    .Register(*registry_)),
      last_success_(gauge("s3reconcile_last_success_timestamp_seconds", "Unix time of the last pass that completed")),
      in_flight_(gauge("s3reconcile_passes_in_flight", "Passes running now")),
      pass_start_(
          gauge("s3reconcile_pass_start_timestamp_seconds", "Unix time the pass in flight (or the last) began")),
      keys_per_second_(gauge("s3reconcile_pass_keys_per_second",
                             "Paths listed per second by the pass in flight (0 when none runs)")),
      s3_requests_(counter("s3reconcile_s3_requests_total",
                           "S3 request attempts by operation and HTTP status class (none: no answer)")),
      s3_retries_(counter("s3reconcile_s3_retries_total", "S3 request attempts followed by another attempt")),
      s3_bytes_(counter("s3reconcile_s3_received_bytes_total", "Bytes of S3 response bodies")),
      s3_duration_(prometheus::BuildHistogram()
                       .Name("s3reconcile_s3_request_duration_seconds")
                       .Help("Time from sending an S3 request to its whole answer")
                       .Register(*registry_)),
      index_duration_(prometheus::BuildHistogram()
                          .Name("s3reconcile_index_statement_duration_seconds")
                          .Help("Index statements (one call of the store) by statement, and their latency")
                          .Register(*registry_)),
      index_failures_(counter("s3reconcile_index_statement_failures_total", "Index statements that failed")) {
  // The counts of a pass, each in its own series; several share a family,
  // told apart by a label (failures by kind, orphans not imported by reason).
  auto& failures = counter("s3reconcile_failures_total", "Failed imports and removals by kind");
  auto& not_imported = counter("s3reconcile_orphans_not_imported_total",
                               "Orphans left unimported by reason (collision, pending_delete, reported)");
  auto& kept = counter("s3reconcile_removals_kept_total",
                       "Stale-row candidates kept: the object is back (raced) or the row is newer than the pass");
  count_series_ = {
      {"listed", {&counter("s3reconcile_keys_listed_total", "Keys the backend listings yielded"), {}}},
      {"rows", {&counter("s3reconcile_rows_scanned_total", "Index rows scanned"), {}}},
      {"imported", {&counter("s3reconcile_imported_total", "Rows imported"), {}}},
      {"removed", {&counter("s3reconcile_removed_total", "Rows removed"), {}}},
      {"import_failed", {&failures, {{"kind", "import"}}}},
      {"delete_failed", {&failures, {{"kind", "delete"}}}},
      {"raced", {&kept, {{"reason", "raced"}}}},
      {"too_new", {&kept, {{"reason", "too_new"}}}},
      {"collisions", {&not_imported, {{"reason", "collision"}}}},
      {"pending_delete", {&not_imported, {{"reason", "pending_delete"}}}},
      {"orphans_reported", {&not_imported, {{"reason", "reported"}}}},
  };
  // Any other count: a family of its own, named after it.
  for (const auto& [name, member] : kPassCountFields) {
    if (count_series_.count(name) == 0) {
      count_series_[name] = {&counter("s3reconcile_" + std::string(name) + "_total",
                                      "Pass count " + std::string(name) + " (see the README's counters)"),
                             {}};
    }
  }
  // Exported as 0 from the start: a series that first appears at 1 is a step
  // increase() and rate() cannot see, and dashboards would show no data.
  setup_failures_.Add({});
  gauge("s3reconcile_build_info", "Version and commit of this build (always 1)")
      .Add({{"version", S3R_VERSION}, {"commit", S3R_COMMIT}})
      .Set(1);
}

Metrics::~Metrics() = default;

LiveCounts* Metrics::pass_started(const std::string& backend) {
  in_flight_.Add({{"backend", backend}}).Increment();
  pass_start_.Add({{"backend", backend}}).Set(unix_seconds(Clock::now()));
  keys_per_second_.Add({{"backend", backend}}).Set(0);
  MutexLock lock(mu_);
  auto& slot = in_flight_passes_[backend];
  slot = std::make_unique<PassCounters>(*this, backend);
  return slot.get();
}

void Metrics::pass_ended(const std::string& backend, const Result& r) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600};
  const prometheus::Labels labels = {{"backend", backend}};
  in_flight_.Add(labels).Decrement();
  keys_per_second_.Add(labels).Set(0);
  passes_
      .Add({{"backend", backend},
            {"result", !r.status.ok()        ? "error"
                       : r.stopped_at_budget ? "stopped_at_budget"
                                             : "ok"}})
      .Increment();
  api_pages_.Add(labels).Increment(static_cast<double>(r.api_pages));
  duration_.Add(labels, kBuckets).Observe(std::chrono::duration<double>(r.duration).count());
  if (r.status.ok()) last_success_.Add(labels).Set(unix_seconds(Clock::now()));
  MutexLock lock(mu_);
  in_flight_passes_.erase(backend);
}

void Metrics::round_failed() { setup_failures_.Add({}).Increment(); }

std::shared_ptr<S3RequestObserver> Metrics::s3_observer(const std::string& backend) {
  return std::make_shared<S3Counters>(*this, backend);
}

void Metrics::statement(std::string_view name, std::chrono::nanoseconds took, bool ok) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                   0.05,   0.1,   0.25,   0.5,   1,    5};
  const prometheus::Labels labels = {{"statement", std::string(name)}};
  index_duration_.Add(labels, kBuckets).Observe(std::chrono::duration<double>(took).count());
  auto& failures = index_failures_.Add(labels);  // at 0 from a statement's first call
  if (!ok) failures.Increment();
}

std::string Metrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace s3reconcile::cli
