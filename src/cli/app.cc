#include "cli/app.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/chrono.h>
#include <CLI/CLI.hpp>

#include "cli/explain_credentials.h"
#include "cli/json_bytes.h"
#include "cli/logging.h"
#include "cli/pass_runner.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "cli/serve.h"
#include "cli/signals.h"
#include "cli/status.h"
#include "cli/stores.h"
#include "cli/survey.h"
#include "cli/undo.h"
#include "config/config.h"
#include "s3reconcile/s3_backend.h"

namespace s3reconcile::cli {
namespace {

enum class Command { kRun, kDiff, kCheck };

// Flags shared by run, diff and check.
struct PassFlags {
  std::string config_file;
  std::vector<std::string> backends;
  std::vector<std::string> buckets;
  std::string prefix;
  bool dry_run = false;
  std::string output = "text";
  std::string log_level = "info";
  std::string log_format = "text";
  std::string progress_interval = "30s";
  // Removal guard overrides; unset ones come from the config.
  bool allow_empty_listing = false;
  std::optional<std::uint64_t> max_removals;
  std::optional<double> max_removal_ratio;
  std::string changes_file;     // JSON lines of every change made (append)
  std::size_t parallelism = 0;  // 0: the config's reconcile.parallelism
  bool join = false;            // run: share passes through the index
  bool exit_code = false;       // diff: exit 3 when drift was found, as check does
};

void add_pass_flags(CLI::App& cmd, PassFlags& f, bool with_output) {
  cmd.add_option("--config,-c", f.config_file, "YAML config file")->required();
  cmd.add_option("--backend", f.backends, "Only this backend (repeatable)");
  cmd.add_option("--bucket", f.buckets,
                 "Only the paths under this virtual bucket's prefix, a pass each (repeatable; unprefixed keys are "
                 "reconciled by whole-backend passes)");
  cmd.add_option("--prefix", f.prefix, "Only the paths starting with this prefix (not with --bucket)");
  if (with_output) {
    cmd.add_option("--output", f.output, "Result format on stdout: text or json")
        ->check(CLI::IsMember({"text", "json"}));
  }
  cmd.add_option("--log-level", f.log_level, "trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  cmd.add_option("--log-format", f.log_format, "Logs on stderr: text or json")->check(CLI::IsMember({"text", "json"}));
  cmd.add_option("--progress-interval", f.progress_interval,
                 "A progress log line for the pass in flight every DURATION (default 30s; 0 = none)");
  cmd.add_flag("--allow-empty-listing", f.allow_empty_listing,
               "Remove rows even when the listing is empty while the index holds rows for it");
  cmd.add_option("--max-removals", f.max_removals, "Stop removing after this many rows per pass (0 = no limit)");
  cmd.add_option("--max-removal-ratio", f.max_removal_ratio,
                 "Stop removing beyond this share of the rows scanned (0 < R <= 1; 1 = no limit)")
      ->check(CLI::Range(0.000001, 1.0));
  cmd.add_option("--parallelism", f.parallelism,
                 "Key ranges of each pass walked at once (default: reconcile.parallelism, 1)")
      ->check(CLI::Range(std::size_t{1}, config::kMaxParallelism));
  cmd.add_option("--changes", f.changes_file,
                 "Append every import and removal made to FILE as JSON lines (enough to undo the pass)");
}

std::string_view action_name(ChangeAction action) {
  switch (action) {
    case ChangeAction::kImport:
      return "import";
    case ChangeAction::kRemove:
      return "remove";
    case ChangeAction::kOrphan:
      return "orphan";
    case ChangeAction::kResize:
    case ChangeAction::kSizeMismatch:
      return "resize";
  }
  return "unknown";
}

// One change as a JSON object: what diff prints and --changes records.
nlohmann::ordered_json change_json(const std::string& backend, const std::string& bucket, ChangeAction action,
                                   const Entry& entry) {
  nlohmann::ordered_json j;
  j["action"] = action_name(action);
  j["backend"] = backend;
  j["bucket"] = bucket;
  put_bytes(j, "key", entry.key);
  put_bytes(j, "storage_key", entry.storage_key);
  j["size"] = entry.size;
  if (action == ChangeAction::kResize || action == ChangeAction::kSizeMismatch) {
    // Both sizes, and whether the row was (or in a dry run would be) set to
    // the backend's: what undo needs to set it back.
    j["index_size"] = entry.index_size.value_or(0);
    j["backend_size"] = entry.size;
    j["fixed"] = action == ChangeAction::kResize;
  }
  return j;
}

bool drift_found(const std::vector<Result>& results) {
  for (const auto& r : results) {
    if (r.imported + r.removed + r.orphans_reported + r.size_mismatch > 0) return true;
  }
  return false;
}

int pass_command(Command command, const PassFlags& flags, std::stop_token stop) {
  auto config = config::load_config(flags.config_file);
  if (!config.ok()) {
    std::cerr << "s3reconcile: " << config.status().message() << "\n";
    return kExitUsage;
  }
  PassRequest request;
  request.selection = PassSelection{flags.backends, flags.buckets, flags.prefix};
  if (Status s = check_selection(*config, request.selection); !s.ok()) {
    std::cerr << "s3reconcile: " << s.message() << "\n";
    return kExitUsage;
  }
  // Settings the AWS conventions cannot complete (no region for AWS, ...)
  // are the config's fault, like a bad field: exit 2 before any pass.
  for (const auto& b : config->backends) {
    if (b.type != "s3" ||
        !(flags.backends.empty() || std::count(flags.backends.begin(), flags.backends.end(), b.name))) {
      continue;
    }
    if (Status s = S3Backend::validate(b.s3); s.code() == StatusCode::kInvalidArgument) {
      std::cerr << "s3reconcile: backend " << b.name << ": " << s.message() << "\n";
      return kExitUsage;
    }
  }
  request.kind = command == Command::kRun ? "run" : command == Command::kDiff ? "diff" : "check";
  request.dry_run = flags.dry_run || command != Command::kRun;
  request.limits = config->reconcile.limits;
  if (flags.allow_empty_listing) request.limits.allow_empty_listing = true;
  if (flags.max_removals) request.limits.max_removals = *flags.max_removals;
  if (flags.max_removal_ratio) request.limits.max_removal_ratio = *flags.max_removal_ratio;
  request.stop = stop;
  request.parallelism = flags.parallelism;
  request.join = flags.join;
  request.log = make_logger(flags.log_level, flags.log_format == "json" ? LogFormat::kJson : LogFormat::kText);
  const auto progress_interval = parse_progress_interval(flags.progress_interval);
  if (!progress_interval.ok()) {
    std::cerr << "s3reconcile: " << progress_interval.status().message() << "\n";
    return kExitUsage;
  }
  MergeCounters counters;
  request.counters = &counters;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> changes(nullptr, &std::fclose);
  if (!flags.changes_file.empty()) {
    changes.reset(std::fopen(flags.changes_file.c_str(), "a"));
    if (!changes) {
      std::cerr << "s3reconcile: cannot open --changes file \"" << flags.changes_file << "\": " << std::strerror(errno)
                << "\n";
      return kExitUsage;
    }
  }
  const bool print_diff = command == Command::kDiff;
  const bool dry_run = request.dry_run;
  if (print_diff || changes) {
    request.on_change = [&, print_diff, dry_run](const std::string& backend, const std::string& bucket,
                                                 ChangeAction action, const Entry& entry) {
      auto j = change_json(backend, bucket, action, entry);
      if (print_diff) {
        std::cout << dump(j) << "\n";
        if (!std::cout.flush()) return unavailable_error("cannot write the drift to standard output");
      }
      if (changes) {
        j["dry_run"] = dry_run;
        j["time"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(std::time(nullptr)));
        const std::string line = dump(j) + "\n";
        // Flushed line by line: a killed process leaves whole lines behind.
        // A line that cannot be written fails the pass before its next batch.
        errno = 0;
        if (std::fwrite(line.data(), 1, line.size(), changes.get()) != line.size() || std::fflush(changes.get()) != 0) {
          return unavailable_error(fmt::format("cannot write the change log \"{}\": {}", flags.changes_file,
                                               std::strerror(errno != 0 ? errno : EIO)));
        }
      }
      return ok_status();
    };
  }
  PassRun run;
  {
    Progress progress(counters, ProgressOptions{flags.log_level != "off" && ::isatty(STDERR_FILENO) == 1,
                                                *progress_interval, request.log});
    request.progress = &progress;
    run = run_passes(*config, request);
  }
  if (command != Command::kDiff) {
    if (flags.output == "json") {
      std::cout << dump(run_json(run.results, request.dry_run, run.setup)) << "\n";
    } else {
      std::cout << run_text(run.results, request.dry_run, run.setup);
    }
  }
  std::cout.flush();
  bool ok = run.setup.ok();
  for (const auto& r : run.results) {
    ok = ok && r.status.ok();
    if (command == Command::kDiff && !r.status.ok()) {
      std::cerr << "s3reconcile: backend " << r.backend << (r.prefix.empty() ? "" : " paths " + r.prefix) << ": "
                << r.status.to_string() << "\n";
    }
  }
  if (!run.setup.ok()) std::cerr << "s3reconcile: " << run.setup.message() << "\n";
  // A store refused at open for its configuration (a pending_delete_query
  // that does not work, --join without PostgreSQL) is the config's fault.
  if (run.setup.code() == StatusCode::kInvalidArgument) return kExitUsage;
  if (!ok) return kExitPassFailed;
  if ((command == Command::kCheck || (command == Command::kDiff && flags.exit_code)) && drift_found(run.results)) {
    return kExitDrift;
  }
  return kExitOk;
}

// Opens the store, which creates or migrates its schema, and says which
// version it is at. Safe to run while passes run and while other instances
// migrate: the stores serialize migrations themselves.
int migrate_command(const std::string& config_file) {
  auto config = config::load_config(config_file);
  if (!config.ok()) {
    std::cerr << "s3reconcile: " << config.status().message() << "\n";
    return kExitUsage;
  }
  auto store = open_store(config->store);
  if (!store.ok()) {
    std::cerr << "s3reconcile: " << store.status().message() << "\n";
    return kExitPassFailed;
  }
  std::cout << describe_store(config->store) << ": schema version " << store_schema_version(config->store) << "\n";
  return kExitOk;
}

}  // namespace

int run_app(int argc, char** argv) {
  CLI::App app{"s3reconcile: find and repair drift between object stores and their SQL index"};
  app.require_subcommand(1);
  app.set_version_flag("--version", S3R_VERSION);

  PassFlags run_flags, diff_flags, check_flags;
  CLI::App* run = app.add_subcommand("run", "One reconcile pass over every backend (or the buckets or prefix named)");
  add_pass_flags(*run, run_flags, true);
  run->add_flag("--dry-run", run_flags.dry_run, "Change nothing; report what a pass would change");
  run->add_flag("--join", run_flags.join,
                "Join (or start) each pass as a shared pass of the PostgreSQL index and work its ranges");
  CLI::App* diff =
      app.add_subcommand("diff", "A dry run printing each drifting key as one JSON object per line on stdout");
  add_pass_flags(*diff, diff_flags, false);
  diff->add_flag("--exit-code", diff_flags.exit_code, "Exit 3 when drift was found, 0 when none (as check does)");
  CLI::App* check = app.add_subcommand("check", "A dry run whose exit code says whether drift exists (3 = drift)");
  add_pass_flags(*check, check_flags, true);
  bool explain_credentials = false;
  check->add_flag("--explain-credentials", explain_credentials,
                  "Run no pass: print, per backend, the credential source, region and endpoint resolved, and when "
                  "the credentials expire (no secret)");
  ServeFlags serve_flags;
  std::string serve_log_format = "text";
  CLI::App* serve_cmd =
      app.add_subcommand("serve", "Run passes every serve.interval; expose /metrics and /healthz on serve.listen");
  serve_cmd->add_option("--config,-c", serve_flags.config_file, "YAML config file")->required();
  serve_cmd->add_option("--log-level", serve_flags.log_level, "trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  serve_cmd->add_option("--log-format", serve_log_format, "Logs on stderr: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  serve_cmd->add_option("--progress-interval", serve_flags.progress_interval,
                        "A progress log line for the pass in flight every DURATION (default 30s; 0 = none)");

  std::string migrate_config;
  CLI::App* migrate = app.add_subcommand("migrate", "Create or migrate the index's schema and print its version");
  migrate->add_option("--config,-c", migrate_config, "YAML config file")->required();

  StatusFlags status_flags;
  CLI::App* status_cmd =
      app.add_subcommand("status", "Show the latest passes per backend, and shared passes with their ranges");
  status_cmd->add_option("--config,-c", status_flags.config_file, "YAML config file")->required();
  status_cmd->add_option("--output", status_flags.output, "text or json")->check(CLI::IsMember({"text", "json"}));
  status_cmd
      ->add_option("--limit", status_flags.limit,
                   "How many of the latest passes per backend, and of shared passes (default 20)")
      ->check(CLI::Range(1, 10000));

  UndoFlags undo_flags;
  CLI::App* undo = app.add_subcommand("undo", "Reverse the changes passes logged with --changes, newest first");
  undo->add_option("--config,-c", undo_flags.config_file, "YAML config file")->required();
  undo->add_option("--changes", undo_flags.changes_file, "The change log (JSON lines) a run wrote")->required();
  undo->add_flag("--dry-run", undo_flags.dry_run, "Print what would be undone; change nothing");

  SurveyFlags survey_flags;
  CLI::App* survey_cmd = app.add_subcommand(
      "survey", "Count noncurrent versions, delete markers and incomplete uploads per backend and bucket");
  survey_cmd->add_option("--config,-c", survey_flags.config_file, "YAML config file")->required();
  survey_cmd->add_option("--backend", survey_flags.backends, "Only this backend (repeatable)");
  survey_cmd->add_option("--bucket", survey_flags.bucket,
                         "Only the keys under this virtual bucket's prefix (and only its uploads aborted)");
  survey_cmd->add_option("--output", survey_flags.output, "text or json")->check(CLI::IsMember({"text", "json"}));
  survey_cmd->add_option("--abort-uploads-older-than", survey_flags.abort_older_than,
                         "Abort each incomplete multipart upload at least DURATION old, listing it (never an object "
                         "or a version)");
  survey_cmd->add_flag("--dry-run", survey_flags.dry_run, "List the uploads that would be aborted; abort none");

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
  if (migrate->parsed()) return migrate_command(migrate_config);
  if (status_cmd->parsed()) return status_command(status_flags);
  if (undo->parsed()) return undo_command(undo_flags);
  Signals& signals = Signals::install();
  const std::stop_token stop = signals.stop_token();
  if (serve_cmd->parsed()) {
    serve_flags.log_format = serve_log_format == "json" ? LogFormat::kJson : LogFormat::kText;
    return serve(serve_flags, signals);
  }
  if (survey_cmd->parsed()) return survey_command(survey_flags, stop);
  if (run->parsed()) return pass_command(Command::kRun, run_flags, stop);
  if (diff->parsed()) return pass_command(Command::kDiff, diff_flags, stop);
  if (check->parsed() && explain_credentials) {
    return explain_credentials_command(check_flags.config_file, check_flags.backends, check_flags.output);
  }
  if (check->parsed()) return pass_command(Command::kCheck, check_flags, stop);
  return kExitUsage;
}

}  // namespace s3reconcile::cli
