// Credentials shared by every thread of a backend, refreshed before they
// expire by a thread of their own, so that no request waits for a refresh
// while the old credentials are still good.
#pragma once

#include <condition_variable>
#include <memory>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

#include "s3/credential_provider.h"
#include "s3reconcile/mutex.h"
#include "s3reconcile/status.h"

namespace s3reconcile::s3 {

class RefreshingCredentials {
 public:
  // Fetches once (an error here fails the backend's set-up); credentials
  // with an expiration are then refreshed in the background at
  // expiration - min(5 min, lifetime / 2). A failed refresh is logged (a
  // warning naming the source) and retried while the old ones still hold.
  static StatusOr<std::unique_ptr<RefreshingCredentials>> start(std::unique_ptr<CredentialProvider> provider);
  ~RefreshingCredentials();
  RefreshingCredentials(const RefreshingCredentials&) = delete;
  RefreshingCredentials& operator=(const RefreshingCredentials&) = delete;

  // The credentials to sign with now. Waits only when the current ones are
  // within seconds of expiring and a refresh is under way; an error when
  // they expired and the refreshes failed (naming the source and why).
  StatusOr<Credentials> current(std::stop_token stop);

  // After a server answered ExpiredToken to `rejected`: refreshes once
  // (threads that were rejected with the same credentials share it) and
  // returns what to retry with.
  StatusOr<Credentials> renew_after_rejection(const Credentials& rejected, std::stop_token stop);

  std::string describe() const { return provider_->describe(); }
  // The secret keys and session tokens in use and used before the last
  // refresh: what must be taken out of anything a server echoes.
  std::vector<std::string> secrets() const;
  std::optional<Clock::time_point> expiration() const;
  // Successful fetches after the first.
  int refreshes() const;

 private:
  explicit RefreshingCredentials(std::unique_ptr<CredentialProvider> provider);
  void refresh_loop(std::stop_token stop);
  // Whether `now` is close enough to the expiration that signing must wait.
  bool unusable_locked(Clock::time_point now) const S3R_REQUIRES(mu_);
  // Asks the refresh thread for an attempt now; waits until it finished.
  void refresh_now_locked(MutexLock& lock, std::stop_token stop) S3R_REQUIRES(mu_);

  std::unique_ptr<CredentialProvider> provider_;
  mutable Mutex mu_;
  std::condition_variable_any changed_;
  TimedCredentials credentials_ S3R_GUARDED_BY(mu_);
  Credentials previous_ S3R_GUARDED_BY(mu_);  // before the last refresh
  Clock::time_point fetched_at_ S3R_GUARDED_BY(mu_);
  Clock::time_point next_attempt_ S3R_GUARDED_BY(mu_);
  long attempts_ S3R_GUARDED_BY(mu_) = 0;  // refresh attempts finished
  int refreshes_ S3R_GUARDED_BY(mu_) = 0;
  Status last_failure_ S3R_GUARDED_BY(mu_);
  std::jthread refresher_;  // last: stops before the rest is destroyed
};

}  // namespace s3reconcile::s3
