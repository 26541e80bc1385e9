// Virtual buckets: names, the key prefixes they own on a backend, and how a
// path on a backend is classified into one of them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "s3reconcile/status.h"

namespace s3reconcile {

// "bucket/": the prefix under which a virtual bucket's keys are stored.
std::string bucket_prefix(std::string_view bucket);

// k + "/" for every known bucket except `current`, in the given order: the
// prefixes owned by sibling buckets stored on the same backend.
std::vector<std::string> sibling_prefixes(const std::vector<std::string>& known_buckets, std::string_view current);

// OK when `name` follows the S3 bucket naming rules this product uses:
// 3 to 63 characters of a-z, 0-9, '.' and '-', starting and ending with a
// letter or digit, no "..". Otherwise an error saying what is wrong.
Status validate_bucket_name(std::string_view name);

// Which virtual bucket a path on one backend belongs to. A classification,
// never a rewrite: the path stays the key the merge compares.
//   - under "b/" for a bucket b stored on the backend: bucket b, object key
//     = the path (native);
//   - under "k/" for a known bucket k stored elsewhere: left out of the pass
//     (it is not this backend's to judge, and adopting it would invent
//     "default/k/...");
//   - under no known prefix: the default bucket (object key "default/<path>",
//     adopted) when unprefixed keys are adopted, else left out.
// Both sides of a pass are filtered by the same rule on the path, so a path
// left out is left out of the listing and of the index alike.
class PathClassifier {
 public:
  // `backend_buckets`: the buckets stored on the backend, the default first.
  // `known_buckets`: every bucket of the deployment.
  PathClassifier(std::vector<std::string> backend_buckets, const std::vector<std::string>& known_buckets,
                 bool adopt_unprefixed);

  enum class Kind { kNative, kAdopted, kOut };
  struct Class {
    Kind kind = Kind::kOut;
    // The bucket (kNative, kAdopted); points into the classifier.
    std::string_view bucket;
  };
  Class classify(std::string_view path) const;

  // The bucket an object key is known by (its first "b/" among the known
  // buckets), or "" when there is none.
  std::string_view bucket_of_key(std::string_view object_key) const;

  const std::string& default_bucket() const { return own_.front(); }

 private:
  std::vector<std::string> own_;    // buckets on this backend, default first
  std::vector<std::string> known_;  // every known bucket
  bool adopt_unprefixed_;
};

}  // namespace s3reconcile
