// Renders pass results for people (a table) and programs (JSON).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "s3reconcile/result.h"

namespace s3reconcile::cli {

// One pass as the JSON object of SPEC section 4 (plus the extra counters).
nlohmann::ordered_json pass_json(const Result& result);

// {"status": "ok"|"error", "dry_run": .., "passes": [...]}.
nlohmann::ordered_json run_json(const std::vector<Result>& results, bool dry_run, const Status& setup);

// A summary table: a line per pass (the backend's totals), a line per
// virtual bucket under it, then a line per failure.
std::string run_text(const std::vector<Result>& results, bool dry_run, const Status& setup);

// Serializes JSON on one line; invalid UTF-8 in keys is replaced, not thrown on.
std::string dump(const nlohmann::ordered_json& j);

}  // namespace s3reconcile::cli
