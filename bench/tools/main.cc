// s3r-bench: the helper bench/run drives to measure one side of a pass at a
// time (the lister alone, the index cursor alone), the upstream hash-set
// design, batched imports, and to load objects into a real S3 server.
#include <cstdio>
#include <exception>
#include <string>

#include "commands.h"
#include "s3reconcile/allocator.h"

namespace {

constexpr const char* kUsage = R"(usage: s3r-bench COMMAND --flag value ...
  list    --endpoint URL --bucket B [--prefix P] [--region R] [--page-size N]
          [--print-keys 1] [--read-ahead 1]
                                list with the product's S3Backend alone, a page at a
                                time as a pass does (read-ahead: the next page asked
                                for while this one is parsed)
  index   --dsn DSN --backend NAME --bucket VB [--page-size N]
                                page the index with DBCursorStream alone
  hashset --endpoint URL --bucket B --dsn DSN --backend NAME --vbucket VB [--dry-run 1]
                                the upstream design: both sides into hash sets, diff, apply
  import  --dsn DSN --backend NAME --count N --mode batched|single [--batch-size N]
                                import N new rows into PostgreSQL
  load    --endpoint URL --bucket B --count N [--prefix P] [--threads T] [--skip-mod M --skip-rem R]
                                create bucket B and PUT N small objects named as the synthetic endpoint does
  head    --endpoint http://127.0.0.1:PORT --bucket B [--count N] [--batch K] [--client product|sockets]
                                N HEADs of absent keys, K at a time, with the product's probe_many or
                                pre-signed on K plain sockets (the floor); prints CPU per HEAD
S3 credentials come from $S3R_TEST_ACCESS_KEY and $S3R_TEST_SECRET_KEY (--access-key-env,
--secret-key-env name others). Each command prints one line of name=value pairs.
)";

}  // namespace

int main(int argc, char** argv) {
  // As s3reconcile does: the sides alone measured as they run in a pass.
  s3reconcile::tune_allocator_for_passes();
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string command = argv[1];
  try {
    const s3r_bench::Args args(argc, argv, 2);
    if (command == "list") return s3r_bench::list_command(args);
    if (command == "index") return s3r_bench::index_command(args);
    if (command == "hashset") return s3r_bench::hashset_command(args);
    if (command == "import") return s3r_bench::import_command(args);
    if (command == "load") return s3r_bench::load_command(args);
    if (command == "head") return s3r_bench::head_command(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "s3r-bench %s: %s\n", command.c_str(), e.what());
    return 1;
  }
  std::fputs(kUsage, stderr);
  return 2;
}
