// The tool, as operators run it on a container platform, against the
// synthetic S3 endpoint handing out credentials that expire every two
// seconds and refusing expired ones (ExpiredToken) as S3 does: a pass of
// several seconds completes, refreshed more than twice, with no refused request.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "s3/http_client.h"
#include "support/child_process.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::ChildProcess;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(SyntheticCredentialRefresh, APassOutlivesItsContainerCredentials) {
  testing::TempDir dir;
  const int port = testing::unused_loopback_port();
  constexpr int kKeys = 20000;
  // 200 pages of 100 keys, 20 ms each: four seconds or more, two lifetimes.
  ChildProcess endpoint(
      {S3R_SYNTHETIC_S3, "--listen", fmt::format("127.0.0.1:{}", port), "--bucket", "bench", "--keys",
       std::to_string(kKeys), "--key-prefix", "vbk/", "--latency-ms", "20", "--session-ttl-ms", "2000"},
      (dir.path() / "endpoint.out").string(), (dir.path() / "endpoint.err").string());
  ASSERT_TRUE(endpoint.wait_for_output("listening on", std::chrono::seconds(30))) << endpoint.err();
  const std::string base = fmt::format("http://127.0.0.1:{}", port);
  std::ofstream(dir.path() / "config.yaml")
      << "store:\n  sqlite: " << (dir.path() / "index.db").string() << "\nbuckets: [vbk]\nbackends:\n"
      << "  - name: synth\n    type: s3\n    endpoint: " << base << "\n    addressing: path\n    bucket: bench\n"
      << "    page_size: 100\n    max_attempts: 1\n    credentials: {source: container}\n";
  // Only the container source may answer: no keys, profiles or IMDS around.
  ChildProcess tool({"/usr/bin/env", "-i", "HOME=" + dir.str(), "AWS_EC2_METADATA_DISABLED=true",
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI=" + base + "/_credentials", S3R_BINARY, "check", "--config",
                     (dir.path() / "config.yaml").string(), "--output", "json", "--log-level", "debug"},
                    (dir.path() / "tool.out").string(), (dir.path() / "tool.err").string());
  const int exit_code = tool.wait();
  const std::string out = read_file(dir.path() / "tool.out"), err = read_file(dir.path() / "tool.err");
  EXPECT_EQ(exit_code, 3) << out << err;  // drift: the index is empty
  const auto result = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(result.is_object()) << out << err;
  EXPECT_EQ(result["passes"][0]["listed"], kKeys) << out;
  EXPECT_EQ(result["passes"][0]["status"], "ok") << out;

  std::size_t refreshes = 0;
  for (std::size_t at = err.find("credentials refreshed"); at != std::string::npos;
       at = err.find("credentials refreshed", at + 1)) {
    ++refreshes;
  }
  EXPECT_GE(refreshes, 2u) << err;
  s3::HttpClient client(s3::HttpOptions{});
  auto stats = client.perform("GET", base + "/_stats", {}, {});
  ASSERT_TRUE(stats.ok());
  const auto counted = nlohmann::json::parse(stats->body);
  EXPECT_EQ(counted["refused"], 0) << "a request was signed with expired credentials:\n" << err;
  EXPECT_GE(counted["requests"].get<int>(), 200);
}

}  // namespace
}  // namespace s3reconcile
