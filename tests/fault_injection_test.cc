// Fault injection: random faults at random points of real passes (the S3
// backend against a faulty fake server, the SQLite store), checking after
// each that the pass failed clearly and that no row of an existing object
// was lost. Each test prints how many trials it ran.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "fakes.h"
#include "s3reconcile/local_backend.h"
#include "s3reconcile/reconcile.h"
#include "s3reconcile/s3_backend.h"
#include "s3reconcile/sqlite_store.h"
#include "support/fake_s3.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;
using testing::FakeS3Bucket;
using testing::KeySet;
using testing::TempDir;

const Clock::time_point kOld = Clock::now() - std::chrono::hours(24);

KeySet index_keys(IndexStore& store, const std::string& backend) {
  KeySet out;
  auto rows = list_rows_by_storage_key(store, backend, RowPosition{"", std::nullopt}, 1000000, KeyRange{});
  EXPECT_TRUE(rows.ok()) << rows.status().to_string();
  if (rows.ok())
    for (const auto& r : *rows) out.insert(r.object_key);
  return out;
}

enum class ListingFault { kReset, kServerError, kTruncatedXml, kMalformedXml, kHang, kOutOfOrder };

const char* name(ListingFault f) {
  switch (f) {
    case ListingFault::kReset:
      return "connection reset";
    case ListingFault::kServerError:
      return "500 after retries";
    case ListingFault::kTruncatedXml:
      return "truncated XML";
    case ListingFault::kMalformedXml:
      return "malformed XML";
    case ListingFault::kHang:
      return "hung request";
    case ListingFault::kOutOfOrder:
      return "page out of order";
  }
  return "?";
}

TEST(FaultInjection, ListingFaultsAtRandomPagesLoseNoRow) {
  std::mt19937 rng(4242);
  const std::vector<ListingFault> faults = {ListingFault::kReset,        ListingFault::kServerError,
                                            ListingFault::kTruncatedXml, ListingFault::kMalformedXml,
                                            ListingFault::kHang,         ListingFault::kOutOfOrder};
  int trials = 0;
  std::map<std::string, int> per_fault;
  for (int trial = 0; trial < 60; ++trial) {
    const ListingFault fault = faults[trial % faults.size()];
    FakeS3Bucket bucket;
    TempDir dir;
    auto store = open_sqlite_store(SqliteStoreOptions{(dir.path() / "index.db").string()});
    ASSERT_TRUE(store.ok());
    std::uniform_int_distribution<int> coin(0, 3);
    KeySet must_keep;  // rows whose objects exist
    for (int i = 0; i < 60; ++i) {
      const std::string key = fmt::format("b/{:03}", i);
      const int c = coin(rng);
      if (c != 0) bucket.objects[key] = 1;
      if (c != 1) {
        ASSERT_TRUE((*store)->insert_if_absent("s3", testing::entry(key), kOld).ok());
      }
      if (c >= 2) must_keep.insert(key);
    }
    // The one walk of the backend reads this many pages of 7; the fault hits one after the first.
    const int pages = static_cast<int>((bucket.objects.size() + 6) / 7);
    ASSERT_GE(pages, 2);
    const int fault_page = std::uniform_int_distribution<int>(1, pages - 1)(rng);
    std::atomic<int> page{0};
    FakeHttpServer server([&](const FakeRequest& r) {
      if (r.method == "HEAD") return bucket.handle(r);
      FakeResponse response = bucket.handle(r);
      if (page.fetch_add(1) < fault_page) return response;
      switch (fault) {
        case ListingFault::kReset:
          return FakeResponse{200, "", {}, false, true};
        case ListingFault::kServerError:
          return FakeResponse{500, "<Error><Code>InternalError</Code></Error>", {}};
        case ListingFault::kTruncatedXml:
          response.body.resize(response.body.size() * 2 / 3);
          return response;
        case ListingFault::kMalformedXml:
          response.body.replace(response.body.size() / 2, 3, "<<<");
          return response;
        case ListingFault::kHang:
          return FakeResponse{200, "", {}, true};
        case ListingFault::kOutOfOrder: {
          const auto first = response.body.find("<Key>");
          response.body.insert(first + 5, "b/000");  // a key sorting before everything listed so far
          return response;
        }
      }
      return response;
    });
    S3BackendOptions o = testing::fake_s3_options(server, 7);
    o.max_attempts = 2;
    o.request_timeout = std::chrono::milliseconds(150);
    auto backend = S3Backend::open(o);
    ASSERT_TRUE(backend.ok());
    BackendRef ref{"s3", backend->get(), backend->get(), {"b"}, true};
    PassOptions options;
    options.page_size = 5;
    options.batch_size = 1 + trial % 4;
    options.logger = std::make_shared<spdlog::logger>("quiet");
    Result r = reconcile_backend(ref, {"b"}, **store, options, PassScope{"b"});
    ASSERT_FALSE(r.status.ok()) << name(fault) << " at page " << fault_page << " went unnoticed";
    EXPECT_NE(r.status.message().find(fault == ListingFault::kOutOfOrder ? "ascending" : "page"), std::string::npos)
        << name(fault) << ": " << r.status.message();
    const KeySet after = index_keys(**store, "s3");
    for (const auto& key : must_keep) {
      ASSERT_TRUE(after.count(key)) << name(fault) << " at page " << fault_page << ": row of existing object " << key
                                    << " was lost";
    }
    ++trials;
    ++per_fault[name(fault)];
  }
  std::cout << "listing fault trials: " << trials;
  for (const auto& [f, n] : per_fault) std::cout << ", " << f << " " << n;
  std::cout << "\n";
}

