// The index floor of a pass: paging every row of one backend under one
// virtual bucket's prefix from PostgreSQL with the product's DBCursorStream (keyset
// paging, one bounded query per page), doing nothing with the rows.
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "s3reconcile/db_cursor_stream.h"

namespace s3r_bench {

int index_command(const Args& args) {
  auto store = open_index(args);
  const std::string bucket = args.required("bucket");
  s3reconcile::DBCursorOptions options;
  options.backend = args.required("backend");
  options.prefix = bucket + "/";
  options.page_size = static_cast<std::size_t>(args.num("page-size", 1000));
  s3reconcile::DBCursorStream rows(*store, std::move(options));
  std::uint64_t count = 0;
  Stopwatch clock;
  for (;;) {
    auto batch = rows.next_batch();
    check(batch.status(), "paging the index");
    if (batch->empty()) break;
    count += batch->size();
  }
  const double seconds = clock.seconds();
  std::printf("rows=%llu pages=%llu seconds=%.3f rows_per_s=%.0f peak_rss_kib=%ld\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(rows.pages_fetched()), seconds,
              seconds > 0 ? count / seconds : 0.0, peak_rss_kib());
  return 0;
}

}  // namespace s3r_bench
