#include "s3reconcile/s3_key_stream.h"

#include <exception>
#include <functional>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/bounded_queue.h"
#include "s3reconcile/buckets.h"
#include "s3reconcile/key_order.h"

namespace s3reconcile {

// One producer: a thread driving lister.list() into a bounded queue, turning
// each listed object into an entry (or dropping it, or failing the walk).
class S3KeyStream::Walk {
 public:
  // Maps a listed object to the entry to queue, std::nullopt to drop it, or
  // an error that ends the walk.
  using Transform = std::function<StatusOr<std::optional<Entry>>(ListedObject&)>;

  // The walk ends (cleanly) at its first raw key greater than `through`
  // when that is not empty.
  Walk(ObjectLister& lister, ListRequest request, std::string through, Transform transform,
       std::size_t queue_size, std::atomic<std::uint64_t>* api_pages, std::stop_token stop)
      : lister_(lister),
        request_(std::move(request)),
        through_(std::move(through)),
        transform_(std::move(transform)),
        api_pages_(api_pages),
        queue_(queue_size),
        thread_([this, stop] { run(stop); }) {}

  ~Walk() { join(); }

  // The next entry: from the batch being read, or the next batch queued.
  StatusOr<std::optional<Entry>> pop(std::stop_token stop) {
    while (next_ == batch_.size()) {
      auto batch = queue_.pop(stop);
      if (!batch.ok()) return batch.status();
      if (!*batch) return std::optional<Entry>();
      batch_ = std::move(**batch);
      next_ = 0;
    }
    return std::optional<Entry>(std::move(batch_[next_++]));
  }
  std::size_t high_watermark() const { return queue_.high_watermark(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run(std::stop_token stop) {
    Status failure;
    Status walk;
    try {
      walk = lister_.list(
          request_,
          [&](std::vector<ListedObject>& page) {
            if (api_pages_ != nullptr) api_pages_->fetch_add(1, std::memory_order_relaxed);
            // A page goes over as one batch: one hand-over per page, not per key.
            std::vector<Entry> batch;
            batch.reserve(page.size());
            bool beyond = false;
            for (auto& object : page) {
              if (!through_.empty() && compare_keys(object.key, through_) > 0) {
                beyond = true;
                break;
              }
              auto entry = transform_(object);
              if (!entry.ok()) {
                failure = entry.status();
                return false;
              }
              if (*entry) batch.push_back(std::move(**entry));
            }
            const std::size_t weight = batch.size();
            if (weight > 0 && !queue_.push(std::move(batch), stop, weight)) return false;
            return !beyond && !stop.stop_requested();
          },
          stop);
    } catch (const std::exception& e) {
      walk = internal_error(fmt::format("listing threw: {}", e.what()));
    }
    if (!failure.ok()) {
      walk = failure;
    } else if (walk.ok() && stop.stop_requested()) {
      // The walk was cut short: never let that look like the end of the keys.
      walk = cancelled_error("listing cancelled");
    }
    queue_.close(std::move(walk));
  }

  ObjectLister& lister_;
  const ListRequest request_;
  const std::string through_;
  const Transform transform_;
  std::atomic<std::uint64_t>* const api_pages_;
  internal::BoundedQueue<std::vector<Entry>> queue_;
  // The batch the consumer is reading (consumer thread only).
  std::vector<Entry> batch_;
  std::size_t next_ = 0;
  std::thread thread_;  // last: starts once everything it uses exists
};

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.starts_with(prefix); }

bool under_any(std::string_view key, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (starts_with(key, p)) return true;
  }
  return false;
}

}  // namespace

