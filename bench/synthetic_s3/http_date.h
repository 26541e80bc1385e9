// Timestamps in the two forms S3 uses: ISO 8601 in XML bodies, RFC 1123 in
// the Last-Modified header. Always UTC, independent of locale and TZ.
#pragma once

#include <string>
#include <string_view>

#include "s3reconcile/entry.h"  // Clock

namespace s3r_synthetic {

// "2026-01-01T00:00:00.000Z"
std::string iso8601(s3reconcile::Clock::time_point when);
// "Thu, 01 Jan 2026 00:00:00 GMT"; the input is an iso8601() string.
std::string rfc1123_from_iso8601(std::string_view iso);

}  // namespace s3r_synthetic
