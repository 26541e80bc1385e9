#include "cli/survey.h"

#include <algorithm>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/json_bytes.h"
#include "cli/pass_runner.h"
#include "cli/report.h"
#include "s3reconcile/buckets.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/s3_backend.h"
#include "s3reconcile/time_format.h"

namespace s3reconcile::cli {
namespace {

long long age_seconds(Clock::duration age) { return std::chrono::duration_cast<std::chrono::seconds>(age).count(); }

// "noncurrent_versions=3 noncurrent_version_bytes=12 ...": one greppable
// line per backend and bucket.
std::string tally_text(const HiddenTally& t, Clock::time_point now) {
  return fmt::format(
      "noncurrent_versions={} noncurrent_version_bytes={} delete_markers={} incomplete_uploads={} "
      "incomplete_upload_bytes={} oldest_incomplete_upload_age={}",
      t.noncurrent_versions, t.noncurrent_version_bytes, t.delete_markers, t.incomplete_uploads,
      t.incomplete_upload_bytes,
      t.oldest_upload_initiated ? fmt::format("{}s", age_seconds(now - *t.oldest_upload_initiated)) : "-");
}

nlohmann::ordered_json tally_json(const HiddenTally& t, Clock::time_point now) {
  nlohmann::ordered_json j;
  j["noncurrent_versions"] = t.noncurrent_versions;
  j["noncurrent_version_bytes"] = t.noncurrent_version_bytes;
  j["delete_markers"] = t.delete_markers;
  j["incomplete_uploads"] = t.incomplete_uploads;
  j["incomplete_upload_bytes"] = t.incomplete_upload_bytes;
  if (t.oldest_upload_initiated) {
    j["oldest_incomplete_upload_initiated"] = iso8601_utc_micros(*t.oldest_upload_initiated);
    j["oldest_incomplete_upload_age_seconds"] = age_seconds(now - *t.oldest_upload_initiated);
  } else {
    j["oldest_incomplete_upload_initiated"] = nullptr;
    j["oldest_incomplete_upload_age_seconds"] = nullptr;
  }
  return j;
}

std::string bucket_name(const std::string& bucket) { return bucket.empty() ? "(no bucket)" : bucket; }

}  // namespace

BackendSurvey survey_backend(const config::Config& config, const config::BackendConfig& backend,
                             const SurveyOptions& options, std::stop_token stop) {
  BackendSurvey out;
  out.backend = backend.name;
  if (backend.type != "s3") {
    out.applicable = false;
    return out;
  }
  auto s3 = S3Backend::open(backend.s3);
  if (!s3.ok()) {
    out.status = s3.status().with_context(fmt::format("backend \"{}\"", backend.name));
    return out;
  }
  const PathClassifier classifier(backend.buckets, config.buckets, backend.adopt_unprefixed);
  auto report = survey_hidden_storage(*(*s3)->hidden_storage(), classifier, options, stop);
  if (!report.ok()) {
    out.status = report.status().with_context(fmt::format("backend \"{}\"", backend.name));
    return out;
  }
  out.report = std::move(*report);
  return out;
}

int survey_command(const SurveyFlags& flags, std::stop_token stop) {
  auto config = config::load_config(flags.config_file);
  if (!config.ok()) {
    std::cerr << "s3reconcile: " << config.status().message() << "\n";
    return kExitUsage;
  }
  // --backend and --bucket name what the config has, as for a pass.
  const PassSelection selection{flags.backends,
                                flags.bucket.empty() ? std::vector<std::string>() : std::vector{flags.bucket}, ""};
  if (Status s = check_selection(*config, selection); !s.ok()) {
    std::cerr << "s3reconcile: " << s.message() << "\n";
    return kExitUsage;
  }
  SurveyOptions options;
  options.dry_run = flags.dry_run;
  if (!flags.bucket.empty()) options.prefix = bucket_prefix(flags.bucket);
  if (!flags.abort_older_than.empty()) {
    auto older = flags.abort_older_than == "0" ? StatusOr<std::chrono::milliseconds>(std::chrono::milliseconds(0))
                                               : config::parse_duration(flags.abort_older_than);
    if (!older.ok()) {
      std::cerr << "s3reconcile: --abort-uploads-older-than: " << older.status().message() << "\n";
      return kExitUsage;
    }
    options.abort_older_than = *older;
  }
  const bool json = flags.output == "json";
  nlohmann::ordered_json out_json = {
      {"status", "ok"}, {"dry_run", flags.dry_run}, {"backends", nlohmann::json::array()}};
  bool failed = false;
  for (const auto& backend : config->backends) {
    if (!flags.backends.empty() && std::count(flags.backends.begin(), flags.backends.end(), backend.name) == 0) {
      continue;
    }
    nlohmann::ordered_json aborted = nlohmann::json::array();
    options.now = Clock::now();
    // Each abort is printed as it happens: a long run of them shows progress,
    // and text output holds none of them in memory.
    options.on_abort = [&](const IncompleteUpload& upload, Clock::duration age) {
      if (json) {
        nlohmann::ordered_json a;
        put_bytes(a, "key", upload.key);
        a["upload_id"] = upload.upload_id;
        a["initiated"] = iso8601_utc_micros(upload.initiated);
        a["age_seconds"] = age_seconds(age);
        aborted.push_back(std::move(a));
        return;
      }
      std::cout << fmt::format("{} backend={} key={} upload_id={} initiated={} age={}s\n",
                               flags.dry_run ? "would abort upload:" : "aborted upload:", backend.name,
                               quote_key(upload.key), quote_key(upload.upload_id), iso8601_utc_micros(upload.initiated),
                               age_seconds(age))
                << std::flush;
    };
    BackendSurvey survey = survey_backend(*config, backend, options, stop);
    failed = failed || !survey.status.ok();
    if (json) {
      nlohmann::ordered_json b;
      b["backend"] = survey.backend;
      b["type"] = backend.type;
      b["applicable"] = survey.applicable;
      b["status"] = survey.status.ok() ? "ok" : "error";
      if (!survey.status.ok()) b["error"] = survey.status.to_string();
      if (survey.applicable && survey.status.ok()) {
        b["total"] = tally_json(survey.report.total, options.now);
        nlohmann::ordered_json buckets = nlohmann::json::array();
        for (const auto& [bucket, tally] : survey.report.buckets) {
          nlohmann::ordered_json one = {{"bucket", bucket}};
          one.update(tally_json(tally, options.now));
          buckets.push_back(std::move(one));
        }
        b["buckets"] = std::move(buckets);
      }
      // What was aborted before a failure was still aborted: always listed.
      b["uploads_aborted"] = aborted;
      out_json["backends"].push_back(std::move(b));
      continue;
    }
    if (!survey.applicable) {
      std::cout << "backend " << backend.name
                << ": not applicable (a local folder keeps no versions, delete markers or uploads)\n";
    } else if (!survey.status.ok()) {
      std::cout << "backend " << backend.name << ": error: " << survey.status.to_string() << "\n";
    } else {
      std::cout << "backend " << backend.name << ": " << tally_text(survey.report.total, options.now) << "\n";
      for (const auto& [bucket, tally] : survey.report.buckets) {
        std::cout << "  bucket " << bucket_name(bucket) << ": " << tally_text(tally, options.now) << "\n";
      }
      if (options.abort_older_than) {
        std::cout << fmt::format("  uploads {}: {}\n", flags.dry_run ? "that would be aborted" : "aborted",
                                 survey.report.uploads_aborted);
      }
    }
  }
  if (json) {
    if (failed) out_json["status"] = "error";
    std::cout << dump(out_json) << "\n";
  }
  std::cout.flush();
  return failed ? kExitPassFailed : kExitOk;
}

}  // namespace s3reconcile::cli
