// Credentials shared by every thread of a backend, refreshed before they
// expire by a thread of their own, so that no request waits for a refresh
// while the old credentials are still good.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

#include "s3/credential_provider.h"
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
  bool unusable_locked(Clock::time_point now) const;
  // Asks the refresh thread for an attempt now; waits until it finished.
  void refresh_now_locked(std::unique_lock<std::mutex>& lock, std::stop_token stop);

  std::unique_ptr<CredentialProvider> provider_;
  mutable std::mutex mu_;
  std::condition_variable_any changed_;
  TimedCredentials credentials_;    // guarded by mu_
  Credentials previous_;            // guarded by mu_: before the last refresh
  Clock::time_point fetched_at_;    // guarded by mu_
  Clock::time_point next_attempt_;  // guarded by mu_
  long attempts_ = 0;               // guarded by mu_: refresh attempts finished
  int refreshes_ = 0;               // guarded by mu_
  Status last_failure_;             // guarded by mu_
  std::jthread refresher_;          // last: stops before the rest is destroyed
};

}  // namespace s3reconcile::s3
