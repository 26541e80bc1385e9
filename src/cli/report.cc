#include "cli/report.h"

#include <algorithm>

#include <fmt/format.h>

#include "cli/json_bytes.h"
#include "s3reconcile/key_order.h"

namespace s3reconcile::cli {

namespace {

void add_counts(nlohmann::ordered_json& j, const PassCounts& c) {
  c.for_each([&](std::string_view name, std::uint64_t v) { j[std::string(name)] = v; });
}

// "photos", or "-" for rows whose key is under no known bucket.
std::string bucket_label(const std::string& bucket) { return bucket.empty() ? "-" : bucket; }

}  // namespace

nlohmann::ordered_json pass_json(const Result& r) {
  nlohmann::ordered_json j;
  j["pass_id"] = r.pass_id;  // as the index's pass records (status) name it
  j["backend"] = r.backend;
  j["bucket"] = r.bucket.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.bucket);
  put_bytes(j, "prefix", r.prefix);
  j["status"] = !r.status.ok() ? "error" : r.stopped_at_budget ? "stopped_at_budget" : "ok";
  j["error"] = r.status.ok() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.status.to_string());
  // Where the next pass over these paths starts: after this path ("" = from
  // the start).
  if (r.stopped_at_budget || !r.started_after.empty()) {
    put_bytes(j, "started_after", r.started_after);
    put_bytes(j, "resume_after", r.resume_after);
  }
  add_counts(j, r.totals());
  j["api_pages"] = r.api_pages;
  j["ranges"] = r.ranges;
  j["duration_ms"] = r.duration.count();
  j["buckets"] = nlohmann::ordered_json::array();
  for (const auto& [bucket, counts] : r.buckets) {
    nlohmann::ordered_json b;
    b["bucket"] = bucket.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(bucket);
    add_counts(b, counts);
    j["buckets"].push_back(std::move(b));
  }
  return j;
}

nlohmann::ordered_json run_json(const std::vector<Result>& results, bool dry_run, const Status& setup) {
  const bool ok =
      setup.ok() && std::all_of(results.begin(), results.end(), [](const Result& r) { return r.status.ok(); });
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
  constexpr std::string_view kRow = "{:<16} {:<16} {:<6} {:>10} {:>10} {:>9} {:>9} {:>8} {:>7} {:>7} {:>9}\n";
  out += fmt::format(kRow, "BACKEND", "BUCKET", "STATUS", "LISTED", "ROWS", "IMPORTED", "REMOVED", "PRESENT", "FAILED",
                     "RACED", "SKIPPED");
  auto row = [&](const std::string& backend, const std::string& bucket, std::string_view status, const PassCounts& c) {
    out +=
        fmt::format(kRow, backend, bucket, status, c.listed, c.rows, c.imported, c.removed, c.already_present,
                    c.import_failed + c.delete_failed, c.raced, c.collisions + c.pending_delete + c.orphans_reported);
  };
  for (const auto& r : results) {
    // The backend's totals ("*", or the prefix it was narrowed to), then
    // each bucket its paths were classified into.
    row(r.backend, r.prefix.empty() ? "*" : r.prefix,
        !r.status.ok()        ? "error"
        : r.stopped_at_budget ? "budget"
                              : "ok",
        r.totals());
    for (const auto& [bucket, counts] : r.buckets) row("", "  " + bucket_label(bucket), "", counts);
  }
  for (const auto& r : results) {
    if (r.status.ok() && r.size_mismatch > 0) {
      out += fmt::format("backend {}: {} rows whose size differs from the backend's, {} resized\n", r.backend,
                         r.size_mismatch, r.resized);
    }
    if (r.status.ok() && r.stopped_at_budget) {
      out += fmt::format("backend {}{}: stopped at the request budget; the next pass continues after {}\n", r.backend,
                         r.prefix.empty() ? "" : " paths " + r.prefix, quote_key(r.resume_after));
    }
    if (!r.status.ok()) {
      out += fmt::format("error: backend {}{}: {}\n", r.backend, r.prefix.empty() ? "" : " paths " + r.prefix,
                         r.status.to_string());
    }
  }
  return out;
}

std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace s3reconcile::cli
