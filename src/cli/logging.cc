#include "cli/logging.h"

#include "cli/json_bytes.h"
#include "s3reconcile/key_order.h"

#include <cctype>
#include <ctime>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace s3reconcile::cli {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads a value at `i`: bare up to the next space, or quoted with \" \\ \xNN.
std::string read_value(std::string_view s, std::size_t& i) {
  std::string out;
  if (i < s.size() && s[i] == '"') {
    ++i;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size()) {
        if (s[i + 1] == 'x' && i + 3 < s.size() && hex_value(s[i + 2]) >= 0 && hex_value(s[i + 3]) >= 0) {
          out += static_cast<char>(hex_value(s[i + 2]) * 16 + hex_value(s[i + 3]));
          i += 4;
          continue;
        }
        out += s[i + 1];
        i += 2;
        continue;
      }
      out += s[i++];
    }
    if (i < s.size()) ++i;  // closing quote
    return out;
  }
  while (i < s.size() && s[i] != ' ') out += s[i++];
  return out;
}

bool is_key_start(std::string_view s, std::size_t i) {
  std::size_t j = i;
  while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
  return j > i && j < s.size() && s[j] == '=';
}

bool all_digits(const std::string& v) {
  return !v.empty() && v.size() < 19 && v.find_first_not_of("0123456789") == std::string::npos;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const LogLine line = parse_logfmt(std::string_view(msg.payload.data(), msg.payload.size()));
    nlohmann::ordered_json j;
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(millis / 1000);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    j["time"] = fmt::format("{}.{:03}Z", stamp, millis % 1000);
    j["level"] =
        std::string(spdlog::level::to_string_view(msg.level).data(), spdlog::level::to_string_view(msg.level).size());
    j["event"] = line.event;
    for (const auto& [k, v] : line.fields) {
      if (all_digits(v))
        j[k] = std::stoll(v);
      else
        put_bytes(j, k, v);
    }
    const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

std::string quote_for_log(std::string_view value) { return quote_key(value); }

LogLine parse_logfmt(std::string_view s) {
  LogLine line;
  std::size_t i = 0;
  while (i < s.size() && !is_key_start(s, i)) {
    const std::size_t next = s.find(' ', i);
    const std::size_t end = next == std::string_view::npos ? s.size() : next;
    if (!line.event.empty()) line.event += ' ';
    line.event += s.substr(i, end - i);
    i = end == s.size() ? end : end + 1;
  }
  while (i < s.size()) {
    if (s[i] == ' ') {
      ++i;
      continue;
    }
    const std::size_t eq = s.find('=', i);
    if (eq == std::string_view::npos || !is_key_start(s, i)) {
      // Not key=value: keep the rest as text of the event.
      line.fields["text"] += std::string(s.substr(i));
      break;
    }
    std::string key(s.substr(i, eq - i));
    i = eq + 1;
    line.fields[key] = read_value(s, i);
  }
  return line;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& level, LogFormat format) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("s3reconcile", sink);
  if (format == LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_formatter(
        std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc));
  }
  logger->set_level(spdlog::level::from_str(level));
  // The library's own messages (a credential refresh) go the same way.
  spdlog::set_default_logger(logger);
  return logger;
}

}  // namespace s3reconcile::cli
