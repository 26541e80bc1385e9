// The status page of `serve` (GET /): plain HTML and CSS, no script, no
// external asset, refreshing itself; rendered from passes_view().
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace s3reconcile::cli {

// Per backend: the pass in flight with a progress bar (rows scanned against
// the rows its last completed pass scanned), its counts, the ranges of
// shared passes, and the latest passes with their counts. Each number sits
// in an element with a data-field attribute inside a row with data-pass, so
// that what the page shows can be read back and checked.
std::string render_status_page(const nlohmann::ordered_json& view, int refresh_seconds);

}  // namespace s3reconcile::cli
