// `s3reconcile serve`: passes on an interval, metrics and health over HTTP.
#pragma once

#include <string>

#include "cli/logging.h"
#include "cli/signals.h"

namespace s3reconcile::cli {

struct ServeFlags {
  std::string config_file;
  std::string log_level = "info";
  LogFormat log_format = LogFormat::kText;
  std::string progress_interval = "30s";
};

// Runs until SIGTERM or SIGINT (exit 0; the pass in flight is cancelled, and
// with batches as transactions nothing is left half-written). SIGHUP reloads
// the config; an invalid new config is logged and the old one kept. Returns
// the exit code.
int serve(const ServeFlags& flags, Signals& signals);

}  // namespace s3reconcile::cli
