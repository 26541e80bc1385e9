// IndexStore: what a pass needs from the SQL index (object_locations).
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "s3reconcile/db_key_lister.h"
#include "s3reconcile/entry.h"
#include "s3reconcile/status.h"

namespace s3reconcile {

class PassLedger;
class PassRecords;

enum class RemoveOutcome {
  kRemoved,      // the row was deleted
  kTooNew,       // the row was created at or after the cutoff; kept
  kAlreadyGone,  // there was no such row any more
  // The backend still holds the object when asked again: kept. Never
  // returned by a store; the removal's confirmation step answers it.
  kObjectPresent,
};

enum class ResizeOutcome {
  kResized,  // size_bytes now holds the backend's size
  kTooNew,   // the row was created at or after the cutoff; kept
  // The row is gone, or no longer has the storage_key and size the pass
  // judged (someone wrote it meanwhile): left alone.
  kChanged,
};

// One change a pass makes to the index.
struct IndexChange {
  enum class Kind { kImport, kRemove, kResize };
  Kind kind = Kind::kImport;
  // Import: key, storage key and size of the new row. Remove: the row's key.
  // Resize: the row's key and storage_key, its size as judged
  // (`index_size`) and the backend's (`size`).
  Entry entry;
  // Import: the row's created_at.
  Clock::time_point created_at{};
};

// What became of one IndexChange.
struct ChangeResult {
  Status status;                                    // OK, or why this change alone failed
  bool inserted = false;                            // import: false when the row already existed
  RemoveOutcome removal = RemoveOutcome::kRemoved;  // remove: what happened
  // Import: not made, because the service has queued the path for deletion.
  bool pending_delete = false;
  ResizeOutcome resize = ResizeOutcome::kResized;  // resize: what happened
};

// Implemented by each store (SQLite, PostgreSQL). A store orders keys by
// byte order whatever its collation settings, and never changes an existing
// row on import.
class IndexStore : public DBKeyLister {
 public:
  // Inserts (object_key = entry.key, storage_key, size, created_at) for
  // `backend` unless a row with that key and backend exists. Returns true
  // when it inserted, false when the row was already there (left unchanged).
  virtual StatusOr<bool> insert_if_absent(std::string_view backend, const Entry& entry,
                                          Clock::time_point created_at) = 0;

  // Deletes the row (object_key, backend) only if it was created before
  // `created_before` (the pass's start: rows written during a pass are never
  // removed by it).
  virtual StatusOr<RemoveOutcome> remove_if_created_before(std::string_view backend, std::string_view object_key,
                                                           Clock::time_point created_before) = 0;

  // Sets size_bytes of the row (entry.key, backend) to entry.size, only if
  // that row still has entry.storage_key and entry.index_size (the row the
  // pass judged: a row written meanwhile is left alone) and was created
  // before `created_before` (rows written during a pass are not its to fix).
  virtual StatusOr<ResizeOutcome> resize_if_unchanged(std::string_view backend, const Entry& entry,
                                                      Clock::time_point created_before) = 0;

  // Whether the service writing the index has queued `storage_key` on
  // `backend` for deletion: the store's configured pending-delete query
  // answers a row. Importing such a path would resurrect an object the
  // service is deleting. False when no query is configured.
  virtual StatusOr<bool> queued_for_deletion(std::string_view /*backend*/, std::string_view /*storage_key*/) {
    return false;
  }

  // What remove_if_created_before would do now, changing nothing: a dry run
  // asks this, so that it reports too-new rows, rows already gone and rows
  // that cannot be judged (a created_at that is not a time) as a real pass
  // would. The default answers kRemoved.
  virtual StatusOr<RemoveOutcome> removal_outcome(std::string_view /*backend*/, std::string_view /*object_key*/,
                                                  Clock::time_point /*created_before*/) {
    return RemoveOutcome::kRemoved;
  }

