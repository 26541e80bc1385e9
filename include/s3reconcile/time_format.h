// Timestamps as the stores write them.
#pragma once

#include <string>
#include <string_view>

#include "s3reconcile/entry.h"
#include "s3reconcile/status.h"

namespace s3reconcile {

// "YYYY-MM-DDTHH:MM:SS.ffffffZ": UTC, microseconds, fixed width, so that text
// order is time order (SQLite's created_at) and PostgreSQL reads it as a
// timestamptz without loss.
std::string iso8601_utc_micros(Clock::time_point t);

// The time such text names; INVALID_ARGUMENT for text of another shape.
StatusOr<Clock::time_point> parse_iso8601_utc_micros(std::string_view text);

}  // namespace s3reconcile
