#include "options.h"

#include <charconv>

#include "key_space.h"

namespace s3r_synthetic {

const char* const kUsage =
    "usage: s3r-synthetic-s3 --listen 127.0.0.1:PORT [--access-key K] [--secret-key S] [--region R]\n"
    "                        [--bucket NAME] [--keys N] [--key-prefix P] [--latency-ms L] [--threads T]\n"
    "                        [--session-ttl-ms MS]\n"
    "A synthetic S3 endpoint for benchmarks: bucket NAME holds N generated keys\n"
    "P + \"d\" + (i/10000, 5 digits) + \"/o\" + (i, 12 digits), i = 0..N-1, plus whatever clients PUT.\n"
    "With --session-ttl-ms, GET /_credentials issues temporary credentials (container-endpoint JSON) that\n"
    "expire after MS, and GET /_stats counts requests refused; both unsigned.\n"
    "Defaults: s3r-test-key, s3r-test-secret, us-east-1, bench, 0 keys, no prefix, 0 ms, 64 threads.\n";

namespace {

template <typename Int>
bool parse_number(const std::string& text, Int min, Int max, Int& out) {
  Int v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min || v > max) return false;
  out = v;
  return true;
}

}  // namespace

ParsedOptions parse_options(const std::vector<std::string>& args) {
  ParsedOptions result;
  Options o;
  bool listen_seen = false;
  const auto fail = [&](std::string message) {
    result.error = std::move(message);
    return result;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      result.help = true;
      return result;
    }
    if (i + 1 >= args.size())
      return fail(flag.starts_with("--") ? flag + " needs a value" : "unexpected argument " + flag);
    const std::string& value = args[++i];
    if (flag == "--listen") {
      // Loopback only: this endpoint accepts any client holding a test key.
      constexpr std::string_view kHost = "127.0.0.1:";
      if (!value.starts_with(kHost) || !parse_number(value.substr(kHost.size()), 0, 65535, o.port)) {
        return fail("--listen must be 127.0.0.1:PORT, not '" + value + "'");
      }
      listen_seen = true;
    } else if (flag == "--access-key") {
      o.access_key = value;
    } else if (flag == "--secret-key") {
      o.secret_key = value;
    } else if (flag == "--region") {
      o.region = value;
    } else if (flag == "--bucket") {
      o.bucket = value;
    } else if (flag == "--keys") {
      if (!parse_number<std::uint64_t>(value, 0, KeySpace::kMaxKeys, o.keys)) {
        return fail("--keys must be 0.." + std::to_string(KeySpace::kMaxKeys) + ", not '" + value + "'");
      }
    } else if (flag == "--key-prefix") {
      o.key_prefix = value;
    } else if (flag == "--latency-ms") {
      if (!parse_number(value, 0, 3'600'000, o.latency_ms))
        return fail("--latency-ms must be 0..3600000, not '" + value + "'");
    } else if (flag == "--session-ttl-ms") {
      if (!parse_number(value, 1, 86'400'000, o.session_ttl_ms)) {
        return fail("--session-ttl-ms must be 1..86400000, not '" + value + "'");
      }
    } else if (flag == "--threads") {
      if (!parse_number(value, 1, 4096, o.threads)) return fail("--threads must be 1..4096, not '" + value + "'");
    } else {
      return fail("unknown option " + flag);
    }
  }
  if (!listen_seen) return fail("--listen 127.0.0.1:PORT is required");
  if (o.access_key.empty() || o.secret_key.empty() || o.region.empty() || o.bucket.empty()) {
    return fail("access key, secret key, region and bucket must not be empty");
  }
  result.options = std::move(o);
  return result;
}

}  // namespace s3r_synthetic
