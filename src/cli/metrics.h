// Prometheus metrics of `serve`: what passes do as they do it, per backend
// and bucket, what they ask of S3 and of the index, and the state of the
// passes in flight.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "cli/timed_store.h"
#include "s3reconcile/live_counts.h"
#include "s3reconcile/mutex.h"
#include "s3reconcile/result.h"
#include "s3reconcile/s3_backend.h"

namespace s3reconcile::cli {

class Metrics final : public IndexObserver {
 public:
  Metrics();
  ~Metrics() override;

  // A pass of `backend` starts: counted in flight, its start time set. The
  // LiveCounts returned (valid until pass_ended) moves the per-bucket
  // counters as the pass goes.
  LiveCounts* pass_started(const std::string& backend);
  // A pass of `backend` ended with `result`: out of flight, counted by
  // outcome, its duration observed; a completed one sets the last success.
  void pass_ended(const std::string& backend, const Result& result);
  // A round in which no pass could start (the index did not open).
  void round_failed();

  // Counts each S3 request attempt of `backend`.
  std::shared_ptr<S3RequestObserver> s3_observer(const std::string& backend);
  void statement(std::string_view name, std::chrono::nanoseconds took, bool ok) override;

  // Every series in Prometheus's text format.
  std::string render() const;
  // Where other parts of serve (the survey's gauges) register theirs.
  prometheus::Registry& registry() { return *registry_; }

 private:
  class PassCounters;
  class S3Counters;
  prometheus::Family<prometheus::Counter>& counter(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Gauge>& gauge(const std::string& name, const std::string& help);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& passes_;
  prometheus::Family<prometheus::Counter>& api_pages_;
  prometheus::Family<prometheus::Counter>& setup_failures_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Gauge>& last_success_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
  prometheus::Family<prometheus::Gauge>& pass_start_;
  prometheus::Family<prometheus::Gauge>& keys_per_second_;
  prometheus::Family<prometheus::Counter>& s3_requests_;
  prometheus::Family<prometheus::Counter>& s3_retries_;
  prometheus::Family<prometheus::Counter>& s3_bytes_;
  prometheus::Family<prometheus::Histogram>& s3_duration_;
  prometheus::Family<prometheus::Histogram>& index_duration_;
  prometheus::Family<prometheus::Counter>& index_failures_;
  // Where each PassCounts field is counted: a family and its extra label.
  struct CountSeries {
    prometheus::Family<prometheus::Counter>* family;
    prometheus::Labels extra;
  };
  std::map<std::string_view, CountSeries> count_series_;
  // Each backend's pass in flight (one at a time per backend).
  Mutex mu_;
  std::map<std::string, std::unique_ptr<PassCounters>> in_flight_passes_ S3R_GUARDED_BY(mu_);
};

}  // namespace s3reconcile::cli
