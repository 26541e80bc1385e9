#include "s3reconcile/s3_key_stream.h"

#include <exception>
#include <functional>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/bounded_queue.h"
#include "engine/bucket_tally.h"
#include "s3reconcile/buckets.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/mutex.h"

namespace s3reconcile {

namespace {

// Writes the entry a listed object makes over `into` (a recycled entry: every
// field is set, by assign() so its buffers are reused) and says whether to
// keep it; a key outside the listed prefix is an error that ends the walk.
// It runs once a key, so it is a class the walk calls directly: through a
// std::function the call could not be inlined.
class EntryMaker {
 public:
  EntryMaker(std::string prefix, std::shared_ptr<const PathClassifier> classifier)
      : prefix_(std::move(prefix)), classifier_(std::move(classifier)) {}

  StatusOr<bool> operator()(const ListedObject& o, Entry& into) const {
    if (!o.key.starts_with(prefix_)) {
      return data_loss_error(
          fmt::format("listing under prefix {} returned key {} outside it", quote_key(prefix_), quote_key(o.key)));
    }
    PathClassifier::Class c{PathClassifier::Kind::kNative, {}};
    if (classifier_) {
      c = classifier_->classify(o.key);
      if (c.kind == PathClassifier::Kind::kOut) return false;
    }
    into.adopted = c.kind == PathClassifier::Kind::kAdopted;
    into.bucket.assign(c.bucket);
    if (into.adopted) {
      into.key.assign(bucket_prefix(into.bucket)).append(o.key);
    } else {
      into.key.assign(o.key);
    }
    into.storage_key.assign(o.key);
    into.size = o.size;
    into.last_modified = o.last_modified;
    into.index_size.reset();
    return true;
  }

 private:
  const std::string prefix_;
  const std::shared_ptr<const PathClassifier> classifier_;
};

}  // namespace

// One producer: a thread driving lister.list() into a bounded queue, turning
// each listed object into an entry (or dropping it, or failing the walk).
class S3KeyStream::Walk {
 public:
  // The walk ends (cleanly) at its first raw key greater than `through`
  // when that is not empty.
  Walk(ObjectLister& lister, ListRequest request, std::string through, std::uint64_t max_pages, EntryMaker make_entry,
       std::size_t queue_size, std::atomic<std::uint64_t>* api_pages, std::atomic<std::uint64_t>& listed_paths,
       std::stop_token stop)
      : lister_(lister),
        request_(std::move(request)),
        through_(std::move(through)),
        max_pages_(max_pages),
        make_entry_(std::move(make_entry)),
        api_pages_(api_pages),
        listed_paths_(listed_paths),
        queue_(queue_size),
        thread_([this, stop] { run(stop); }) {}

  ~Walk() { join(); }

