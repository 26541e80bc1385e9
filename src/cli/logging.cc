#include "cli/logging.h"

#include <chrono>
#include <cstdio>
#include <memory>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/json_bytes.h"
#include "s3reconcile/mutex.h"

namespace s3reconcile::cli {
namespace {

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "error";
}

// trace..error, or off (above error): the least level written.
int threshold(const std::string& level) {
  static constexpr std::string_view kNames[] = {"trace", "debug", "info", "warn", "error"};
  for (int i = 0; i < 5; ++i) {
    if (level == kNames[i]) return i;
  }
  return 5;  // off
}

std::string now_utc() {
  const auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto seconds = std::chrono::floor<std::chrono::seconds>(now);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", seconds, (now - seconds).count());
}

class StderrSink final : public LogSink {
 public:
  StderrSink(int threshold, LogFormat format) : threshold_(threshold), format_(format) {}
  bool enabled(LogLevel level) const override { return static_cast<int>(level) >= threshold_; }
  void write(LogLevel level, std::string_view event, std::span<const LogField> fields) override {
    if (!enabled(level)) return;
    const std::string time = now_utc();
    if (format_ == LogFormat::kJson) {
      Stderr::write_line(render_json(time, level, event, fields));
    } else {
      Stderr::write_line(fmt::format("{} {} {}", time, level_name(level), render_text(event, fields)));
    }
  }

 private:
  const int threshold_;
  const LogFormat format_;
};

Mutex stderr_mu;
std::string status_line S3R_GUARDED_BY(stderr_mu);

}  // namespace

std::string render_json(std::string_view time, LogLevel level, std::string_view event,
                        std::span<const LogField> fields) {
  nlohmann::ordered_json j;
  j["time"] = time;
  j["level"] = level_name(level);
  put_bytes(j, "event", event);
  for (const LogField& f : fields) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, KeyText>) {
            put_bytes(j, f.name, v.bytes);
          } else if constexpr (std::is_same_v<T, std::string>) {
            put_bytes(j, f.name, v);
          } else {
            j[f.name] = v;
          }
        },
        f.value);
  }
  return j.dump();
}

void Stderr::write_line(std::string_view line) {
  MutexLock lock(stderr_mu);
  std::string out;
  if (!status_line.empty()) out += "\r\033[K";
  out += line;
  out += '\n';
  out += status_line;
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

void Stderr::set_status(std::string_view status) {
  MutexLock lock(stderr_mu);
  status_line = status;
  const std::string out = "\r\033[K" + status_line;
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

EventLog make_logger(const std::string& level, LogFormat format) {
  EventLog log(std::make_shared<StderrSink>(threshold(level), format));
  set_process_log(log);
  return log;
}

}  // namespace s3reconcile::cli
