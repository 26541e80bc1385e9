#include "cli/status.h"

#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/pass_json.h"
#include "cli/report.h"
#include "cli/stores.h"
#include "config/config.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/pass_ledger.h"
#include "s3reconcile/pass_records.h"
#include "s3reconcile/time_format.h"

namespace s3reconcile::cli {
namespace {

std::string when(const std::optional<Clock::time_point>& t) { return t ? iso8601_utc_micros(*t) : ""; }

void print_records(const std::string& backend, const std::vector<PassRecord>& records) {
  std::cout << fmt::format("backend {}: {} latest passes\n", backend, records.size());
  for (const auto& r : records) {
    std::cout << fmt::format(
        "  {} pass={} kind={}{}{} outcome={} paths=\"{}\" listed={} rows={} imported={} removed={} failed={}{}\n",
        iso8601_utc_micros(r.started_at), r.pass_id, r.kind, r.shared ? " shared" : "", r.dry_run ? " dry_run" : "",
        r.outcome, r.paths, r.counts.listed, r.counts.rows, r.counts.imported, r.counts.removed,
        r.counts.import_failed + r.counts.delete_failed, r.error.empty() ? "" : " error=" + quote_key(r.error));
  }
}

void print_text(const PassState& p) {
  std::map<std::string, int> by_state;
  RangeCounts total;
  for (const auto& r : p.ranges) {
    ++by_state[r.state];
    total += r.counts;
  }
  std::cout << fmt::format("pass {} backend={} paths=\"{}\" state={} started={}{}\n", p.pass_id, p.backend, p.bucket,
                           p.state, iso8601_utc_micros(p.started_at),
                           p.finished_at ? " finished=" + when(p.finished_at) : "");
  std::cout << fmt::format(
      "  ranges {}: done {}, running {}, pending {}, failed {}; listed {}, rows {}, imported {}, "
      "removed {}, failed imports {}, failed removals {}\n",
      p.ranges.size(), by_state["done"], by_state["running"], by_state["pending"], by_state["failed"], total.listed,
      total.rows, total.imported, total.removed, total.import_failed, total.delete_failed);
  std::cout << fmt::format("  {:>5}  {:<8}  {:<24}  {:>8}  {:>10}  {:>9}  {:>8}  {}\n", "range", "state", "owner",
                           "attempts", "listed", "imported", "removed", "resume after / error");
  for (const auto& r : p.ranges) {
    std::cout << fmt::format("  {:>5}  {:<8}  {:<24}  {:>8}  {:>10}  {:>9}  {:>8}  {}\n", r.range_no, r.state, r.owner,
                             r.attempts, r.counts.listed, r.counts.imported, r.counts.removed,
                             r.error.empty() ? quote_key(r.resume_after) : r.error);
  }
}

}  // namespace

int status_command(const StatusFlags& flags) {
  auto config = config::load_config(flags.config_file);
  if (!config.ok()) {
    std::cerr << "s3reconcile: " << config.status().message() << "\n";
    return kExitUsage;
  }
  auto store = open_store(config->store);
  if (!store.ok()) {
    std::cerr << "s3reconcile: " << store.status().to_string() << "\n";
    return kExitPassFailed;
  }
  // Per backend of the config, so that a busy backend does not hide the others.
  std::vector<std::pair<std::string, std::vector<PassRecord>>> records;
  if (PassRecords* kept = (*store)->pass_records(); kept != nullptr) {
    for (const auto& backend : config->backends) {
      auto latest = kept->recent(backend.name, flags.limit);
      if (!latest.ok()) {
        std::cerr << "s3reconcile: " << latest.status().to_string() << "\n";
        return kExitPassFailed;
      }
      records.emplace_back(backend.name, std::move(*latest));
    }
  }
  // Shared passes only where the index keeps their ledger (PostgreSQL).
  std::vector<PassState> passes;
  if (PassLedger* ledger = (*store)->pass_ledger(); ledger != nullptr) {
    auto recent = ledger->recent_passes(flags.limit);
    if (!recent.ok()) {
      std::cerr << "s3reconcile: " << recent.status().to_string() << "\n";
      return kExitPassFailed;
    }
    passes = std::move(*recent);
  }
  if (flags.output == "json") {
    nlohmann::ordered_json out;
    out["records"] = nlohmann::ordered_json::array();
    for (const auto& [backend, latest] : records) {
      for (const auto& r : latest) out["records"].push_back(record_json(r));
    }
    out["passes"] = nlohmann::ordered_json::array();
    for (const auto& p : passes) out["passes"].push_back(ledger_pass_json(p));
    std::cout << dump(out) << "\n";
    return kExitOk;
  }
  for (const auto& [backend, latest] : records) print_records(backend, latest);
  if ((*store)->pass_ledger() != nullptr) {
    if (passes.empty()) std::cout << "no shared passes\n";
    for (const auto& p : passes) print_text(p);
  }
  return kExitOk;
}

}  // namespace s3reconcile::cli
