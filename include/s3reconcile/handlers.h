// The callbacks the merge calls, and the store operations behind them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "s3reconcile/entry.h"
#include "s3reconcile/event_log.h"
#include "s3reconcile/index_store.h"
#include "s3reconcile/merge.h"
#include "s3reconcile/result.h"
#include "s3reconcile/status.h"

namespace s3reconcile {

// Insert-if-absent of the entry's key, storage key and size. Returns true
// when inserted, false when the row already existed (benign, never an
// overwrite), or an error.
using ImporterFn = std::function<StatusOr<bool>(const Entry&, std::string_view backend)>;

// Removes the row of an entry whose backend confirmed that it does not hold
// the entry's storage key. Returns what happened, or an error.
using DeleterFn = std::function<StatusOr<RemoveOutcome>(const Entry&, std::string_view backend)>;

// The merge's on_import: runs `importer`, counts the outcome into `result`,
// logs failures (key, backend, error) and keeps the pass going, except for
// errors that end_pass(). `observer`, if set, hears of each row inserted.
EntryCallback import_handler(EventLog log, std::string backend, ImporterFn importer, Result& result,
                             ChangeObserver observer = {});

// The merge's on_delete: like import_handler, for removals. Each removal is
// logged at info level.
EntryCallback delete_handler(EventLog log, std::string backend, DeleterFn deleter, Result& result,
                             ChangeObserver observer = {});

}  // namespace s3reconcile
