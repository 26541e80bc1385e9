// The passes serve shows, as one JSON document: GET /v1/passes answers it
// and the status page (GET /) renders it, so the two always agree.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/index_connection_cache.h"
#include "cli/pass_board.h"
#include "config/config.h"

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
// billion rows. The index is read on a connection borrowed from `index`.
nlohmann::ordered_json passes_view(const config::Config& config, const PassBoard& board, IndexConnectionCache& index,
                                   const std::string& instance, std::size_t limit);

}  // namespace s3reconcile::cli
