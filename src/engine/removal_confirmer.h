// Confirms removal candidates with the backend several at a time, so that
// a pass with many stale rows waits for one HEAD round trip per
// `concurrency` candidates instead of one per candidate. At concurrency 1
// the same confirmer decides on the submitting thread, in order, before
// submit() returns: a pass on one index connection (the merge reads it, a
// decision writes it) uses that, and no other code path.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <thread>
#include <vector>

#include "engine/bounded_queue.h"
#include "s3reconcile/entry.h"
#include "s3reconcile/mutex.h"
#include "s3reconcile/object_prober.h"
#include "s3reconcile/status.h"

namespace s3reconcile::internal {

// A row the merge found on the index side only, with what the merge knew
// when it found it (the guard judges by that, not by a later state); or,
// with `adopt`, an unprefixed orphan whose "default/<path>" the backend must
// be asked about before it is adopted. Both wait on one backend round trip.
// With `resize`, a row whose size differs from the listed one (entry.size
// the listed size, entry.index_size the row's): the backend is asked again
// before the row is fixed (reconcile.fix_sizes).
struct RemovalCandidate {
  Entry entry;
  bool adopt = false;
  bool listing_empty = false;
  std::uint64_t rows_scanned = 0;
  bool resize = false;
};

class RemovalConfirmer {
 public:
  // What the backend said about a candidate's key.
  using Answer = StatusOr<std::optional<ObjectInfo>>;
  // Asks the backend about the keys of `candidates` (on a worker thread, or
  // at concurrency 1 on the submitter's); an answer each, in order.
  using Ask = std::function<std::vector<Answer>(std::span<const RemovalCandidate> candidates)>;
  // Decides one candidate with its answer. An error it returns ends the
  // pass (later submits return it).
  using Decide = std::function<Status(const RemovalCandidate&, Answer answer)>;

  // `together`: ask() has its requests in flight at once from one thread
  // (ObjectProber::probes_many_at_once), so one worker asks about up to
  // `concurrency` candidates a time; otherwise `concurrency` workers ask
  // about one each.
  RemovalConfirmer(std::size_t concurrency, bool together, Ask ask, Decide decide, std::stop_token stop);
  ~RemovalConfirmer();
  RemovalConfirmer(const RemovalConfirmer&) = delete;
  RemovalConfirmer& operator=(const RemovalConfirmer&) = delete;

  // Queues a candidate, waiting while kQueuedPerWorker x `concurrency` are
  // queued. Returns the first error a decision returned (the candidate is
  // then dropped).
  Status submit(RemovalCandidate candidate);

  // Waits until every candidate submitted so far is decided (the confirmer
  // stays open); returns the first error.
  Status drain();

  // Waits until every queued candidate is decided and stops the workers;
  // returns the first error.
  Status finish();

 private:
  void work();
  // Asks about `candidates` and decides each, keeping the first error.
  void confirm(std::span<const RemovalCandidate> candidates);
  Status first_error() const;

  // Candidates queued per worker before submit() waits. Well above one: a
  // merge that waits for a free slot at every candidate is put to sleep and
  // woken once per candidate (each a context switch, the dearest thing a
  // pass with many stale rows did per row); a few hundred queued cost a few
  // hundred entries of memory.
  static constexpr std::size_t kQueuedPerWorker = 32;

  const std::size_t concurrency_;
  const bool together_;
  const Ask ask_;
  const Decide decide_;
  std::stop_token stop_;
  BoundedQueue<RemovalCandidate> queue_;
  mutable Mutex mu_;
  std::condition_variable decided_;
  Status first_error_ S3R_GUARDED_BY(mu_);
  std::size_t undecided_ S3R_GUARDED_BY(mu_) = 0;  // submitted, not yet decided
  std::vector<std::thread> workers_;
};

}  // namespace s3reconcile::internal
