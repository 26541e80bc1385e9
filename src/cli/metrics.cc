#include "cli/metrics.h"

#include <chrono>

namespace s3reconcile::cli {
namespace {

prometheus::Family<prometheus::Counter>& counter(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      passes_(counter(*registry_, "s3reconcile_passes_total",
                      "Passes by backend and result (ok, stopped_at_budget, error)")),
      listed_(counter(*registry_, "s3reconcile_keys_listed_total", "Keys the backend listings yielded")),
      rows_(counter(*registry_, "s3reconcile_rows_scanned_total", "Index rows scanned")),
      imported_(counter(*registry_, "s3reconcile_imported_total", "Rows imported")),
      removed_(counter(*registry_, "s3reconcile_removed_total", "Rows removed")),
      failures_(counter(*registry_, "s3reconcile_failures_total", "Failed imports and removals by kind")),
      not_imported_(counter(*registry_, "s3reconcile_orphans_not_imported_total",
                            "Orphans left unimported by reason (collision, pending_delete, reported)")),
      api_pages_(counter(*registry_, "s3reconcile_api_pages_total", "Listing pages fetched")),
      duration_(prometheus::BuildHistogram()
                    .Name("s3reconcile_pass_duration_seconds")
                    .Help("Duration of passes")
                    .Register(*registry_)),
      last_success_(prometheus::BuildGauge()
                        .Name("s3reconcile_last_success_timestamp_seconds")
                        .Help("Unix time of the last pass that completed")
                        .Register(*registry_)),
      setup_failures_(counter(*registry_, "s3reconcile_setup_failures_total",
                              "Rounds where no pass could start (the index did not open)")) {
  // Exported as 0 from the start: a series that first appears at 1 is a step
  // increase() and rate() cannot see, and dashboards would show no data.
  setup_failures_.Add({});
}

void Metrics::record(const PassRun& run) {
  if (!run.setup.ok()) setup_failures_.Add({}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600};
  for (const auto& r : run.results) {
    // A pass is per backend; its counts are per virtual bucket.
    const prometheus::Labels labels = {{"backend", r.backend}};
    passes_
        .Add({{"backend", r.backend},
              {"result", r.status.ok() ? (r.stopped_at_budget ? "stopped_at_budget" : "ok") : "error"}})
        .Increment();
    for (const auto& [bucket, c] : r.buckets) {
      const prometheus::Labels of_bucket = {{"backend", r.backend}, {"bucket", bucket}};
      auto with = [&](const char* key, const char* value) {
        prometheus::Labels l = of_bucket;
        l[key] = value;
        return l;
      };
      listed_.Add(of_bucket).Increment(static_cast<double>(c.listed));
      rows_.Add(of_bucket).Increment(static_cast<double>(c.rows));
      imported_.Add(of_bucket).Increment(static_cast<double>(c.imported));
      removed_.Add(of_bucket).Increment(static_cast<double>(c.removed));
      failures_.Add(with("kind", "import")).Increment(static_cast<double>(c.import_failed));
      failures_.Add(with("kind", "delete")).Increment(static_cast<double>(c.delete_failed));
      not_imported_.Add(with("reason", "collision")).Increment(static_cast<double>(c.collisions));
      not_imported_.Add(with("reason", "pending_delete")).Increment(static_cast<double>(c.pending_delete));
      not_imported_.Add(with("reason", "reported")).Increment(static_cast<double>(c.orphans_reported));
    }
    api_pages_.Add(labels).Increment(static_cast<double>(r.api_pages));
    duration_.Add(labels, kBuckets).Observe(std::chrono::duration<double>(r.duration).count());
    if (r.status.ok()) {
      last_success_.Add(labels).Set(
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    }
  }
}

}  // namespace s3reconcile::cli
