// KeySource: the cursor contract both sides of the merge keep.
#pragma once

#include <optional>
#include <string>

#include "s3reconcile/entry.h"
#include "s3reconcile/status.h"

namespace s3reconcile {

// A forward iterator over entries in ascending order of their path
// (Entry::storage_key), holding a bounded amount of memory whatever the
// number of keys. A listing is strictly ascending; an index cursor may
// repeat a path (rows sharing a storage key are neighbours).
//
// next() returns one of three things:
//   - an entry;
//   - std::nullopt: a clean end of stream. The side holds no more keys.
//   - an error: the stream failed or was cancelled. The caller must abort.
//     An error is never an end of stream: treating it as one would make the
//     merge remove every index row after the point of failure.
// After the first end or error, every later next() returns the same.
//
// stop() releases what the source holds (threads, connections). It is safe to
// call more than once and from any thread; next() after stop() returns an
// error (or the end, if the end was already reached).
class KeySource {
 public:
  KeySource() = default;
  KeySource(const KeySource&) = delete;
  KeySource& operator=(const KeySource&) = delete;
  virtual ~KeySource() = default;

  virtual StatusOr<std::optional<Entry>> next() = 0;
  virtual void stop() = 0;

  // Once next() has returned the clean end: the path after which the stream
  // stopped short by design (a listing's request budget ran out), when it
  // did; std::nullopt when the end is the true end. Nothing past that path
  // was looked at, so the merge judges no entry of the other side past it.
  virtual std::optional<std::string> cut_after() const { return std::nullopt; }
};

}  // namespace s3reconcile
