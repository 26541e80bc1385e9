// Logs on stderr: the engine writes logfmt-style lines ("removed
// backend=disk-1 key=\"photos/a\""); text keeps them as they are, json turns
// each into one JSON object with the fields as members.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace s3reconcile::cli {

enum class LogFormat { kText, kJson };

// A logger named "s3reconcile" writing to stderr at `level` (trace, debug,
// info, warn, error, off) in `format`.
std::shared_ptr<spdlog::logger> make_logger(const std::string& level, LogFormat format);

// A value quoted for a logfmt field (as the engine quotes keys).
std::string quote_for_log(std::string_view value);

// Splits a logfmt message into its leading words (the event) and its
// key=value fields, undoing quote_key's escapes in quoted values.
struct LogLine {
  std::string event;
  std::map<std::string, std::string> fields;
};
LogLine parse_logfmt(std::string_view message);

}  // namespace s3reconcile::cli
