#include "cli/passes_view.h"

#include <algorithm>

#include "cli/pass_json.h"
#include "s3reconcile/time_format.h"

namespace s3reconcile::cli {
namespace {

// The rows a completed pass left in the index over its paths: those it
// scanned, plus what it imported, less what it removed (a dry run changed
// nothing).
std::uint64_t rows_after(const PassRecord& r) {
  if (r.dry_run) return r.counts.rows;
  return r.counts.rows + r.counts.imported - std::min(r.counts.removed, r.counts.rows + r.counts.imported);
}

}  // namespace

nlohmann::ordered_json passes_view(const config::Config& config, const PassBoard& board, IndexConnectionCache& index,
                                   const std::string& instance, std::size_t limit) {
  nlohmann::ordered_json view;
  view["instance"] = instance;
  view["generated_at"] = iso8601_utc_micros(Clock::now());
  view["index_error"] = nullptr;
  auto store = index.borrow(config.store);
  PassRecords* records = store.ok() ? (*store)->pass_records() : nullptr;
  PassLedger* ledger = store.ok() ? (*store)->pass_ledger() : nullptr;
  if (!store.ok()) view["index_error"] = store.status().to_string();

  std::vector<PassState> shared;
  if (ledger != nullptr) {
    auto recent = ledger->recent_passes(limit);
    if (recent.ok()) shared = std::move(*recent);
    if (!recent.ok()) {
      view["index_error"] = recent.status().to_string();
      store->failed();
    }
  }
  const std::vector<BoardPass> in_flight = board.in_flight();

  view["backends"] = nlohmann::ordered_json::array();
  for (const auto& backend : config.backends) {
    nlohmann::ordered_json b;
    b["name"] = backend.name;
    std::vector<PassRecord> recent;
    if (records != nullptr) {
      auto got = records->recent(backend.name, limit);
      if (got.ok()) recent = std::move(*got);
      if (!got.ok()) {
        view["index_error"] = got.status().to_string();
        store->failed();
      }
    }
    b["in_flight"] = nlohmann::ordered_json::array();
    for (const auto& pass : in_flight) {
      if (pass.backend != backend.name) continue;
      nlohmann::ordered_json p = board_pass_json(pass);
      auto done = std::find_if(recent.begin(), recent.end(), [&](const PassRecord& r) {
        return r.outcome == "ok" && r.paths == pass.paths && r.pass_id != pass.pass_id;
      });
      p["expected_rows"] = done != recent.end() ? nlohmann::ordered_json(rows_after(*done)) : nullptr;
      b["in_flight"].push_back(std::move(p));
    }
    b["recent"] = nlohmann::ordered_json::array();
    for (const auto& r : recent) {
      nlohmann::ordered_json record = record_json(r);
      // A pass of this instance still running: its counts so far, not the
      // zeros recorded at its start.
      for (const auto& pass : in_flight) {
        if (pass.pass_id == r.pass_id && !r.finished_at) record["counts"] = counts_json(pass.counts);
      }
      b["recent"].push_back(std::move(record));
    }
    b["shared"] = nlohmann::ordered_json::array();
    for (const auto& p : shared) {
      if (p.backend == backend.name) b["shared"].push_back(ledger_pass_json(p));
    }
    view["backends"].push_back(std::move(b));
  }
  view["runs"] = nlohmann::ordered_json::array();
  std::vector<BoardRun> runs = board.runs();
  std::reverse(runs.begin(), runs.end());
  if (runs.size() > limit) runs.resize(limit);
  for (const auto& run : runs) view["runs"].push_back(board_run_json(run));
  return view;
}

}  // namespace s3reconcile::cli
