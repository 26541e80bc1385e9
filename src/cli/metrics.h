// Prometheus metrics of `serve`, per backend and bucket.
#pragma once

#include <memory>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "cli/pass_runner.h"

namespace s3reconcile::cli {

class Metrics {
 public:
  Metrics();

  // Adds one round of passes.
  void record(const PassRun& run);

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& passes_;
  prometheus::Family<prometheus::Counter>& listed_;
  prometheus::Family<prometheus::Counter>& rows_;
  prometheus::Family<prometheus::Counter>& imported_;
  prometheus::Family<prometheus::Counter>& removed_;
  prometheus::Family<prometheus::Counter>& failures_;
  prometheus::Family<prometheus::Counter>& not_imported_;
  prometheus::Family<prometheus::Counter>& api_pages_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Gauge>& last_success_;
  prometheus::Family<prometheus::Counter>& setup_failures_;
};

}  // namespace s3reconcile::cli
