// `s3reconcile status`: the shared passes recorded in the index.
#pragma once

#include <cstddef>
#include <string>

namespace s3reconcile::cli {

struct StatusFlags {
  std::string config_file;
  std::string output = "text";
  std::size_t limit = 10;
};

// Prints the latest shared passes with their ranges; exit 0, 1 when the
// index cannot be read, 2 on a bad config or an index without a ledger.
int status_command(const StatusFlags& flags);

}  // namespace s3reconcile::cli
