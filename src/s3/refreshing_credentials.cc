#include "s3/refreshing_credentials.h"

#include <algorithm>

#include <fmt/format.h>

#include "s3reconcile/event_log.h"
#include "s3reconcile/time_format.h"

namespace s3reconcile::s3 {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr auto kMaxMargin = std::chrono::minutes(5);
constexpr auto kMaxRetryDelay = std::chrono::seconds(30);

Clock::duration lifetime(Clock::time_point fetched, Clock::time_point expiration) {
  return std::max(Clock::duration::zero(), expiration - fetched);
}

}  // namespace

RefreshingCredentials::RefreshingCredentials(std::unique_ptr<CredentialProvider> provider)
    : provider_(std::move(provider)) {}

RefreshingCredentials::~RefreshingCredentials() {
  if (refresher_.joinable()) {
    refresher_.request_stop();
    changed_.notify_all();
    refresher_.join();
  }
}

StatusOr<std::unique_ptr<RefreshingCredentials>> RefreshingCredentials::start(
    std::unique_ptr<CredentialProvider> provider) {
  std::unique_ptr<RefreshingCredentials> r(new RefreshingCredentials(std::move(provider)));
  auto first = r->provider_->fetch(std::stop_token());
  if (!first.ok()) return first.status();
  std::optional<Clock::time_point> expiration = first->expiration;
  {
    MutexLock lock(r->mu_);
    r->credentials_ = std::move(*first);
    r->fetched_at_ = Clock::now();
    if (expiration && *expiration <= r->fetched_at_) {
      return failed_precondition_error(
          fmt::format("{}: the credentials it gave expired at {}", r->describe(), iso8601_utc_micros(*expiration)));
    }
    if (expiration) {
      r->next_attempt_ = *expiration - std::min<Clock::duration>(kMaxMargin, lifetime(r->fetched_at_, *expiration) / 2);
    }
  }
  if (expiration) r->refresher_ = std::jthread([raw = r.get()](std::stop_token stop) { raw->refresh_loop(stop); });
  return r;
}

bool RefreshingCredentials::unusable_locked(Clock::time_point now) const {
  if (!credentials_.expiration) return false;
  // A request signed now must reach the server before the expiry: keep a
  // few seconds (a tenth of a short lifetime) in hand.
  const auto safety =
      std::min<Clock::duration>(std::chrono::seconds(10), lifetime(fetched_at_, *credentials_.expiration) / 10);
  return now >= *credentials_.expiration - safety;
}

void RefreshingCredentials::refresh_loop(std::stop_token stop) {
  MutexLock lock(mu_);
  while (!stop.stop_requested()) {
    // Wakes at the time set, or when someone moves it (a refresh asked for now).
    const auto planned = next_attempt_;
    lock.wait_until(changed_, stop, planned, [&]() S3R_REQUIRES(mu_) { return next_attempt_ != planned; });
    if (stop.stop_requested()) return;
    if (Clock::now() < next_attempt_) continue;
    lock.unlock();
    auto fresh = provider_->fetch(stop);
    lock.lock();
    const auto now = Clock::now();
    ++attempts_;
    if (fresh.ok()) {
      previous_ = std::move(credentials_.credentials);
      credentials_ = std::move(*fresh);
      fetched_at_ = now;
      ++refreshes_;
      last_failure_ = ok_status();
      if (credentials_.expiration) {
        const auto expiration = *credentials_.expiration;
        next_attempt_ = expiration - std::min<Clock::duration>(kMaxMargin, lifetime(now, expiration) / 2);
        process_log().debug("credentials refreshed",
                            {{"source", describe()}, {"expire", iso8601_utc_micros(expiration)}});
      } else {
        next_attempt_ = now + std::chrono::hours(24 * 365);  // nothing to refresh
      }
    } else if (!stop.stop_requested()) {
      last_failure_ = fresh.status();
      // Retry while the old ones hold, more often as their end nears.
      const auto left = credentials_.expiration ? *credentials_.expiration - now : Clock::duration::zero();
      const auto delay = std::clamp<Clock::duration>(left / 4, milliseconds(200), kMaxRetryDelay);
      next_attempt_ = now + delay;
      process_log().warn(
          "credential refresh failed",
          {{"source", describe()},
           {"retry_in_ms", duration_cast<milliseconds>(delay).count()},
           {"old_credentials_expire", credentials_.expiration ? iso8601_utc_micros(*credentials_.expiration) : "never"},
           {"error", fresh.status().message()}});
    }
    changed_.notify_all();
  }
}

void RefreshingCredentials::refresh_now_locked(MutexLock& lock, std::stop_token stop) {
  const long seen = attempts_;
  next_attempt_ = Clock::now();
  changed_.notify_all();
  lock.wait(changed_, stop, [&]() S3R_REQUIRES(mu_) { return attempts_ != seen; });
}

StatusOr<Credentials> RefreshingCredentials::current(std::stop_token stop) {
  MutexLock lock(mu_);
  if (!unusable_locked(Clock::now())) return credentials_.credentials;
  refresh_now_locked(lock, stop);
  if (stop.stop_requested()) return cancelled_error("cancelled while waiting for fresh credentials");
  if (!unusable_locked(Clock::now())) return credentials_.credentials;
  return failed_precondition_error(fmt::format("credentials from {} expired at {} and could not be refreshed: {}",
                                               describe(), iso8601_utc_micros(*credentials_.expiration),
                                               last_failure_.message()));
}

StatusOr<Credentials> RefreshingCredentials::renew_after_rejection(const Credentials& rejected, std::stop_token stop) {
  MutexLock lock(mu_);
  const bool same = credentials_.credentials.access_key_id == rejected.access_key_id &&
                    credentials_.credentials.session_token == rejected.session_token;
  if (!same) return credentials_.credentials;  // another thread renewed them already
  if (!refresher_.joinable()) {
    return failed_precondition_error(
        fmt::format("the server says the credentials from {} expired, and they cannot "
                    "be refreshed (they carry no expiration)",
                    describe()));
  }
  refresh_now_locked(lock, stop);
  if (stop.stop_requested()) return cancelled_error("cancelled while waiting for fresh credentials");
  if (!last_failure_.ok()) {
    return last_failure_.with_context(
        fmt::format("the server says the credentials from {} expired; refreshing", describe()));
  }
  return credentials_.credentials;
}

std::optional<Clock::time_point> RefreshingCredentials::expiration() const {
  MutexLock lock(mu_);
  return credentials_.expiration;
}

std::vector<std::string> RefreshingCredentials::secrets() const {
  MutexLock lock(mu_);
  std::vector<std::string> out;
  for (const Credentials* c : {&credentials_.credentials, &previous_}) {
    for (const std::string* s : {&c->secret_access_key, &c->session_token}) {
      if (!s->empty()) out.push_back(*s);
    }
  }
  return out;
}

int RefreshingCredentials::refreshes() const {
  MutexLock lock(mu_);
  return refreshes_;
}

}  // namespace s3reconcile::s3
