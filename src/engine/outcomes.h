// Counting and logging what became of one import or removal, shared by the
// per-row handlers and the batch writer.
#pragma once

#include <memory>
#include <string_view>

#include "s3reconcile/entry.h"
#include "s3reconcile/index_store.h"
#include "s3reconcile/result.h"

namespace spdlog {
class logger;
}

namespace s3reconcile::internal {

// `status` not OK: a failed import (logged at warn); else inserted or not.
void record_import(Result& result, spdlog::logger& log, std::string_view backend, const Entry& entry,
                   const Status& status, bool inserted);

// `status` not OK: a failed removal (logged at warn); else its outcome.
// Removals are logged at info.
void record_removal(Result& result, spdlog::logger& log, std::string_view backend, const Entry& entry,
                    const Status& status, RemoveOutcome outcome, bool dry_run);

}  // namespace s3reconcile::internal