TEST(FaultInjection, SqliteLockedAtARandomMomentLosesNoRow) {
  std::mt19937 rng(99);
  int trials = 0, failed_passes = 0;
  for (int trial = 0; trial < 30; ++trial) {
    TempDir dir;
    const std::string db = (dir.path() / "index.db").string();
    auto store = open_sqlite_store(SqliteStoreOptions{db, std::chrono::milliseconds(20)});
    ASSERT_TRUE(store.ok());
    KeySet existing;
    for (int i = 0; i < 200; ++i) {
      const std::string key = fmt::format("b/{:03}", i);
      if (i % 3 != 0) {
        dir.write("objs/" + key);
        existing.insert(key);
      }
      if (i % 3 != 1) {
        ASSERT_TRUE((*store)->insert_if_absent("disk", testing::entry(key), kOld).ok());
      }
    }
    // Another connection takes an exclusive lock after a random number of
    // index pages and holds it past the busy timeout.
    const int lock_after = std::uniform_int_distribution<int>(0, 6)(rng);
    class LockingStore final : public testing::ForwardingStore {
     public:
      LockingStore(IndexStore& inner, std::string path, int after)
          : ForwardingStore(inner), path_(std::move(path)), after_(after) {}
      ~LockingStore() override {
        if (other_) {
          sqlite3_exec(other_, "ROLLBACK", nullptr, nullptr, nullptr);
          sqlite3_close(other_);
        }
      }
      Status list_by_storage_key(std::string_view b, const RowPosition& a, std::size_t l, const KeyRange& r,
                                 std::vector<IndexRow>& rows) override {
        if (calls_++ == after_) {
          sqlite3_open(path_.c_str(), &other_);
          sqlite3_exec(other_, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr);
        }
        return inner_.list_by_storage_key(b, a, l, r, rows);
      }

     private:
      std::string path_;
      int after_;
      int calls_ = 0;
      sqlite3* other_ = nullptr;
    };
    Result r;
    {
      LockingStore locking(**store, db, lock_after);
      LocalBackend local({(dir.path() / "objs").string(), 16});
      BackendRef ref{"disk", &local, &local, {"b"}, true};
      PassOptions options;
      options.page_size = 16;
      options.batch_size = 8;
      options.logger = std::make_shared<spdlog::logger>("quiet");
      r = reconcile_backend(ref, {"b"}, locking, options, PassScope{"b"});
    }
    if (!r.status.ok()) {
      ++failed_passes;
      EXPECT_EQ(r.status.code(), StatusCode::kUnavailable) << r.status.to_string();
      EXPECT_NE(r.status.message().find("locked"), std::string::npos) << r.status.message();
    }
    const KeySet after = index_keys(**store, "disk");
    for (const auto& key : existing) {
      const bool had_row = (std::stoi(key.substr(2)) % 3) != 1;
      if (had_row) {
        ASSERT_TRUE(after.count(key)) << "row of existing object " << key << " was lost";
      }
    }
    // The next pass, unhindered, converges exactly.
    LocalBackend local({(dir.path() / "objs").string(), 16});
    BackendRef ref{"disk", &local, &local, {"b"}, true};
    PassOptions options;
    options.logger = std::make_shared<spdlog::logger>("quiet");
    Result again = reconcile_backend(ref, {"b"}, **store, options, PassScope{"b"});
    ASSERT_TRUE(again.status.ok()) << again.status.to_string();
    ASSERT_EQ(index_keys(**store, "disk"), existing);
    ++trials;
  }
  std::cout << "sqlite lock trials: " << trials << " (" << failed_passes << " passes failed on the lock)\n";
  EXPECT_GT(failed_passes, 0) << "the lock never hit a pass: the test is not testing anything";
}

