// ReadAhead: one thread for every job of a walk, results in order, and a
// destructor that waits for the job in flight.
#include "s3reconcile/read_ahead.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

namespace s3reconcile {
namespace {

long kernel_tid() { return static_cast<long>(::syscall(SYS_gettid)); }

TEST(ReadAhead, EveryJobRunsOnOneThreadAndItsResultIsTakenInOrder) {
  ReadAhead<int> ahead;
  std::set<long> threads;
  EXPECT_FALSE(ahead.pending());
  for (int page = 0; page < 200; ++page) {
    ahead.start([&threads, page] {
      threads.insert(kernel_tid());  // one job at a time: no lock needed
      return page * 10;
    });
    EXPECT_TRUE(ahead.pending());
    EXPECT_EQ(ahead.take(), page * 10);
    EXPECT_FALSE(ahead.pending());
  }
  EXPECT_EQ(threads.size(), 1u) << "a thread per job";
  EXPECT_EQ(threads.count(kernel_tid()), 0u) << "the jobs ran on the caller's thread";
}

TEST(ReadAhead, NoThreadIsStartedBeforeTheFirstJob) {
  const auto threads_now = [] {
    std::size_t n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/task"); it != std::filesystem::directory_iterator();
         ++it) {
      ++n;
    }
    return n;
  };
  const std::size_t before = threads_now();
  {
    ReadAhead<int> unused;
    // At most: a thread left by another test may end meanwhile, never start.
    EXPECT_LE(threads_now(), before);
  }
  EXPECT_LE(threads_now(), before);
}

TEST(ReadAhead, TheDestructorWaitsForTheJobInFlight) {
  std::atomic<bool> finished{false};
  {
    ReadAhead<int> ahead;
    ahead.start([&finished] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      finished = true;
      return 1;
    });
    // Not taken: the destructor must still wait, the job uses what outlives it only.
  }
  EXPECT_TRUE(finished.load());
}

TEST(ReadAhead, WaitLeavesTheResultToTake) {
  ReadAhead<int> ahead;
  ahead.start([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return 7;
  });
  ahead.wait();
  EXPECT_TRUE(ahead.pending());
  EXPECT_EQ(ahead.take(), 7);
}

}  // namespace
}  // namespace s3reconcile
