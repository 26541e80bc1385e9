// `serve` run as operators run it: the real binary in a child process,
// talked to over HTTP on loopback, with the synthetic S3 endpoint (100 ms a
// page: a pass of seconds) as the backend where a slow pass is needed.
#pragma once

#include <sqlite3.h>
#include <strings.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "s3/http_client.h"
#include "support/child_process.h"
#include "support/sqlite_exec.h"
#include "temp_dir.h"

namespace s3reconcile::testing {

struct Reply {
  long status = 0;  // 0: nothing answered
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  std::string header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (strcasecmp(n.c_str(), name.c_str()) == 0) return v;
    }
    return "";
  }
};

// The value of the first sample of `series` (its name and labels exactly as
// exposed) in a Prometheus text body, if any.
inline std::optional<double> sample(const std::string& body, const std::string& series) {
  const std::string line_start = series + " ";
  for (std::size_t at = body.find(line_start); at != std::string::npos; at = body.find(line_start, at + 1)) {
    if (at == 0 || body[at - 1] == '\n') return std::stod(body.substr(at + line_start.size()));
  }
  return std::nullopt;
}

class ServeFixture : public ::testing::Test {
 protected:
  static constexpr int kKeys = 3000;  // 30 pages of 100: at 100 ms, three seconds and more

  // The synthetic endpoint, holding kKeys keys under vbk/, answering each
  // request after `latency_ms`.
  void start_endpoint(int latency_ms = 100) {
    endpoint_port_ = unused_loopback_port();
    endpoint_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{S3R_SYNTHETIC_S3, "--listen", fmt::format("127.0.0.1:{}", endpoint_port_), "--bucket",
                                 "bench", "--keys", std::to_string(kKeys), "--key-prefix", "vbk/", "--latency-ms",
                                 std::to_string(latency_ms), "--access-key", "AKIDSERVE", "--secret-key",
                                 "serve-secret"},
        (dir_.path() / "endpoint.out").string(), (dir_.path() / "endpoint.err").string());
    ASSERT_TRUE(endpoint_->wait_for_output("listening on", std::chrono::seconds(30))) << endpoint_->err();
    ::setenv("S3R_SERVE_KEY", "AKIDSERVE", 1);
    ::setenv("S3R_SERVE_SECRET", "serve-secret", 1);
  }

  // A backend entry for the synthetic endpoint (start_endpoint first).
  std::string synthetic_backend(const std::string& name = "synth") const {
    return fmt::format(
        "  - name: {}\n    type: s3\n    endpoint: http://127.0.0.1:{}\n    addressing: path\n    bucket: bench\n"
        "    page_size: 100\n    credentials: {{access_key_env: S3R_SERVE_KEY, secret_key_env: S3R_SERVE_SECRET}}\n",
        name, endpoint_port_);
  }

  std::string config_path() const { return (dir_.path() / "config.yaml").string(); }
  std::string index_path() const { return (dir_.path() / "index.db").string(); }

  // config.yaml: an SQLite index (unless `store` says otherwise), `buckets`,
  // the `backends` entries, and serve on port_ with `serve_extra` lines.
  void write_config(const std::string& backends, const std::string& serve_extra = "",
                    const std::string& buckets = "[vbk]", const std::string& store = "") {
    std::ofstream(config_path()) << "store:\n  sqlite: " << (store.empty() ? index_path() : store)
                                 << "\nbuckets: " << buckets << "\nbackends:\n"
                                 << backends << "serve:\n  listen: 127.0.0.1:" << port_ << "\n"
                                 << serve_extra;
  }

  // Starts serve on config.yaml and waits until it answers /livez.
  void start_serve(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {S3R_BINARY,        "serve", "--config", config_path(), "--progress-interval",
                                     progress_interval_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    serve_ = std::make_unique<ChildProcess>(argv, (dir_.path() / "serve.out").string(),
                                            (dir_.path() / "serve.err").string());
    for (int i = 0; i < 200; ++i) {
      if (call("GET", "/livez").status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "serve does not answer /livez:\n" << serve_->err();
  }

  Reply call(const std::string& method, const std::string& path, const std::vector<std::string>& headers = {},
             const std::string& body = "", std::chrono::milliseconds timeout = std::chrono::seconds(5)) const {
    s3::HttpClient client(s3::HttpOptions{std::chrono::milliseconds(1000), timeout, true, ""});
    auto r = client.perform(method, fmt::format("http://127.0.0.1:{}{}", port_, path), headers, {}, body);
    if (!r.ok()) return Reply{0, r.status().to_string(), {}};
    Reply reply{r->status, r->body, {}};
    for (const auto& [name, value] : r->headers) reply.headers.emplace_back(name, value);
    return reply;
  }

  std::string metrics() const { return call("GET", "/metrics").body; }

  // Polls /metrics until `series` reaches at least `value` (at most ~30 s).
  bool wait_for_metric(const std::string& series, double value) const {
    for (int i = 0; i < 300; ++i) {
      const auto v = sample(metrics(), series);
      if (v && *v >= value) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  // Index rows of `backend`, counted through a connection of the test's own.
  long long index_rows(const std::string& backend) const {
    sqlite3* db = nullptr;
    sqlite3_open(index_path().c_str(), &db);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM object_locations WHERE backend_name = ?", -1, &stmt, nullptr);
    sqlite3_bind_text(stmt, 1, backend.c_str(), -1, SQLITE_TRANSIENT);
    const long long n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }

  TempDir dir_;
  const int port_ = unused_loopback_port();
  int endpoint_port_ = 0;
  std::unique_ptr<ChildProcess> endpoint_;
  std::unique_ptr<ChildProcess> serve_;
  std::string progress_interval_ = "0";  // serve's --progress-interval
};

}  // namespace s3reconcile::testing
