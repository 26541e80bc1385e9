// libFuzzer target for the config loader: any text either parses into a
// config or is refused with INVALID_ARGUMENT naming the file; nothing crashes
// or throws.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = s3reconcile::config::parse_config(text, "fuzz.yaml", "/base");
  if (!config.ok()) {
    if (config.status().code() != s3reconcile::StatusCode::kInvalidArgument) std::abort();
    if (config.status().message().rfind("fuzz.yaml", 0) != 0) std::abort();
  } else if (config->backends.empty() || config->buckets.empty()) {
    std::abort();  // validation promises both
  }
  return 0;
}
