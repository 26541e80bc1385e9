// The command line of s3r-synthetic-s3. Other engineers' scripts rely on it:
//   --listen 127.0.0.1:PORT [--access-key K] [--secret-key S] [--region R]
//   [--bucket NAME] [--keys N] [--key-prefix P] [--latency-ms L] [--threads T]
//   [--session-ttl-ms MS]
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace s3r_synthetic {

struct Options {
  int port = -1;  // 0: any free port (printed once listening)
  std::string access_key = "s3r-test-key";
  std::string secret_key = "s3r-test-secret";
  std::string region = "us-east-1";
  std::string bucket = "bench";
  std::uint64_t keys = 0;
  std::string key_prefix;
  int latency_ms = 0;
  int threads = 64;
  // > 0: GET /_credentials hands out temporary credentials living this long
  // (container-endpoint JSON), and requests signed with them are checked.
  int session_ttl_ms = 0;
};

extern const char* const kUsage;

// The options, or an error message saying which argument is wrong.
struct ParsedOptions {
  std::optional<Options> options;
  std::string error;
  bool help = false;
};
ParsedOptions parse_options(const std::vector<std::string>& args);  // without argv[0]

}  // namespace s3r_synthetic
