// serve's readers (/healthz, the status page, /v1/passes) each need the
// index for a moment. Opening it per request costs a PostgreSQL backend
// process (and a schema check) per scrape; this keeps one idle connection
// between requests instead. A reader borrows it, or a new one when it is out
// or the store's config changed on a reload, and the lease gives it back
// when it ends, unless the reader saw it fail.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "s3reconcile/index_store.h"
#include "s3reconcile/mutex.h"

namespace s3reconcile::cli {

class IndexConnectionCache {
 public:
  using Opener = std::function<StatusOr<std::unique_ptr<IndexStore>>(const config::StoreConfig&)>;
  explicit IndexConnectionCache(Opener open) : open_(std::move(open)) {}
  IndexConnectionCache(const IndexConnectionCache&) = delete;
  IndexConnectionCache& operator=(const IndexConnectionCache&) = delete;

  // A connection held by one reader until the lease ends.
  class Lease {
   public:
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    IndexStore* operator->() const { return store_.get(); }
    // A read on it failed: close it when the lease ends rather than keep it.
    void failed() { failed_ = true; }

   private:
    friend class IndexConnectionCache;
    Lease(IndexConnectionCache& cache, std::unique_ptr<IndexStore> store, std::string config)
        : cache_(&cache), store_(std::move(store)), config_(std::move(config)) {}

    IndexConnectionCache* cache_;
    std::unique_ptr<IndexStore> store_;  // null once moved from
    std::string config_;                 // what it was opened for
    bool failed_ = false;
  };

  // The kept connection when it was opened for `store` as it is now and
  // still answers, else a new one.
  StatusOr<Lease> borrow(const config::StoreConfig& store);

 private:
  void give_back(std::unique_ptr<IndexStore> store, std::string config);

  const Opener open_;
  Mutex mu_;
  std::unique_ptr<IndexStore> idle_ S3R_GUARDED_BY(mu_);
  std::string idle_config_ S3R_GUARDED_BY(mu_);
};

}  // namespace s3reconcile::cli
