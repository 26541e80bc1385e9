#include "cli/index_connection_cache.h"

#include <utility>

namespace s3reconcile::cli {
namespace {

// Everything a connection is opened from: a reload that changes any of it
// needs a new one. It may hold a password: compared, never shown.
std::string opened_from(const config::StoreConfig& store) {
  return std::to_string(static_cast<int>(store.kind)) + '\0' + store.sqlite_path + '\0' + store.postgres_dsn + '\0' +
         store.pending_delete_query;
}

}  // namespace

IndexConnectionCache::Lease::~Lease() {
  if (store_ != nullptr && !failed_) cache_->give_back(std::move(store_), std::move(config_));
}

StatusOr<IndexConnectionCache::Lease> IndexConnectionCache::borrow(const config::StoreConfig& store) {
  std::string wanted = opened_from(store);
  std::unique_ptr<IndexStore> kept, stale;
  {
    MutexLock lock(mu_);
    (idle_config_ == wanted ? kept : stale) = std::move(idle_);
  }
  stale.reset();  // closed outside the lock: a close may wait on the server
  // One the server closed since (a restart, an idle timeout) is replaced
  // rather than handed to a reader that would report its error.
  if (kept != nullptr && kept->check_connection().ok()) return Lease(*this, std::move(kept), std::move(wanted));
  kept.reset();
  auto opened = open_(store);
  if (!opened.ok()) return opened.status();
  return Lease(*this, std::move(*opened), std::move(wanted));
}

void IndexConnectionCache::give_back(std::unique_ptr<IndexStore> store, std::string config) {
  {
    MutexLock lock(mu_);
    if (idle_ == nullptr) {
      idle_ = std::move(store);
      idle_config_ = std::move(config);
    }
  }
  // Still here when one was kept already (a reader that found it out opened
  // its own): it closes now, outside the lock.
}

}  // namespace s3reconcile::cli
