// `s3reconcile survey`: per backend and virtual bucket, the storage a
// listing cannot see (noncurrent versions, delete markers, incomplete
// multipart uploads), and the abort of uploads left behind.
#pragma once

#include <stop_token>
#include <string>
#include <vector>

#include "config/config.h"
#include "s3reconcile/storage_survey.h"

namespace s3reconcile::cli {

struct SurveyFlags {
  std::string config_file;
  std::vector<std::string> backends;  // empty = every backend
  std::string bucket;                 // "" = every key; else only this bucket's prefix
  std::string output = "text";
  std::string abort_older_than;  // "" = abort nothing
  bool dry_run = false;
};

// One backend's survey. A local folder keeps nothing hidden: it is not
// applicable, never a failure.
struct BackendSurvey {
  std::string backend;
  bool applicable = true;
  Status status;
  SurveyReport report;
};

// Surveys one backend of `config` (opening it, as a pass would).
BackendSurvey survey_backend(const config::Config& config, const config::BackendConfig& backend,
                             const SurveyOptions& options, std::stop_token stop);

// Exit 0 when every backend was surveyed (or is not applicable), 1 when one
// failed (the others are still reported), 2 on a bad config or flag.
int survey_command(const SurveyFlags& flags, std::stop_token stop);

}  // namespace s3reconcile::cli
