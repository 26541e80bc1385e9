// The listing floor of a pass: walking the bucket with the product's own
// lister (S3Backend: ListObjectsV2 pages on one keep-alive connection, XML
// parsed), doing nothing with the keys but count them.
#include <cstdio>
#include <stop_token>

#include "commands.h"
#include "common.h"

namespace s3r_bench {

int list_command(const Args& args) {
  auto backend = open_s3(args);
  const bool print = args.num("print-keys", 0) != 0;
  std::uint64_t keys = 0, pages = 0;
  Stopwatch clock;
  // As a pass lists (one page after another on its listing thread), unless
  // --read-ahead 1 asks for the next page while this one is parsed.
  s3reconcile::ListRequest request{args.str("prefix", ""), ""};
  request.read_ahead = args.num("read-ahead", 0) != 0;
  s3reconcile::Status listed = backend->list(
      request,
      [&](std::vector<s3reconcile::ListedObject>& page, bool) {
        keys += page.size();
        ++pages;
        if (print) {
          for (const auto& o : page) std::fprintf(stderr, "%s\n", o.key.c_str());
        }
        return true;
      },
      std::stop_token{});
  const double seconds = clock.seconds();
  check(listed, "listing");
  std::printf("keys=%llu pages=%llu seconds=%.3f keys_per_s=%.0f peak_rss_kib=%ld\n",
              static_cast<unsigned long long>(keys), static_cast<unsigned long long>(pages), seconds,
              seconds > 0 ? keys / seconds : 0.0, peak_rss_kib());
  return 0;
}

}  // namespace s3r_bench
