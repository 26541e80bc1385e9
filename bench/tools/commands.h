// The subcommands of s3r-bench. Each prints one line of "name=value" pairs
// on stdout (bench/run reads them) and returns the exit code.
#pragma once

#include "args.h"

namespace s3r_bench {

int list_command(const Args& args);     // the product's S3 lister alone
int index_command(const Args& args);    // the product's index cursor alone
int hashset_command(const Args& args);  // the upstream design: everything in hash sets
int import_command(const Args& args);   // batched vs one statement per row
int load_command(const Args& args);     // PUT objects into a real S3 server
int head_command(const Args& args);     // CPU per HeadObject: the product's client, plain sockets

}  // namespace s3r_bench
