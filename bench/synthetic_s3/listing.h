// ListObjectsV2 paging over any byte-ordered source that can answer "the
// first object at or after this string": prefix, start-after, continuation
// token, max-keys and delimiter (CommonPrefixes), as S3 defines them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s3r_synthetic {

struct ObjectInfo {
  std::string key;
  std::int64_t size = 0;
  std::string etag;           // quoted, as in the ETag header
  std::string last_modified;  // ISO 8601 as in <LastModified>: 2026-01-01T00:00:00.000Z
};

struct ListQuery {
  std::string prefix;
  std::string delimiter;
  std::string start_after;              // ignored when a continuation token is given, as S3 does
  std::optional<std::string> position;  // the decoded continuation token
  int max_keys = 1000;
};

struct ListResult {
  std::vector<ObjectInfo> contents;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_continuation_token;  // set when truncated
  int key_count() const { return static_cast<int>(contents.size() + common_prefixes.size()); }
};

// The first object whose key is >= the argument in unsigned byte order.
using Seek = std::function<std::optional<ObjectInfo>(std::string_view)>;

ListResult list_objects(const ListQuery& query, const Seek& seek);

// Continuation tokens are the hex of the next lower bound: opaque to clients,
// safe in a query string, and they resume exactly where the page ended even
// when keys were added or removed in between.
std::string encode_token(std::string_view position);
std::optional<std::string> decode_token(std::string_view token);  // nullopt: not one of ours

}  // namespace s3r_synthetic
