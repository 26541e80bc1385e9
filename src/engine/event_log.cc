#include "s3reconcile/event_log.h"

#include <algorithm>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "s3reconcile/key_order.h"
#include "s3reconcile/mutex.h"

namespace s3reconcile {
namespace {

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::err;
}

// A plain word needs no quotes: it cannot hold a space, a quote or '='.
bool bare(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/' || c == ':' || c == '+' || c == ',')) {
      return false;
    }
  }
  return true;
}

class SpdlogTextSink final : public LogSink {
 public:
  explicit SpdlogTextSink(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}
  bool enabled(LogLevel level) const override { return logger_->should_log(to_spdlog(level)); }
  void write(LogLevel level, std::string_view event, std::span<const LogField> fields) override {
    if (!enabled(level)) return;
    logger_->log(to_spdlog(level), "{}", render_text(event, fields));
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

std::shared_ptr<LogSink> stderr_sink() {
  static const auto sink = std::make_shared<SpdlogTextSink>(
      std::make_shared<spdlog::logger>("s3reconcile", std::make_shared<spdlog::sinks::stderr_sink_mt>()));
  return sink;
}

Mutex process_log_mu;
EventLog& process_log_slot() S3R_REQUIRES(process_log_mu) {
  static EventLog log;
  return log;
}

}  // namespace

EventLog::EventLog() : sink_(stderr_sink()) {}
EventLog::EventLog(std::shared_ptr<LogSink> sink) : sink_(std::move(sink)) {}
EventLog::EventLog(std::shared_ptr<spdlog::logger> logger)
    : sink_(logger ? std::make_shared<SpdlogTextSink>(std::move(logger)) : stderr_sink()) {}

EventLog EventLog::with(std::initializer_list<LogField> context) const {
  EventLog out = *this;
  out.context_.insert(out.context_.end(), context.begin(), context.end());
  return out;
}

void EventLog::write(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) const {
  if (!sink_->enabled(level)) return;
  if (context_.empty()) return sink_->write(level, event, std::span<const LogField>(fields.begin(), fields.size()));
  // An event's own field overrides the context's of the same name (a
  // removal's bucket is its key's, whatever bucket the pass covers).
  std::vector<LogField> all;
  all.reserve(context_.size() + fields.size());
  for (const LogField& c : context_) {
    const bool overridden =
        std::any_of(fields.begin(), fields.end(), [&](const LogField& f) { return f.name == c.name; });
    if (!overridden) all.push_back(c);
  }
  all.insert(all.end(), fields.begin(), fields.end());
  sink_->write(level, event, all);
}

std::string render_text(std::string_view event, std::span<const LogField> fields) {
  std::string out(event);
  for (const LogField& f : fields) {
    out += ' ';
    out += f.name;
    out += '=';
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, KeyText>) {
            out += quote_key(v.bytes);
          } else if constexpr (std::is_same_v<T, std::string>) {
            out += bare(v) ? v : quote_key(v);
          } else if constexpr (std::is_same_v<T, bool>) {
            out += v ? "true" : "false";
          } else if constexpr (std::is_same_v<T, double>) {
            out += fmt::format("{:.1f}", v);
          } else {
            out += std::to_string(v);
          }
        },
        f.value);
  }
  return out;
}

EventLog process_log() {
  MutexLock lock(process_log_mu);
  return process_log_slot();
}

void set_process_log(EventLog log) {
  MutexLock lock(process_log_mu);
  process_log_slot() = std::move(log);
}

}  // namespace s3reconcile
