#include "cli/pass_json.h"

#include "cli/json_bytes.h"
#include "s3reconcile/time_format.h"

namespace s3reconcile::cli {
namespace {

nlohmann::ordered_json when(const std::optional<Clock::time_point>& t) {
  return t ? nlohmann::ordered_json(iso8601_utc_micros(*t)) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json text_or_null(const std::string& s) {
  return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
}

}  // namespace

nlohmann::ordered_json counts_json(const PassCounts& counts) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  counts.for_each([&](std::string_view name, std::uint64_t v) { j[std::string(name)] = v; });
  return j;
}

nlohmann::ordered_json record_json(const PassRecord& r) {
  nlohmann::ordered_json j;
  j["pass_id"] = r.pass_id;
  j["backend"] = r.backend;
  j["bucket"] = text_or_null(r.bucket);
  put_bytes(j, "paths", r.paths);
  j["kind"] = r.kind;
  j["shared"] = r.shared;
  j["dry_run"] = r.dry_run;
  j["instance"] = r.instance;
  j["started_at"] = iso8601_utc_micros(r.started_at);
  j["finished_at"] = when(r.finished_at);
  j["outcome"] = r.outcome;
  j["error"] = text_or_null(r.error);
  j["counts"] = counts_json(r.counts);
  return j;
}

nlohmann::ordered_json ledger_pass_json(const PassState& p) {
  nlohmann::ordered_json j;
  j["pass"] = p.pass_id;
  j["backend"] = p.backend;
  put_bytes(j, "paths", p.bucket);  // the ledger's bucket column holds the paths a pass covers
  j["state"] = p.state;
  j["started_at"] = iso8601_utc_micros(p.started_at);
  j["finished_at"] = when(p.finished_at);
  RangeCounts total;
  j["ranges"] = nlohmann::ordered_json::array();
  for (const auto& r : p.ranges) {
    total += r.counts;
    nlohmann::ordered_json range;
    range["range"] = r.range_no;
    put_bytes(range, "after", r.range.after);
    put_bytes(range, "through", r.range.through);
    range["state"] = r.state;
    range["owner"] = r.owner;
    range["heartbeat_at"] = when(r.heartbeat_at);
    put_bytes(range, "resume_after", r.resume_after);
    range["attempts"] = r.attempts;
    range["counts"] = counts_json(r.counts);
    range["error"] = text_or_null(r.error);
    j["ranges"].push_back(std::move(range));
  }
  j["counts"] = counts_json(total);
  return j;
}

nlohmann::ordered_json board_pass_json(const BoardPass& p) {
  nlohmann::ordered_json j;
  j["pass_id"] = p.pass_id;
  j["backend"] = p.backend;
  j["bucket"] = text_or_null(p.bucket);
  put_bytes(j, "paths", p.paths);
  j["state"] = p.state;
  j["started_at"] = iso8601_utc_micros(p.started_at);
  j["finished_at"] = when(p.finished_at);
  j["error"] = text_or_null(p.error);
  j["counts"] = counts_json(p.counts);
  return j;
}

nlohmann::ordered_json board_run_json(const BoardRun& run) {
  nlohmann::ordered_json j;
  j["id"] = run.id;
  j["kind"] = run.kind;
  j["state"] = run.state;
  j["dry_run"] = run.dry_run;
  j["requested_at"] = iso8601_utc_micros(run.requested_at);
  j["finished_at"] = when(run.finished_at);
  j["error"] = text_or_null(run.error);
  PassCounts total;
  j["passes"] = nlohmann::ordered_json::array();
  for (const auto& p : run.passes) {
    total += p.counts;
    j["passes"].push_back(board_pass_json(p));
  }
  j["counts"] = counts_json(total);
  return j;
}

}  // namespace s3reconcile::cli
