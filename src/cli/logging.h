// Logs on stderr, built from the engine's structured events
// (s3reconcile/event_log.h): text lines, or one JSON object per line whose
// members keep their types. stderr is shared with the live progress line
// on a terminal (cli/progress.h): a log line never lands inside it.
#pragma once

#include <string>
#include <string_view>

#include "s3reconcile/event_log.h"

namespace s3reconcile::cli {

enum class LogFormat { kText, kJson };

// The log at `level` (trace, debug, info, warn, error, off) in `format`,
// also made the process log (library code outside a pass).
EventLog make_logger(const std::string& level, LogFormat format);

// One JSON log line (no newline): time, level, event, then the fields, with
// keys that are not UTF-8 written as json_bytes.h says.
std::string render_json(std::string_view time, LogLevel level, std::string_view event,
                        std::span<const LogField> fields);

// stderr as log lines and a status line share it. Thread-safe.
class Stderr {
 public:
  // Writes `line` and a newline, first erasing the status line (on a
  // terminal), then drawing it again below.
  static void write_line(std::string_view line);
  // Replaces the status line ("" erases it). Only call on a terminal.
  static void set_status(std::string_view status);
};

}  // namespace s3reconcile::cli
