// Timestamps as the stores write them.
#pragma once

#include <string>

#include "s3reconcile/entry.h"

namespace s3reconcile {

// "YYYY-MM-DDTHH:MM:SS.ffffffZ": UTC, microseconds, fixed width, so that text
// order is time order (SQLite's created_at) and PostgreSQL reads it as a
// timestamptz without loss.
std::string iso8601_utc_micros(Clock::time_point t);

}  // namespace s3reconcile
