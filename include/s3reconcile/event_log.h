// Structured logs. An event is a name and typed fields; a sink renders it as
// a text line (`removed backend=disk-1 key="photos/a"`) or a JSON object in
// which numbers stay numbers, booleans booleans and keys their exact bytes.
// An EventLog carries context fields (a pass's pass_id, backend, bucket)
// that every event written through it repeats, so that the lines of one
// pass can be told apart from another's.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace spdlog {
class logger;
}

namespace s3reconcile {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };

// A key or path: quoted in text whatever it holds (so that a key cannot
// forge a field), and byte-exact in JSON.
struct KeyText {
  std::string bytes;
};

using LogValue = std::variant<std::string, KeyText, std::int64_t, std::uint64_t, double, bool>;

struct LogField {
  LogField(std::string n, std::string_view v) : name(std::move(n)), value(std::string(v)) {}
  LogField(std::string n, const char* v) : name(std::move(n)), value(std::string(v)) {}
  LogField(std::string n, const std::string& v) : name(std::move(n)), value(v) {}
  LogField(std::string n, KeyText v) : name(std::move(n)), value(std::move(v)) {}
  LogField(std::string n, bool v) : name(std::move(n)), value(v) {}
  LogField(std::string n, double v) : name(std::move(n)), value(v) {}
  template <std::signed_integral T>
  LogField(std::string n, T v) : name(std::move(n)), value(static_cast<std::int64_t>(v)) {}
  template <std::unsigned_integral T>
  requires(!std::same_as<T, bool>) LogField(std::string n, T v)
      : name(std::move(n)), value(static_cast<std::uint64_t>(v)) {}

  std::string name;
  LogValue value;
};

inline KeyText key_text(std::string_view key) { return KeyText{std::string(key)}; }

// Where events go. Implementations are thread-safe.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual bool enabled(LogLevel level) const = 0;
  // `fields`: the log's context first, then the event's own.
  virtual void write(LogLevel level, std::string_view event, std::span<const LogField> fields) = 0;
};

class EventLog {
 public:
  // Text lines on stderr at info and above: the library's default.
  EventLog();
  explicit EventLog(std::shared_ptr<LogSink> sink);
  // Text lines through an spdlog logger, at its level. Implicit, so that a
  // caller holding a logger can hand it where a log is wanted.
  EventLog(std::shared_ptr<spdlog::logger> logger);  // NOLINT(google-explicit-constructor)

  // The same sink; every event also carries `context`, before its own fields.
  EventLog with(std::initializer_list<LogField> context) const;

  // Callers check this before building the fields of a per-key event.
  bool enabled(LogLevel level) const { return sink_->enabled(level); }

  void write(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {}) const;
  void debug(std::string_view event, std::initializer_list<LogField> fields = {}) const {
    write(LogLevel::kDebug, event, fields);
  }
  void info(std::string_view event, std::initializer_list<LogField> fields = {}) const {
    write(LogLevel::kInfo, event, fields);
  }
  void warn(std::string_view event, std::initializer_list<LogField> fields = {}) const {
    write(LogLevel::kWarn, event, fields);
  }
  void error(std::string_view event, std::initializer_list<LogField> fields = {}) const {
    write(LogLevel::kError, event, fields);
  }

 private:
  std::shared_ptr<LogSink> sink_;
  std::vector<LogField> context_;
};

// `event name=value ...`: keys and strings needing it in double quotes
// (quote_key's escapes), numbers and booleans bare.
std::string render_text(std::string_view event, std::span<const LogField> fields);

// Where library code outside a pass logs (a credential refresh): the text
// default until a program sets its own.
EventLog process_log();
void set_process_log(EventLog log);

}  // namespace s3reconcile
