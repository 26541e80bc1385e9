#include "cli/report.h"

#include <algorithm>

#include <fmt/format.h>

namespace s3reconcile::cli {

nlohmann::ordered_json pass_json(const Result& r) {
  nlohmann::ordered_json j;
  j["backend"] = r.backend;
  j["bucket"] = r.bucket;
  j["status"] = r.status.ok() ? "ok" : "error";
  j["error"] = r.status.ok() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.status.to_string());
  j["listed"] = r.listed;
  j["rows"] = r.rows;
  j["imported"] = r.imported;
  j["removed"] = r.removed;
  j["already_present"] = r.already_present;
  j["import_failed"] = r.import_failed;
  j["delete_failed"] = r.delete_failed;
  j["raced"] = r.raced;
  j["too_new"] = r.too_new;
  j["already_gone"] = r.already_gone;
  j["collisions"] = r.collisions;
  j["api_pages"] = r.api_pages;
  j["ranges"] = r.ranges;
  j["duration_ms"] = r.duration.count();
  return j;
}

nlohmann::ordered_json run_json(const std::vector<Result>& results, bool dry_run, const Status& setup) {
  const bool ok = setup.ok() && std::all_of(results.begin(), results.end(),
                                            [](const Result& r) { return r.status.ok(); });
  nlohmann::ordered_json j;
  j["status"] = ok ? "ok" : "error";
  if (!setup.ok()) j["error"] = setup.to_string();
  j["dry_run"] = dry_run;
  j["passes"] = nlohmann::ordered_json::array();
  for (const auto& r : results) j["passes"].push_back(pass_json(r));
  return j;
}

std::string run_text(const std::vector<Result>& results, bool dry_run, const Status& setup) {
  std::string out;
  if (!setup.ok()) return fmt::format("error: {}\n", setup.to_string());
  if (dry_run) out += "dry run: nothing was changed; counts show what a pass would do\n";
  out += fmt::format("{:<16} {:<16} {:<6} {:>10} {:>10} {:>9} {:>9} {:>8} {:>7} {:>7}\n", "BACKEND",
                     "BUCKET", "STATUS", "LISTED", "ROWS", "IMPORTED", "REMOVED", "PRESENT",
                     "FAILED", "RACED");
  for (const auto& r : results) {
    out += fmt::format("{:<16} {:<16} {:<6} {:>10} {:>10} {:>9} {:>9} {:>8} {:>7} {:>7}\n", r.backend,
                       r.bucket, r.status.ok() ? "ok" : "error", r.listed, r.rows, r.imported,
                       r.removed, r.already_present, r.import_failed + r.delete_failed, r.raced);
  }
  for (const auto& r : results) {
    if (!r.status.ok()) {
      out += fmt::format("error: backend {} bucket {}: {}\n", r.backend, r.bucket, r.status.to_string());
    }
  }
  return out;
}

std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace s3reconcile::cli
