// Fills a real S3 server (radosgw) with N small objects named as the
// synthetic endpoint names its keys, PUT from several threads (one
// keep-alive connection each), so that the same listing can be timed with
// the product, rclone and awscli.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "common.h"
#include "s3/s3_test_client.h"

namespace s3r_bench {

int load_command(const Args& args) {
  namespace t = s3reconcile::testing;
  auto env = [](const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return std::string(v ? v : "");
  };
  t::S3TestServer server{args.required("endpoint"), env(args.str("access-key-env", "S3R_TEST_ACCESS_KEY")),
                         env(args.str("secret-key-env", "S3R_TEST_SECRET_KEY")), args.str("region", "us-east-1"),
                         "bench"};
  const std::string bucket = args.required("bucket");
  const std::string prefix = args.str("prefix", "vb/");
  const std::int64_t count = args.num("count", 1000);
  const int threads = static_cast<int>(args.num("threads", 32));

  t::S3TestClient setup(server);
  const long created = setup.create_bucket(bucket);
  if (created != 200 && created != 409) {
    throw std::runtime_error("create bucket: HTTP " + std::to_string(created) + " " + setup.last_body());
  }

  std::atomic<std::int64_t> next{0}, failed{0};
  Stopwatch clock;
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&] {
      t::S3TestClient client(server);
      for (std::int64_t i = next++; i < count; i = next++) {
        long status = 0;
        for (int attempt = 0; attempt < 5 && status != 200; ++attempt) {
          status = client.put(bucket, synthetic_key(prefix, i), "x");
        }
        if (status != 200) ++failed;
      }
    });
  }
  for (auto& w : workers) w.join();
  const double seconds = clock.seconds();
  std::printf("objects=%lld failed=%lld seconds=%.3f puts_per_s=%.0f\n", static_cast<long long>(count),
              static_cast<long long>(failed.load()), seconds, seconds > 0 ? count / seconds : 0.0);
  return failed == 0 ? 0 : 1;
}

}  // namespace s3r_bench