S3KeyStream::S3KeyStream(ObjectLister& lister, S3KeyStreamOptions options,
                         std::stop_token pass_stop)
    : options_(std::move(options)) {
  const std::string own = bucket_prefix(options_.bucket);
  const std::vector<std::string> siblings = sibling_prefixes(options_.known_buckets, options_.bucket);
  const std::stop_token stop = stop_source_.get_token();
  if (pass_stop.stop_possible()) {
    pass_stop_link_.emplace(pass_stop, std::function<void()>([this] { stop_source_.request_stop(); }));
  }
  if (!options_.start_after.empty() && !starts_with(options_.start_after, own)) {
    latched_ = invalid_argument_error(fmt::format("start_after {} is not under bucket prefix {}",
                                                  quote_key(options_.start_after), quote_key(own)));
    return;
  }
  if (!options_.through.empty() && (!starts_with(options_.through, own) || options_.through == own)) {
    latched_ = invalid_argument_error(fmt::format("through {} is not under bucket prefix {}",
                                                  quote_key(options_.through), quote_key(own)));
    return;
  }
  const std::string raw_start_after =
      options_.start_after.empty() ? "" : options_.start_after.substr(own.size());
  const std::string raw_through = options_.through.empty() ? "" : options_.through.substr(own.size());

  native_ = std::make_unique<Walk>(
      lister, ListRequest{own, options_.start_after}, options_.through,
      [own](ListedObject& o) -> StatusOr<std::optional<Entry>> {
        if (!starts_with(o.key, own)) {
          return data_loss_error(fmt::format("listing under prefix {} returned key {} outside it",
                                             quote_key(own), quote_key(o.key)));
        }
        std::string storage = o.key;
        return std::optional<Entry>(Entry{std::move(o.key), std::move(storage), o.size, o.last_modified});
      },
      options_.queue_size, options_.api_pages, stop);

  if (options_.adopt_unprefixed) {
    raw_ = std::make_unique<Walk>(
        lister, ListRequest{"", raw_start_after}, raw_through,
        [own, siblings](ListedObject& o) -> StatusOr<std::optional<Entry>> {
          // Keys under a bucket prefix (ours comes from the native walk) are not raw.
          if (starts_with(o.key, own) || under_any(o.key, siblings)) return std::optional<Entry>();
          return std::optional<Entry>(Entry{own + o.key, std::move(o.key), o.size, o.last_modified});
        },
        options_.queue_size, options_.api_pages, stop);
  }
}

S3KeyStream::~S3KeyStream() { stop(); }

void S3KeyStream::stop() {
  stop_source_.request_stop();
  if (native_) native_->join();
  if (raw_) raw_->join();
}

std::size_t S3KeyStream::queue_high_watermark() const {
  std::size_t most = native_ ? native_->high_watermark() : 0;
  if (raw_) most = std::max(most, raw_->high_watermark());
  return most;
}

StatusOr<std::optional<Entry>> S3KeyStream::next() {
  if (latched_) return *latched_;
  if (ended_) return std::optional<Entry>();
  if (stop_source_.stop_requested()) {
    latched_ = cancelled_error("listing cancelled");
    return *latched_;
  }
  auto result = raw_ ? next_merged() : native_->pop(stop_source_.get_token());
  if (!result.ok()) {
    latched_ = result.status();
  } else if (!*result) {
    ended_ = true;
  } else {
    ++yielded_;
  }
  return result;
}

Status S3KeyStream::fill(Walk& walk, std::optional<Entry>& head, bool& done) {
  if (head || done) return ok_status();
  auto popped = walk.pop(stop_source_.get_token());
  if (!popped.ok()) return popped.status();
  head = std::move(*popped);
  done = !head.has_value();
  return ok_status();
}

StatusOr<std::optional<Entry>> S3KeyStream::next_merged() {
  S3R_RETURN_IF_ERROR(fill(*native_, native_head_, native_done_));
  S3R_RETURN_IF_ERROR(fill(*raw_, raw_head_, raw_done_));
  if (native_head_ && raw_head_) {
    const int order = compare_keys(native_head_->key, raw_head_->key);
    if (order == 0) {
      // "x" and "b/x" both exist: the prefixed object is the bucket's; the
      // raw one is reported and never imported.
      ++collisions_;
      if (options_.logger) {
        options_.logger->warn("unprefixed key {} collides with {}; keeping the prefixed object",
                              quote_key(raw_head_->storage_key), quote_key(native_head_->key));
      }
      raw_head_.reset();
    } else if (order > 0) {
      return std::exchange(raw_head_, std::nullopt);
    }
  }
  if (native_head_) return std::exchange(native_head_, std::nullopt);
  if (raw_head_) return std::exchange(raw_head_, std::nullopt);
  return std::optional<Entry>();
}

}  // namespace s3reconcile