  // The next batch queued (a page's entries, never empty), or an empty one
  // at the end. It stays the consumer's until the next pop().
  StatusOr<std::span<const Entry>> pop(std::stop_token stop) {
    if (!batch_.empty()) give_back(std::move(batch_));
    auto batch = queue_.pop(stop);
    if (!batch.ok()) return batch.status();
    if (!*batch) {
      batch_.clear();
      return std::span<const Entry>();
    }
    batch_ = std::move(**batch);
    return std::span<const Entry>(batch_);
  }
  std::size_t high_watermark() const { return queue_.high_watermark(); }
  // Read once pop() has returned the end: the queue's close orders the
  // producer's write of it before.
  const std::optional<std::string>& cut_after() const { return cut_after_; }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run(std::stop_token stop) {
    Status failure;
    Status walk;
    std::uint64_t pages = 0;
    std::string last_listed = request_.start_after;
    try {
      walk = lister_.list(
          request_,
          [&](std::vector<ListedObject>& page, bool last) {
            if (api_pages_ != nullptr) api_pages_->fetch_add(1, std::memory_order_relaxed);
            // A page goes over as one batch: one hand-over per page, not per
            // key, written over a batch the consumer is done with.
            std::vector<Entry> batch = take_spare();
            std::size_t used = 0;
            bool beyond = false;
            if (!page.empty()) last_listed = page.back().key;
            std::size_t in_range = 0;
            for (auto& object : page) {
              if (!through_.empty() && compare_keys(object.key, through_) > 0) {
                beyond = true;
                break;
              }
              if (used == batch.size()) batch.emplace_back();
              StatusOr<bool> kept = make_entry_(object, batch[used]);
              if (!kept.ok()) {
                failure = kept.status();
                return false;
              }
              ++in_range;
              if (*kept) ++used;
            }
            // Counted once a page: an atomic add per key (read by progress
            // from another thread) was 3% of a pass's CPU.
            listed_paths_.fetch_add(in_range, std::memory_order_relaxed);
            batch.resize(used);
            const std::size_t weight = batch.size();
            if (weight > 0 && !queue_.push(std::move(batch), stop, weight)) return false;
            // The budget's last page cuts the walk only if keys follow it:
            // one that ends the listing is a whole pass, not one to resume.
            if (max_pages_ != 0 && ++pages == max_pages_ && !beyond && !last) {
              cut_after_ = last_listed;
              return false;
            }
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
    if (!walk.ok()) cut_after_.reset();
    queue_.close(std::move(walk));
  }

  // Batches the consumer has read, for the producer to write over: their
  // entries' strings keep their buffers, so a steady walk allocates no
  // entry, and nothing allocated on one thread is freed on the other.
  std::vector<Entry> take_spare() {
    MutexLock lock(spare_mu_);
    if (spares_.empty()) return {};
    std::vector<Entry> batch = std::move(spares_.back());
    spares_.pop_back();
    return batch;
  }
  void give_back(std::vector<Entry> batch) {
    MutexLock lock(spare_mu_);
    spares_.push_back(std::move(batch));
  }

  ObjectLister& lister_;
  const ListRequest request_;
  const std::string through_;
  const std::uint64_t max_pages_;
  std::optional<std::string> cut_after_;  // written by the producer before the queue closes
  const EntryMaker make_entry_;
  std::atomic<std::uint64_t>* const api_pages_;
  std::atomic<std::uint64_t>& listed_paths_;
  internal::BoundedQueue<std::vector<Entry>> queue_;
  Mutex spare_mu_;
  // At most as many as batches exist: the queue's, the consumer's and one.
  std::vector<std::vector<Entry>> spares_ S3R_GUARDED_BY(spare_mu_);
  // The batch the consumer is reading (consumer thread only).
  std::vector<Entry> batch_;
  std::thread thread_;  // last: starts once everything it uses exists
};

S3KeyStream::S3KeyStream(ObjectLister& lister, S3KeyStreamOptions options, std::stop_token pass_stop)
    : options_(std::move(options)),
      tally_(std::make_unique<internal::BucketTally>(options_.live_counts, &PassCounts::listed)) {
  const std::stop_token stop = stop_source_.get_token();
  if (pass_stop.stop_possible()) {
    pass_stop_link_.emplace(pass_stop, std::function<void()>([this] { stop_source_.request_stop(); }));
  }
  walk_ = std::make_unique<Walk>(lister, ListRequest{options_.prefix, options_.start_after}, options_.through,
                                 options_.max_pages, EntryMaker(options_.prefix, options_.classifier),
                                 options_.queue_size, options_.api_pages, listed_paths_, stop);
}

S3KeyStream::~S3KeyStream() { stop(); }

void S3KeyStream::release() {
  stop_source_.request_stop();
  if (walk_) walk_->join();
}

std::optional<std::string> S3KeyStream::cut_after() const {
  return ended_ && walk_ ? walk_->cut_after() : std::nullopt;
}

std::size_t S3KeyStream::queue_high_watermark() const { return walk_ ? walk_->high_watermark() : 0; }

const std::map<std::string, std::uint64_t>& S3KeyStream::listed_by_bucket() { return tally_->counts(); }

StatusOr<std::span<const Entry>> S3KeyStream::next_batch() {
  if (latched_) return *latched_;
  if (ended_) return std::span<const Entry>();
  if (stop_source_.stop_requested()) {
    latched_ = cancelled_error("listing cancelled");
    return *latched_;
  }
  auto result = walk_->pop(stop_source_.get_token());
  if (!result.ok()) {
    latched_ = result.status();
  } else if (result->empty()) {
    ended_ = true;
  } else {
    yielded_ += result->size();
    for (const Entry& entry : *result) tally_->add(entry.bucket);
  }
  return result;
}

}  // namespace s3reconcile
