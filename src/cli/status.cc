#include "cli/status.h"

#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/stores.h"
#include "config/config.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/pass_ledger.h"
#include "s3reconcile/time_format.h"

namespace s3reconcile::cli {
namespace {

nlohmann::ordered_json counts_json(const RangeCounts& c) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  c.for_each([&](std::string_view name, std::uint64_t v) { j[std::string(name)] = v; });
  return j;
}

std::string when(const std::optional<Clock::time_point>& t) { return t ? iso8601_utc_micros(*t) : ""; }

nlohmann::ordered_json pass_json(const PassState& p) {
  nlohmann::ordered_json j;
  j["pass"] = p.pass_id;
  j["backend"] = p.backend;
  j["paths"] = p.bucket;  // the ledger's bucket column holds the paths a pass covers
  j["state"] = p.state;
  j["started_at"] = iso8601_utc_micros(p.started_at);
  j["finished_at"] = p.finished_at ? nlohmann::ordered_json(when(p.finished_at)) : nlohmann::ordered_json(nullptr);
  RangeCounts total;
  j["ranges"] = nlohmann::ordered_json::array();
  for (const auto& r : p.ranges) {
    total += r.counts;
    nlohmann::ordered_json range;
    range["range"] = r.range_no;
    range["after"] = r.range.after;
    range["through"] = r.range.through;
    range["state"] = r.state;
    range["owner"] = r.owner;
    range["heartbeat_at"] = when(r.heartbeat_at);
    range["resume_after"] = r.resume_after;
    range["attempts"] = r.attempts;
    range["counts"] = counts_json(r.counts);
    range["error"] = r.error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.error);
    j["ranges"].push_back(std::move(range));
  }
  j["counts"] = counts_json(total);
  return j;
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
  PassLedger* ledger = (*store)->pass_ledger();
  if (ledger == nullptr) {
    std::cerr << "s3reconcile: " << describe_store(config->store)
              << " keeps no shared passes (they need a PostgreSQL index)\n";
    return kExitUsage;
  }
  auto passes = ledger->recent_passes(flags.limit);
  if (!passes.ok()) {
    std::cerr << "s3reconcile: " << passes.status().to_string() << "\n";
    return kExitPassFailed;
  }
  if (flags.output == "json") {
    nlohmann::ordered_json out;
    out["passes"] = nlohmann::ordered_json::array();
    for (const auto& p : *passes) out["passes"].push_back(pass_json(p));
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  if (passes->empty()) std::cout << "no shared passes\n";
  for (const auto& p : *passes) print_text(p);
  return kExitOk;
}

}  // namespace s3reconcile::cli
