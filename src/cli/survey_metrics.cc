#include "cli/survey_metrics.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace s3reconcile::cli {
namespace {

prometheus::Family<prometheus::Gauge>& gauge(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

double unix_seconds(Clock::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

}  // namespace

SurveyMetrics::SurveyMetrics(prometheus::Registry& registry)
    : noncurrent_versions_(
          gauge(registry, "s3reconcile_noncurrent_versions", "Noncurrent object versions at the last survey")),
      noncurrent_bytes_(gauge(registry, "s3reconcile_noncurrent_version_bytes",
                              "Bytes of the noncurrent object versions at the last survey")),
      delete_markers_(gauge(registry, "s3reconcile_delete_markers", "Delete markers at the last survey")),
      uploads_(gauge(registry, "s3reconcile_incomplete_uploads",
                     "Multipart uploads neither completed nor aborted at the last survey")),
      upload_bytes_(gauge(registry, "s3reconcile_incomplete_upload_bytes",
                          "Bytes of the parts of incomplete multipart uploads at the last survey")),
      oldest_upload_age_(gauge(registry, "s3reconcile_oldest_incomplete_upload_age_seconds",
                               "Age of the oldest incomplete multipart upload at the last survey (0: none)")),
      last_success_(gauge(registry, "s3reconcile_survey_last_success_timestamp_seconds",
                          "Unix time of the last hidden storage survey that completed")),
      failures_(prometheus::BuildCounter()
                    .Name("s3reconcile_survey_failures_total")
                    .Help("Hidden storage surveys that failed")
                    .Register(registry)) {}

void SurveyMetrics::record(const config::BackendConfig& backend, const BackendSurvey& survey, Clock::time_point now) {
  // Exported from the first survey on, so that increase() sees the first failure.
  auto& failures = failures_.Add({{"backend", backend.name}});
  if (!survey.status.ok()) {
    failures.Increment();
    return;
  }
  std::set<std::string>& seen = buckets_seen_[backend.name];
  seen.insert(backend.buckets.begin(), backend.buckets.end());
  for (const auto& [bucket, tally] : survey.report.buckets) seen.insert(bucket);
  for (const std::string& bucket : seen) {
    const auto found = survey.report.buckets.find(bucket);
    const HiddenTally tally = found == survey.report.buckets.end() ? HiddenTally{} : found->second;
    const prometheus::Labels labels = {{"backend", backend.name}, {"bucket", bucket}};
    noncurrent_versions_.Add(labels).Set(static_cast<double>(tally.noncurrent_versions));
    noncurrent_bytes_.Add(labels).Set(static_cast<double>(tally.noncurrent_version_bytes));
    delete_markers_.Add(labels).Set(static_cast<double>(tally.delete_markers));
    uploads_.Add(labels).Set(static_cast<double>(tally.incomplete_uploads));
    upload_bytes_.Add(labels).Set(static_cast<double>(tally.incomplete_upload_bytes));
    oldest_upload_age_.Add(labels).Set(tally.oldest_upload_initiated
                                           ? std::chrono::duration<double>(now - *tally.oldest_upload_initiated).count()
                                           : 0.0);
  }
  last_success_.Add({{"backend", backend.name}}).Set(unix_seconds(Clock::now()));
}

SurveyLoop::SurveyLoop(const config::Config& config, prometheus::Registry& registry, EventLog log, std::stop_token stop)
    : metrics_(registry) {
  if (config.serve.survey_interval.count() <= 0) return;
  thread_ = std::jthread([this, config, log = std::move(log), stop](std::stop_token own) {
    std::mutex mu;
    std::condition_variable_any wake;
    std::stop_source either;  // serve stopping, or this loop destroyed
    std::stop_callback on_serve(stop, [&] { either.request_stop(); });
    std::stop_callback on_own(own, [&] { either.request_stop(); });
    while (!either.stop_requested()) {
      for (const auto& backend : config.backends) {
        if (either.stop_requested()) break;
        SurveyOptions options;  // counts only: serve never aborts an upload
        BackendSurvey survey = survey_backend(config, backend, options, either.get_token());
        if (!survey.status.ok() && !either.stop_requested()) {
          log.error("survey failed", {{"backend", backend.name}, {"error", survey.status.to_string()}});
        }
        if (!either.stop_requested()) metrics_.record(backend, survey, options.now);
      }
      std::unique_lock lock(mu);
      wake.wait_for(lock, either.get_token(), config.serve.survey_interval, [] { return false; });
    }
  });
}

}  // namespace s3reconcile::cli