// Starts the tool on `config` in a child process; returns its pid.
pid_t start_tool(const std::string& config) {
  const pid_t child = ::fork();
  if (child == 0) {
    if (!::freopen("/dev/null", "w", stdout) || !::freopen("/dev/null", "w", stderr)) ::_exit(126);
    ::execl(S3R_BINARY, S3R_BINARY, "run", "--config", config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return child;
}

TEST(FaultInjection, KilledMidPassLeavesWholeBatchesAndTheNextPassConverges) {
  constexpr int kFiles = 20000, kBatch = 100;
  TempDir objects;
  for (int i = 0; i < kFiles; ++i) objects.write(fmt::format("bkt/{:05}", i));
  auto config_in = [&](const TempDir& dir) {
    std::ofstream(dir.path() / "config.yaml") << "store: {sqlite: index.db}\nbuckets: [bkt]\nbackends:\n"
                                                 "  - {name: disk, type: local, path: "
                                              << objects.str()
                                              << "}\n"
                                                 "reconcile: {batch_size: "
                                              << kBatch << "}\n";
    return (dir.path() / "config.yaml").string();
  };
  // How long an uninterrupted pass takes here, so kills land inside one.
  std::chrono::microseconds whole{0};
  {
    TempDir dir;
    const auto began = std::chrono::steady_clock::now();
    const pid_t child = start_tool(config_in(dir));
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the uninterrupted pass failed";
    whole = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - began);
  }
  std::mt19937 rng(7);
  int trials = 0, killed = 0, killed_mid_pass = 0;
  // At least 12 trials, and more (up to 40) until three kills landed with
  // part of the pass written: the case this test is about.
  for (int trial = 0; trial < 40 && (trial < 12 || killed_mid_pass < 3); ++trial) {
    TempDir dir;
    const pid_t child = start_tool(config_in(dir));
    ASSERT_GT(child, 0);
    std::uniform_int_distribution<long> at(whole.count() / 10, whole.count());
    std::this_thread::sleep_for(std::chrono::microseconds(at(rng)));  // the random fault point
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ++killed;  // else it had finished first
    auto store = open_sqlite_store(SqliteStoreOptions{(dir.path() / "index.db").string()});
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    const auto rows = index_keys(**store, "disk").size();
    // Batches are transactions: a kill leaves whole batches, never part of one.
    EXPECT_TRUE(rows % kBatch == 0 || rows == kFiles) << rows << " rows after the kill";
    if (rows > 0 && rows < kFiles) ++killed_mid_pass;
    LocalBackend local({objects.str(), 1000});
    BackendRef ref{"disk", &local, &local, {"bkt"}, true};
    PassOptions options;
    options.logger = std::make_shared<spdlog::logger>("quiet");
    Result again = reconcile_backend(ref, {"bkt"}, **store, options, PassScope{"bkt"});
    ASSERT_TRUE(again.status.ok()) << again.status.to_string();
    EXPECT_EQ(again.imported + rows, static_cast<std::uint64_t>(kFiles));
    EXPECT_EQ(index_keys(**store, "disk").size(), static_cast<std::size_t>(kFiles));
    ++trials;
  }
  std::cout << "kill trials: " << trials << " (" << killed << " killed, " << killed_mid_pass
            << " with part of the pass written; a whole pass takes " << whole.count() / 1000 << " ms)\n";
  EXPECT_GE(killed_mid_pass, 3) << "too few kills landed mid-pass: the test did not test whole batches";
  EXPECT_GE(killed, killed_mid_pass);
}

// Remembers when each "absent" answer was asked for.
class TimedProber final : public ObjectProber {
 public:
  explicit TimedProber(ObjectProber& inner) : inner_(inner) {}
  StatusOr<std::optional<ObjectInfo>> probe(std::string_view key, std::stop_token stop) override {
    const auto asked = std::chrono::steady_clock::now();
    auto answer = inner_.probe(key, stop);
    if (answer.ok() && !answer->has_value()) {
      std::lock_guard lock(mu_);
      absent_asked_at_[std::string(key)] = asked;
    }
    return answer;
  }
  std::map<std::string, std::chrono::steady_clock::time_point> absent_asked_at() {
    std::lock_guard lock(mu_);
    return absent_asked_at_;
  }

 private:
  ObjectProber& inner_;
  std::mutex mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> absent_asked_at_;
};

TEST(FaultInjection, ConcurrentWriterNeverLosesTheRowOfAnExistingObject) {
  int trials = 0, raced_total = 0, removed_total = 0, written_back_total = 0, writer_ops_total = 0;
  for (int trial = 0; trial < 10; ++trial) {
    TempDir dir;
    auto store = open_sqlite_store(SqliteStoreOptions{(dir.path() / "index.db").string()});
    ASSERT_TRUE(store.ok());
    constexpr int kKeys = 1500;
    for (int i = 0; i < kKeys; ++i) {
      const std::string key = fmt::format("b/{:04}", i);
      if (i % 3 != 0) dir.write("objs/" + key);
      if (i % 3 != 1) {
        ASSERT_TRUE((*store)->insert_if_absent("disk", testing::entry(key), kOld).ok());
      }
    }
    // The writer, like the service that owns the index: brings back objects
    // whose rows look stale, deletes objects with their rows, writes new
    // objects with their rows. Every object it finishes writing is timed.
    std::map<std::string, std::chrono::steady_clock::time_point> written_at;
    std::atomic<bool> pass_done{false};
    std::atomic<int> writer_ops{0};
    std::thread writer([&] {
      auto writer_store = open_sqlite_store(SqliteStoreOptions{(dir.path() / "index.db").string()});
      std::mt19937 rng(static_cast<unsigned>(trial));
      for (int op = 0; op < 600 && !pass_done.load(); ++op) {
        const int i = std::uniform_int_distribution<int>(0, kKeys - 1)(rng);
        const std::string key = fmt::format("b/{:04}", i);
        if (i % 3 == 0) {
          dir.write("objs/" + key);  // an object comes back under a row that looked stale
          written_at[key] = std::chrono::steady_clock::now();
        } else if (i % 3 == 2 && op % 2 == 0) {
          std::filesystem::remove(dir.path() / "objs" / key);  // a deletion: object, then row
          written_at.erase(key);
          (*writer_store)
              ->remove_if_created_before("disk", key, Clock::now() + std::chrono::hours(1))
              .status()
              .ignore_error();
        } else {
          const std::string fresh = fmt::format("b/new-{:04}-{}", i, op);
          dir.write("objs/" + fresh);
          (*writer_store)->insert_if_absent("disk", testing::entry(fresh), Clock::now()).status().ignore_error();
        }
        ++writer_ops;
        std::this_thread::yield();
      }
    });
    LocalBackend local({(dir.path() / "objs").string(), 10});
    TimedProber prober(local);
    BackendRef ref{"disk", &local, &prober, {"b"}, true};
    PassOptions options;
    options.page_size = 10;
    options.queue_size = 4;
    options.batch_size = 16;
    options.logger = std::make_shared<spdlog::logger>("quiet");
    std::vector<std::string> removed;
    options.on_change = [&](ChangeAction action, const Entry& e) {
      if (action == ChangeAction::kRemove) removed.push_back(e.key);
      return ok_status();
    };
    Result r = reconcile_backend(ref, {"b"}, **store, options, PassScope{"b"});
    pass_done = true;
    writer.join();
    // SQLite may be busy under the writer; a failed pass is fine, a lost row is not.
    EXPECT_TRUE(r.status.ok() || r.status.code() == StatusCode::kUnavailable) << r.status.to_string();
    const auto asked = prober.absent_asked_at();
    for (const auto& key : removed) {
      // Every removal follows a probe that found the object absent...
      ASSERT_TRUE(asked.count(key)) << key << " removed without a probe";
      auto w = written_at.find(key);
      if (w == written_at.end()) continue;  // never written back: the removal was right
      // ...and an object written back was written after that probe.
      ++written_back_total;
      EXPECT_GT(w->second, asked.at(key)) << key << " was on disk before the probe, yet its row was removed";
    }
    raced_total += static_cast<int>(r.raced);
    removed_total += static_cast<int>(removed.size());
    writer_ops_total += writer_ops.load();
    ++trials;
  }
  std::cout << "concurrent writer trials: " << trials << " (" << writer_ops_total << " writes, " << removed_total
            << " rows removed, " << raced_total << " rows kept because their object came back, " << written_back_total
            << " removed rows whose object came back after the probe)\n";
  // The faults must have fired: the writer wrote while passes ran, some rows
  // were removed (and checked against their probes), some races were seen.
  EXPECT_GT(writer_ops_total, 0);
  EXPECT_GT(removed_total, 0) << "no pass removed anything: the probe-before-removal check saw nothing";
  EXPECT_GT(raced_total, 0) << "no object ever came back during a pass: the race was never tested";
}

}  // namespace
}  // namespace s3reconcile
