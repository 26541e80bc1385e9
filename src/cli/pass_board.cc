#include "cli/pass_board.h"

#include <algorithm>

#include "s3reconcile/pass_records.h"

namespace s3reconcile::cli {

// Follows the passes of one run: each count goes to the board's copy of the
// pass in flight and to the metrics.
class PassBoard::Watcher final : public PassWatcher, public LiveCounts {
 public:
  Watcher(PassBoard& board, std::string run_id) : board_(board), run_id_(std::move(run_id)) {}

  LiveCounts* pass_started(const PassRecord& record) override {
    metrics_counts_ = board_.metrics_ ? board_.metrics_->pass_started(record.backend) : nullptr;
    MutexLock lock(board_.mu_);
    if (BoardRun* run = board_.run_of(run_id_); run != nullptr) {
      BoardPass pass;
      pass.pass_id = record.pass_id;
      pass.backend = record.backend;
      pass.bucket = record.bucket;
      pass.paths = record.paths;
      pass.started_at = record.started_at;
      run->passes.push_back(std::move(pass));
      pass_index_ = run->passes.size() - 1;
    }
    return this;
  }

  void pass_joined(const std::string& pass_id) override {
    MutexLock lock(board_.mu_);
    if (BoardPass* pass = current(); pass != nullptr) pass->pass_id = pass_id;
  }

  void pass_ended(const PassRecord& record, const Result& result) override {
    if (board_.metrics_) board_.metrics_->pass_ended(record.backend, result);
    metrics_counts_ = nullptr;
    MutexLock lock(board_.mu_);
    if (BoardPass* pass = current(); pass != nullptr) {
      if (!result.pass_id.empty()) pass->pass_id = result.pass_id;
      pass->state = std::string(pass_outcome(result.status));
      pass->finished_at = Clock::now();
      pass->error = result.status.ok() ? "" : result.status.to_string();
      pass->counts = result.totals();  // the pass's own word, whatever was seen on the way
    }
    pass_index_.reset();
  }

  void add(std::string_view bucket, std::uint64_t PassCounts::*field, std::uint64_t n) override {
    if (metrics_counts_ != nullptr) metrics_counts_->add(bucket, field, n);
    MutexLock lock(board_.mu_);
    if (BoardPass* pass = current(); pass != nullptr) pass->counts.*field += n;
  }

 private:
  BoardPass* current() S3R_REQUIRES(board_.mu_) {
    BoardRun* run = board_.run_of(run_id_);
    if (run == nullptr || !pass_index_ || *pass_index_ >= run->passes.size()) return nullptr;
    return &run->passes[*pass_index_];
  }

  PassBoard& board_;
  const std::string run_id_;
  // Set on the thread running the passes, one pass at a time.
  LiveCounts* metrics_counts_ = nullptr;
  std::optional<std::size_t> pass_index_;
};

PassBoard::~PassBoard() = default;

BoardRun* PassBoard::run_of(const std::string& id) {
  for (auto& run : runs_) {
    if (run.id == id) return &run;
  }
  return nullptr;
}

std::string PassBoard::add_run(std::string kind, bool dry_run, PassSelection selection) {
  BoardRun run;
  run.id = new_pass_id();
  run.kind = std::move(kind);
  run.dry_run = dry_run;
  run.selection = std::move(selection);
  run.requested_at = Clock::now();
  MutexLock lock(mu_);
  runs_.push_back(run);
  // The oldest ended runs make room; one still running is never dropped.
  while (runs_.size() > keep_) {
    auto ended = std::find_if(runs_.begin(), runs_.end(), [](const BoardRun& r) { return r.finished_at.has_value(); });
    if (ended == runs_.end()) break;
    runs_.erase(ended);
  }
  return run.id;
}

std::unique_ptr<PassWatcher> PassBoard::watch(const std::string& id) { return std::make_unique<Watcher>(*this, id); }

void PassBoard::run_started(const std::string& id) {
  MutexLock lock(mu_);
  if (BoardRun* run = run_of(id); run != nullptr) run->state = "running";
}

void PassBoard::run_ended(const std::string& id, const PassRun& result) {
  if (!result.setup.ok() && metrics_ != nullptr) metrics_->round_failed();
  MutexLock lock(mu_);
  if (BoardRun* run = run_of(id); run != nullptr) {
    run->state = result.setup.ok() ? "done" : "failed";
    run->error = result.setup.ok() ? "" : result.setup.to_string();
    run->finished_at = Clock::now();
  }
  cv_.notify_all();
}

std::optional<BoardRun> PassBoard::find(const std::string& id) const {
  MutexLock lock(mu_);
  for (const auto& run : runs_) {
    if (run.id == id) return run;
    for (const auto& pass : run.passes) {
      if (pass.pass_id == id) return run;
    }
  }
  return std::nullopt;
}

std::vector<BoardRun> PassBoard::runs() const {
  MutexLock lock(mu_);
  return {runs_.begin(), runs_.end()};
}

std::vector<BoardPass> PassBoard::in_flight() const {
  MutexLock lock(mu_);
  std::vector<BoardPass> out;
  for (const auto& run : runs_) {
    for (const auto& pass : run.passes) {
      if (!pass.finished_at) out.push_back(pass);
    }
  }
  return out;
}

bool PassBoard::wait_for_end(const std::string& id, std::chrono::milliseconds timeout) const {
  MutexLock lock(mu_);
  auto ended = [&]() S3R_REQUIRES(mu_) {
    for (const auto& run : runs_) {
      if (run.id == id) return run.finished_at.has_value();
    }
    return true;  // gone
  };
  return lock.wait_for(cv_, timeout, ended);
}

bool PassBoard::try_claim(const std::string& backend) {
  MutexLock lock(mu_);
  return claimed_.insert(backend).second;
}

void PassBoard::release(const std::string& backend) {
  MutexLock lock(mu_);
  claimed_.erase(backend);
}

std::optional<std::string> PassBoard::try_claim_all(const std::vector<std::string>& backends) {
  MutexLock lock(mu_);
  for (const auto& b : backends) {
    if (claimed_.count(b) != 0) return b;
  }
  claimed_.insert(backends.begin(), backends.end());
  return std::nullopt;
}

void PassBoard::release_all(const std::vector<std::string>& backends) {
  MutexLock lock(mu_);
  for (const auto& b : backends) claimed_.erase(b);
}

}  // namespace s3reconcile::cli