  // Applies `changes` (imports as insert_if_absent unless
  // queued_for_deletion, removals as remove_if_created_before and resizes
  // as resize_if_unchanged, with `created_before`; a store may make the
  // resizes on their own, before the rest: a batch never holds two changes
  // of one row) in one transaction, so
  // that a batch costs one commit, not one per row. When that transaction
  // fails, the changes are applied one by one, so that one bad row fails on
  // its own (its ChangeResult carries the error) and the others land.
  // Returns one result per change, in order; an error (UNAVAILABLE) only
  // when the store itself is unusable, which ends the pass.
  virtual StatusOr<std::vector<ChangeResult>> apply_changes(std::string_view backend,
                                                            std::span<const IndexChange> changes,
                                                            Clock::time_point created_before) = 0;

  // Boundary paths that split the rows of `backend` with storage_key inside
  // `range` into `parts` runs of about equal size: the storage_key of every
  // ceil(n / parts)-th row in (storage_key, object_key) order, ascending
  // (repeats possible where rows share a path), at most parts - 1 of them,
  // none of them the last row's.
  // Fewer (or none) when the range holds few rows. A parallel pass splits
  // a bucket at these keys. The default says UNIMPLEMENTED (the pass then
  // splits by the listing, or not at all).
  virtual StatusOr<std::vector<std::string>> split_keys(std::string_view /*backend*/, const KeyRange& /*range*/,
                                                        std::size_t /*parts*/) {
    return unimplemented_error("this index store cannot split key ranges");
  }

  // Cancels the statement this store's connection is running, if any (the
  // statement then fails with UNAVAILABLE, which ends the pass). Safe to call
  // from any thread while another uses the store: how a stop reaches a
  // query the server is slow to answer.
  virtual void cancel() {}

  // Whether the connection still answers: one kept between uses may have
  // been closed by the server since (a restart, an idle timeout). A store
  // without a server says OK.
  virtual Status check_connection() { return ok_status(); }

  // Where instances sharing passes coordinate, when this store offers it
  // (PostgreSQL); null otherwise. It uses this store's connection.
  virtual PassLedger* pass_ledger() { return nullptr; }

  // The record of every pass over this index (both stores keep one); null
  // for a store that keeps none. It uses this store's connection.
  virtual PassRecords* pass_records() { return nullptr; }

  // Where the last pass over `paths` of `backend` stopped at its request
  // budget (reconcile.max_list_requests): the next pass starts after this
  // path; "" = from the start. Kept in the index's database so that any
  // instance's next pass continues it.
  virtual StatusOr<std::string> resume_point(std::string_view /*backend*/, std::string_view /*paths*/) {
    return unimplemented_error("this index store keeps no resume points");
  }
  // Records it; "" clears it (the pass reached the end: the next one wraps
  // around to the start).
  virtual Status set_resume_point(std::string_view /*backend*/, std::string_view /*paths*/,
                                  std::string_view /*after*/) {
    return unimplemented_error("this index store keeps no resume points");
  }

  // Makes this store's connection the one instance reconciling `backend`,
  // among all instances sharing the index: true when the lock is now held
  // (until unlock_backend or the connection closes), false when another
  // instance holds it. A store only one process uses (SQLite) always says
  // true.
  virtual StatusOr<bool> try_lock_backend(std::string_view /*backend*/) { return true; }
  virtual Status unlock_backend(std::string_view /*backend*/) { return ok_status(); }
};

// One change as apply_changes makes it, outside or inside the caller's
// transaction: an import is checked against queued_for_deletion first.
ChangeResult apply_change(IndexStore& store, std::string_view backend, const IndexChange& change,
                          Clock::time_point created_before);

// apply_changes for a store without transactions: each change on its own,
// stopping at the first error that ends_pass(). Stores use it as their
// row-by-row fallback.
StatusOr<std::vector<ChangeResult>> apply_changes_one_by_one(IndexStore& store, std::string_view backend,
                                                             std::span<const IndexChange> changes,
                                                             Clock::time_point created_before);

}  // namespace s3reconcile
