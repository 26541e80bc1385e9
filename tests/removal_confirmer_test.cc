// The removal confirmer's worker asks about whole batches of candidates:
// a drain (a checkpoint of a shared pass) and the end take a partial one.
#include "engine/removal_confirmer.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

namespace s3reconcile::internal {
namespace {

class RemovalConfirmerTest : public ::testing::Test {
 protected:
  RemovalConfirmer::Ask ask() {
    return [this](std::span<const RemovalCandidate> candidates) {
      std::lock_guard lock(mu_);
      batches_.push_back(candidates.size());
      return std::vector<RemovalConfirmer::Answer>(candidates.size(), std::optional<ObjectInfo>());
    };
  }
  RemovalConfirmer::Decide decide() {
    return [this](const RemovalCandidate& c, RemovalConfirmer::Answer) {
      std::lock_guard lock(mu_);
      decided_.push_back(c.entry.key);
      return ok_status();
    };
  }
  static RemovalCandidate candidate(int i) {
    RemovalCandidate c;
    c.entry.key = "b/k" + std::to_string(i);
    return c;
  }
  std::vector<std::size_t> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::size_t decided() {
    std::lock_guard lock(mu_);
    return decided_.size();
  }

  std::mutex mu_;
  std::vector<std::size_t> batches_;
  std::vector<std::string> decided_;
};

TEST_F(RemovalConfirmerTest, ADrainAsksAboutAPartialBatchAtOnce) {
  RemovalConfirmer confirmer(4, true, ask(), decide(), {});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(confirmer.submit(candidate(i)).ok());
  ASSERT_TRUE(confirmer.drain().ok());
  EXPECT_EQ(decided(), 3u);
  EXPECT_EQ(batches(), (std::vector<std::size_t>{3}));
  for (int i = 3; i < 12; ++i) ASSERT_TRUE(confirmer.submit(candidate(i)).ok());
  ASSERT_TRUE(confirmer.finish().ok());
  EXPECT_EQ(decided(), 12u);
  EXPECT_EQ(batches(), (std::vector<std::size_t>{3, 4, 4, 1})) << "whole batches, and the rest at the end";
}

TEST_F(RemovalConfirmerTest, WorkersAskingOneEachTakeCandidatesOneByOne) {
  RemovalConfirmer confirmer(3, false, ask(), decide(), {});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(confirmer.submit(candidate(i)).ok());
  ASSERT_TRUE(confirmer.drain().ok());
  EXPECT_EQ(batches(), (std::vector<std::size_t>(5, 1)));
  ASSERT_TRUE(confirmer.finish().ok());
}

}  // namespace
}  // namespace s3reconcile::internal
