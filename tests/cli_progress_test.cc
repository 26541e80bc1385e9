// Progress as operators see it, on a pass of several seconds (the synthetic
// S3 endpoint with latency): log lines every --progress-interval when
// stderr is a pipe (cron, journald), and on a pseudo-terminal a live line
// naming backend and bucket that no log line is ever glued onto.
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/child_process.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::ChildProcess;

constexpr int kKeys = 3000;  // 30 pages of 100 at 100 ms: three seconds and more

class CliProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int port = testing::unused_loopback_port();
    endpoint_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{S3R_SYNTHETIC_S3, "--listen", fmt::format("127.0.0.1:{}", port), "--bucket", "bench",
                                 "--keys", std::to_string(kKeys), "--key-prefix", "vbk/", "--latency-ms", "100",
                                 "--access-key", "AKIDPROGRESS", "--secret-key", "progress-secret"},
        (dir_.path() / "endpoint.out").string(), (dir_.path() / "endpoint.err").string());
    ASSERT_TRUE(endpoint_->wait_for_output("listening on", std::chrono::seconds(30))) << endpoint_->err();
    std::ofstream(dir_.path() / "config.yaml")
        << "store:\n  sqlite: " << (dir_.path() / "index.db").string() << "\nbuckets: [vbk]\nbackends:\n"
        << "  - name: synth\n    type: s3\n    endpoint: http://127.0.0.1:" << port
        << "\n    addressing: path\n    bucket: bench\n    page_size: 100\n"
        << "    credentials: {access_key_env: S3R_PROGRESS_KEY, secret_key_env: S3R_PROGRESS_SECRET}\n";
    ::setenv("S3R_PROGRESS_KEY", "AKIDPROGRESS", 1);
    ::setenv("S3R_PROGRESS_SECRET", "progress-secret", 1);
  }

  std::string tool_command(const std::string& args) const {
    return fmt::format("{} check --config {} {}", S3R_BINARY, (dir_.path() / "config.yaml").string(), args);
  }

  // Runs the tool with stderr a pipe; returns what came through it.
  std::string stderr_through_a_pipe(const std::string& args) const {
    ChildProcess tool({"/bin/sh", "-c", tool_command(args) + " 2>&1 >/dev/null | cat"},
                      (dir_.path() / "piped.out").string(), (dir_.path() / "piped.err").string());
    EXPECT_EQ(tool.wait(), 0);
    return tool.out();
  }

  testing::TempDir dir_;
  std::unique_ptr<ChildProcess> endpoint_;
};

TEST_F(CliProgressTest, OffATerminalAPassLogsItsProgressEveryInterval) {
  const std::string err = stderr_through_a_pipe("--progress-interval 1s --log-format json");
  std::istringstream lines(err);
  std::vector<nlohmann::json> progress;
  std::string pass_id;
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not a JSON line: " << line;
    EXPECT_EQ(line.find("keys/s)"), std::string::npos) << "a live line off a terminal: " << line;
    if (j["event"] == "pass progress") progress.push_back(j);
    if (j["event"] == "pass done") pass_id = j["pass_id"];
  }
  ASSERT_GE(progress.size(), 2u) << err;
  std::uint64_t last_listed = 0;
  for (const auto& p : progress) {
    EXPECT_EQ(p["pass_id"], pass_id);
    EXPECT_EQ(p["backend"], "synth");
    EXPECT_EQ(p["bucket"], "");
    ASSERT_TRUE(p["listed"].is_number_unsigned()) << p.dump();
    EXPECT_TRUE(p["rows"].is_number() && p["imported"].is_number() && p["removed"].is_number()) << p.dump();
    EXPECT_TRUE(p["keys_per_second"].is_number() && p["elapsed_s"].is_number()) << p.dump();
    EXPECT_GE(p["listed"].get<std::uint64_t>(), last_listed);
    EXPECT_LE(p["listed"].get<std::uint64_t>(), static_cast<std::uint64_t>(kKeys));
    last_listed = p["listed"];
  }
  EXPECT_GT(last_listed, 0u) << err;

  // 0 turns the lines off.
  EXPECT_EQ(stderr_through_a_pipe("--progress-interval 0").find("pass progress"), std::string::npos);
}

TEST_F(CliProgressTest, OnATerminalTheLiveLineNamesTheBucketAndNeverMixesWithLogLines) {
  int master = -1;
  const pid_t child = ::forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string command = tool_command("--bucket vbk --progress-interval 0");
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string screen;
  char buf[4096];
  for (ssize_t n; (n = ::read(master, buf, sizeof buf)) > 0;) screen.append(buf, static_cast<std::size_t>(n));
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(master);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3) << screen;  // drift: the index is empty

  EXPECT_NE(screen.find("\r\033[Ksynth vbk: listed "), std::string::npos) << screen;
  // Every log line starts a line of its own: after the last erase on it,
  // the text is the timestamp, never a live line's text.
  int log_lines = 0;
  std::istringstream lines(screen);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" info ") == std::string::npos) continue;
    ++log_lines;
    const std::size_t erase = line.rfind("\033[K");
    const std::string shown = erase == std::string::npos ? line : line.substr(erase + 3);
    EXPECT_TRUE(shown.starts_with("20")) << "a log line glued onto the live line: " << line;
  }
  EXPECT_GE(log_lines, 3) << screen;  // pass started, bucket done, pass done
}

}  // namespace
}  // namespace s3reconcile
