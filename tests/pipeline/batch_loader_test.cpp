// The batch loader: batches are a pure function of (seed, epoch, batch index) — independent of the
// prefetch depth and of where an epoch starts — and producer errors reach the consumer.
#include "pipeline/batch_loader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "synthetic_source.hpp"

using namespace lensflow::pipeline;
using lensflow::testing::SyntheticSource;

namespace {
std::vector<Batch> all_batches(BatchLoader& l, int64_t epoch, int64_t first = 0) {
  l.start_epoch(epoch, first);
  std::vector<Batch> v;
  Batch b;
  while (l.next(b)) v.push_back(b);
  return v;
}
}  // namespace

TEST(EpochOrder, IsAPermutationThatChangesWithEpochAndSeed) {
  auto a = epoch_order(100, 7, 0), b = epoch_order(100, 7, 1), c = epoch_order(100, 8, 0);
  auto s = a;
  std::sort(s.begin(), s.end());
  for (int i = 0; i < 100; ++i) ASSERT_EQ(s[i], i);
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a, epoch_order(100, 7, 0));
}

TEST(BatchLoader, SameBatchesForAnyDepthAndStartingPoint) {
  SyntheticSource src(103, 8, 1);
  EXPECT_EQ(batches_per_epoch(103, 10), 10);  // incomplete last batch dropped
  EXPECT_EQ(batches_per_epoch(5, 10), 1);     // fewer samples than a batch: one batch of all
  BatchLoader d1(src, 10, 3, 1), d4(src, 10, 3, 4);
  const auto a = all_batches(d1, 2), b = all_batches(d4, 2);
  ASSERT_EQ(a.size(), 10u);
  ASSERT_EQ(b.size(), 10u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].index, int64_t(i));
    EXPECT_EQ(a[i].x, b[i].x);
    EXPECT_EQ(a[i].theta, b[i].theta);
  }
  const auto tail = all_batches(d1, 2, 6);
  ASSERT_EQ(tail.size(), 4u);
  EXPECT_EQ(tail[0].x, a[6].x);
  EXPECT_EQ(tail[3].theta, a[9].theta);
  // Another epoch: another order and other noise.
  EXPECT_NE(all_batches(d1, 3)[0].x, a[0].x);
  // Restarting mid-way through an unfinished epoch is allowed (the old producer is stopped).
  d4.start_epoch(0);
  Batch first;
  ASSERT_TRUE(d4.next(first));
  EXPECT_EQ(all_batches(d4, 2)[0].x, a[0].x);
  EXPECT_THROW(d4.start_epoch(0, 11), std::invalid_argument);
}

namespace {
class FailingSource : public SyntheticSource {
 public:
  FailingSource() : SyntheticSource(40, 4, 2) {}
  void realize(const int64_t* pos, int64_t n, uint64_t epoch, float* x, float* th) const override {
    for (int64_t i = 0; i < n; ++i)
      if (pos[i] == 17) throw std::runtime_error("sample 17 is unreadable");
    SyntheticSource::realize(pos, n, epoch, x, th);
  }
};
}  // namespace

TEST(BatchLoader, ProducerErrorsReachTheConsumer) {
  FailingSource src;
  BatchLoader l(src, 4, 0, 2);
  l.start_epoch(0);
  Batch b;
  try {
    while (l.next(b)) {
    }
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("sample 17"), std::string::npos);
  }
}
