// Passes as JSON, one shape wherever they are shown: `status --output json`,
// serve's /v1/passes and its status page (which renders the same objects).
#pragma once

#include <nlohmann/json.hpp>

#include "cli/pass_board.h"
#include "s3reconcile/pass_ledger.h"
#include "s3reconcile/pass_records.h"

namespace s3reconcile::cli {

// {"listed":6,"rows":5,...}: every counter, by name.
nlohmann::ordered_json counts_json(const PassCounts& counts);
// A pass as the index recorded it.
nlohmann::ordered_json record_json(const PassRecord& record);
// A shared pass as its ledger holds it, with its ranges.
nlohmann::ordered_json ledger_pass_json(const PassState& pass);
// A pass serve runs or ran, with its counts so far.
nlohmann::ordered_json board_pass_json(const BoardPass& pass);
// A run of serve (a round, or a pass asked for), with its passes and their
// summed counts.
nlohmann::ordered_json board_run_json(const BoardRun& run);

}  // namespace s3reconcile::cli
