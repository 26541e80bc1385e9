#include "cli/health.h"

#include <fmt/format.h>

#include "cli/stores.h"
#include "s3reconcile/pass_records.h"
#include "s3reconcile/time_format.h"

namespace s3reconcile::cli {
namespace {

// Enough to find the newest finished pass behind a few running or dry ones.
constexpr std::size_t kRecordsLooked = 50;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

HealthReport check_health(const config::Config& config, IndexConnectionCache& index_connections,
                          Clock::time_point serve_started, Clock::time_point now) {
  HealthReport report;
  nlohmann::ordered_json problems = nlohmann::ordered_json::array();
  auto problem = [&](std::string what) {
    report.healthy = false;
    problems.push_back(std::move(what));
  };
  const auto stale_after = config.serve.interval * config.serve.stale_after;

  nlohmann::ordered_json index;
  index["store"] = describe_store(config.store);
  auto store = index_connections.borrow(config.store);
  PassRecords* records = nullptr;
  if (!store.ok()) {
    problem("index: " + store.status().to_string());
    index["ok"] = false;
    index["error"] = store.status().to_string();
  } else {
    records = (*store)->pass_records();
    index["ok"] = true;
  }

  nlohmann::ordered_json backends = nlohmann::ordered_json::array();
  for (const auto& backend : config.backends) {
    nlohmann::ordered_json b;
    b["name"] = backend.name;
    std::string wrong;
    if (records != nullptr) {
      auto recent = records->recent(backend.name, kRecordsLooked);
      if (!recent.ok()) {
        wrong = "its pass records cannot be read: " + recent.status().to_string();
        index["ok"] = false;
        store->failed();
      } else {
        const PassRecord* last = nullptr;
        for (const auto& r : *recent) {  // newest first
          if (r.finished_at && !r.dry_run) {
            last = &r;
            break;
          }
        }
        if (last != nullptr) {
          b["last_pass_id"] = last->pass_id;
          b["last_outcome"] = last->outcome;
          b["last_finished_at"] = iso8601_utc_micros(*last->finished_at);
          b["age_seconds"] = seconds(now - *last->finished_at);
          if (last->outcome != "ok") {
            wrong = fmt::format("its last pass ({}) ended {}: {}", last->pass_id, last->outcome, last->error);
          } else if (now - *last->finished_at > stale_after) {
            wrong = fmt::format("its last pass ended {:.0f}s ago, more than {} intervals ({:.0f}s)",
                                seconds(now - *last->finished_at), config.serve.stale_after, seconds(stale_after));
          }
        } else if (now - serve_started > stale_after) {
          wrong = fmt::format("no pass has completed in {} intervals ({:.0f}s)", config.serve.stale_after,
                              seconds(stale_after));
        }
      }
    } else if (store.ok()) {
      wrong = "the index keeps no pass records";
    }
    b["ok"] = wrong.empty() && store.ok();
    b["problem"] = wrong.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(wrong);
    if (!wrong.empty()) problem(fmt::format("backend {}: {}", backend.name, wrong));
    backends.push_back(std::move(b));
  }
  report.body["status"] = report.healthy ? "ok" : "unhealthy";
  report.body["problems"] = std::move(problems);
  report.body["index"] = std::move(index);
  report.body["backends"] = std::move(backends);
  return report;
}

}  // namespace s3reconcile::cli
