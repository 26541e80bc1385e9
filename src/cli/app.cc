#include "cli/app.h"

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/pass_runner.h"
#include "cli/report.h"
#include "cli/signals.h"
#include "config/config.h"

namespace s3reconcile::cli {
namespace {

struct RunFlags {
  std::string config_file;
  std::vector<std::string> backends;
  std::vector<std::string> buckets;
  bool dry_run = false;
  std::string output = "text";
  std::string log_level = "info";
};

std::shared_ptr<spdlog::logger> make_logger(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("s3reconcile");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  return logger;
}

int run_command(const RunFlags& flags, std::stop_token stop) {
  auto config = config::load_config(flags.config_file);
  if (!config.ok()) {
    std::cerr << "s3reconcile: " << config.status().message() << "\n";
    return kExitUsage;
  }
  PassSelection selection{flags.backends, flags.buckets};
  if (Status s = check_selection(*config, selection); !s.ok()) {
    std::cerr << "s3reconcile: " << s.message() << "\n";
    return kExitUsage;
  }
  auto log = make_logger(flags.log_level);
  PassRun run = run_passes(*config, selection, flags.dry_run, stop, log);
  if (flags.output == "json") {
    std::cout << dump(run_json(run.results, flags.dry_run, run.setup)) << "\n";
  } else {
    std::cout << run_text(run.results, flags.dry_run, run.setup);
  }
  std::cout.flush();
  bool ok = run.setup.ok();
  for (const auto& r : run.results) ok = ok && r.status.ok();
  if (!run.setup.ok()) std::cerr << "s3reconcile: " << run.setup.message() << "\n";
  return ok ? kExitOk : kExitPassFailed;
}

}  // namespace

int run_app(int argc, char** argv) {
  CLI::App app{"s3reconcile: find and repair drift between object stores and their SQL index"};
  app.require_subcommand(1);
  app.set_version_flag("--version", S3R_VERSION);

  RunFlags run_flags;
  CLI::App* run = app.add_subcommand("run", "Run one reconcile pass over every (backend, bucket) pair");
  run->add_option("--config,-c", run_flags.config_file, "YAML config file")->required();
  run->add_option("--backend", run_flags.backends, "Only this backend (repeatable)");
  run->add_option("--bucket", run_flags.buckets, "Only this virtual bucket (repeatable)");
  run->add_flag("--dry-run", run_flags.dry_run, "Change nothing; report what a pass would change");
  run->add_option("--output", run_flags.output, "Result format on stdout")
      ->check(CLI::IsMember({"text", "json"}));
  run->add_option("--log-level", run_flags.log_level, "trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  CLI::App* version = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  if (version->parsed()) {
    std::cout << "s3reconcile " << S3R_VERSION << "\n";
    return kExitOk;
  }
  const std::stop_token stop = stop_on_signals();
  if (run->parsed()) return run_command(run_flags, stop);
  return kExitUsage;
}

}  // namespace s3reconcile::cli
