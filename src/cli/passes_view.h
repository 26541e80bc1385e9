// The passes serve shows, as one JSON document: GET /v1/passes answers it
// and the status page (GET /) renders it, so the two always agree.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/pass_board.h"
#include "config/config.h"
#include "s3reconcile/index_store.h"

namespace s3reconcile::cli {

// {"instance", "generated_at", "index_error",
//  "backends": [{"name",
//                "in_flight": [board pass + "expected_rows"],  // this instance's
//                "recent": [pass records, newest first],       // every instance's
//                "shared": [ledger passes with their ranges]}],
//  "runs": [this instance's runs, newest first]}
// "expected_rows" is the rows the newest completed pass over the same paths
// left in the index (scanned + imported - removed; null when no pass
// completed): the progress bar's end, without counting a table of a
// billion rows.
nlohmann::ordered_json passes_view(const config::Config& config, const PassBoard& board,
                                   const std::function<StatusOr<std::unique_ptr<IndexStore>>()>& open_index,
                                   const std::string& instance, std::size_t limit);

}  // namespace s3reconcile::cli
