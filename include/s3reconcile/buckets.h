// Virtual buckets: names and the key prefixes they own on a backend.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "s3reconcile/status.h"

namespace s3reconcile {

// "bucket/": the prefix under which a virtual bucket's keys are stored.
std::string bucket_prefix(std::string_view bucket);

// k + "/" for every known bucket except `current`, in the given order. The
// merge skips keys under these prefixes: they belong to sibling buckets
// stored on the same backend.
std::vector<std::string> sibling_prefixes(const std::vector<std::string>& known_buckets,
                                          std::string_view current);

// OK when `name` follows the S3 bucket naming rules this product uses:
// 3 to 63 characters of a-z, 0-9, '.' and '-', starting and ending with a
// letter or digit, no "..". Otherwise an error saying what is wrong.
Status validate_bucket_name(std::string_view name);

}  // namespace s3reconcile
