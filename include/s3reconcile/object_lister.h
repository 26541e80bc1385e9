// ObjectLister: the narrow listing surface of a backend.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "s3reconcile/entry.h"
#include "s3reconcile/status.h"

namespace s3reconcile {

// One key as the backend lists it: the raw storage key, not yet namespaced.
struct ListedObject {
  std::string key;
  std::int64_t size = 0;
  std::optional<Clock::time_point> last_modified;

  bool operator==(const ListedObject&) const = default;
};

struct ListRequest {
  // Only keys starting with this prefix ("" = every key).
  std::string prefix;
  // Only keys strictly greater than this ("" = from the first key).
  std::string start_after;
  // The caller reads every page to the end of the listing (it stops early
  // only on an error or a stop): the lister may ask for the next page while
  // this one is handed over. Off for a caller that may stop at a page of
  // its choosing (a request budget, an upper key, one page to see whether
  // there are keys): it would be sent a page it never reads, a request
  // beyond its budget; a pass's own listing thread runs ahead of the merge
  // already.
  bool read_ahead = false;
};

// Receives one page of keys, in ascending order, continuing the previous
// page; `last` when no key of the request follows it (the walk ends after
// it). The callee may move entries out of `page`. Returning false stops the
// walk (list() then returns OK, or CANCELLED if a stop was requested).
using PageCallback = std::function<bool(std::vector<ListedObject>& page, bool last)>;

class ObjectLister {
 public:
  virtual ~ObjectLister() = default;

  // Walks the keys that `request` selects in ascending byte order, one page at
  // a time. Returns OK only when the walk reached the true end of the keys or
  // on_page asked to stop; an error (naming the page) when any page could not
  // be fetched or made sense of; CANCELLED when `stop` was requested. A walk
  // that was cut short must never return OK.
  virtual Status list(const ListRequest& request, const PageCallback& on_page, std::stop_token stop) = 0;

  // What lies directly under `prefix` when keys are cut at `delimiter`:
  // the common prefixes (each ending in the delimiter) and the keys with no
  // delimiter after the prefix, in ascending order. One page at most (the
  // first 1000 or so): a parallel pass splits a bucket at these names when
  // its index has no rows to split by, and a first page is enough for that.
  // The default says UNIMPLEMENTED (the pass then runs as one range).
  virtual StatusOr<std::vector<std::string>> list_top_level(const std::string& /*prefix*/, char /*delimiter*/,
                                                            std::stop_token /*stop*/) {
    return unimplemented_error("this backend cannot list common prefixes");
  }
};

}  // namespace s3reconcile
