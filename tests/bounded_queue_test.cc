// BoundedQueue's batch consumer: woken once a whole batch is queued, or for
// fewer when the producer flushes or closes.
#include "engine/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace s3reconcile::internal {
namespace {

TEST(BoundedQueue, PopBatchWaitsForAWholeBatch) {
  BoundedQueue<int> queue(16);
  std::vector<int> taken;
  std::atomic<bool> returned{false};
  std::thread consumer([&] {
    auto got = queue.pop_batch(taken, 4);
    EXPECT_TRUE(got.ok() && *got);
    returned = true;
  });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(queue.push(i, {}));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(returned) << "woken before its batch was whole";
  ASSERT_TRUE(queue.push(3, {}));
  consumer.join();
  EXPECT_EQ(taken, (std::vector<int>{0, 1, 2, 3}));
}

TEST(BoundedQueue, AFlushLetsAPartialBatchGo) {
  BoundedQueue<int> queue(16);
  std::vector<int> taken;
  std::thread consumer([&] {
    auto got = queue.pop_batch(taken, 4);
    EXPECT_TRUE(got.ok() && *got);
  });
  ASSERT_TRUE(queue.push(7, {}));
  ASSERT_TRUE(queue.push(8, {}));
  queue.flush();
  consumer.join();
  EXPECT_EQ(taken, (std::vector<int>{7, 8}));
}

TEST(BoundedQueue, ACloseHandsOverTheRestInBatchesThenEnds) {
  BoundedQueue<int> queue(16);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(queue.push(i, {}));
  queue.close(ok_status());
  std::vector<int> taken;
  auto first = queue.pop_batch(taken, 4);
  ASSERT_TRUE(first.ok() && *first);
  EXPECT_EQ(taken, (std::vector<int>{0, 1, 2, 3}));
  auto second = queue.pop_batch(taken, 4);
  ASSERT_TRUE(second.ok() && *second);
  EXPECT_EQ(taken, (std::vector<int>{4}));
  auto end = queue.pop_batch(taken, 4);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
  EXPECT_TRUE(taken.empty());
}

TEST(BoundedQueue, ACloseWithAnErrorReachesABatchConsumer) {
  BoundedQueue<int> queue(16);
  ASSERT_TRUE(queue.push(1, {}));
  queue.close(unavailable_error("listing failed"));
  std::vector<int> taken;
  auto got = queue.pop_batch(taken, 4);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
}

TEST(BoundedQueue, ABatchLargerThanTheQueueIsTakenOnceTheQueueIsFull) {
  BoundedQueue<int> queue(3);
  std::vector<int> taken;
  std::thread consumer([&] {
    auto got = queue.pop_batch(taken, 8);
    EXPECT_TRUE(got.ok() && *got);
  });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(queue.push(i, {}));
  consumer.join();
  EXPECT_EQ(taken, (std::vector<int>{0, 1, 2}));
}

}  // namespace
}  // namespace s3reconcile::internal
