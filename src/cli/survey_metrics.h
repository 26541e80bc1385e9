// The hidden storage survey in `serve`: gauges per backend and bucket, and
// the thread that refreshes them every serve.survey_interval. Apart from
// the pass loop, so that a long survey never delays a pass (or the other
// way round).
#pragma once

#include <map>
#include <set>
#include <string>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "cli/survey.h"
#include "config/config.h"
#include "s3reconcile/event_log.h"

namespace s3reconcile::cli {

class SurveyMetrics {
 public:
  explicit SurveyMetrics(prometheus::Registry& registry);

  // Sets the gauges of one backend's survey: every bucket of `backend`, and
  // every bucket seen before, has its series (0 when nothing is hidden
  // there, as for a local folder, where nothing can be). A failed survey
  // counts a failure and leaves the last values.
  void record(const config::BackendConfig& backend, const BackendSurvey& survey, Clock::time_point now);

 private:
  prometheus::Family<prometheus::Gauge>& noncurrent_versions_;
  prometheus::Family<prometheus::Gauge>& noncurrent_bytes_;
  prometheus::Family<prometheus::Gauge>& delete_markers_;
  prometheus::Family<prometheus::Gauge>& uploads_;
  prometheus::Family<prometheus::Gauge>& upload_bytes_;
  prometheus::Family<prometheus::Gauge>& oldest_upload_age_;
  prometheus::Family<prometheus::Gauge>& last_success_;
  prometheus::Family<prometheus::Counter>& failures_;
  std::map<std::string, std::set<std::string>> buckets_seen_;  // per backend
};

// While alive (and unless serve.survey_interval is 0), surveys every backend
// of `config` at once and then every serve.survey_interval, into gauges
// registered in `registry`. Stops when `stop` is requested or it is
// destroyed; the config is the one serve started with.
class SurveyLoop {
 public:
  SurveyLoop(const config::Config& config, prometheus::Registry& registry, EventLog log, std::stop_token stop);

 private:
  SurveyMetrics metrics_;
  std::jthread thread_;  // last: stopped and joined before the metrics go
};

}  // namespace s3reconcile::cli
