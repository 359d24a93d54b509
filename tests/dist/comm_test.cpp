// dist/: how items are shared among processes, messages packed and read back (and refused when
// truncated or misread), a single process's collectives leave the data alone, and — under
// `mpirun -n 2` — the collectives against sums, maxima and values known in advance, and the work
// counter handing out every number exactly once.
#include "dist/comm.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "dist/pack.hpp"
#include "tests/mpi_env.hpp"

using namespace lensflow;

TEST(Share, RangesTileTheItemsInOrderWithSizesWithinOne) {
  for (int64_t n : {0, 1, 5, 7, 64, 1001})
    for (int size : {1, 2, 3, 7}) {
      int64_t next = 0, lo_size = n, hi_size = 0;
      for (int r = 0; r < size; ++r) {
        const dist::Range g = dist::share(n, r, size);
        EXPECT_EQ(g.lo, next) << n << " " << size << " " << r;
        next = g.hi;
        lo_size = std::min(lo_size, g.size());
        hi_size = std::max(hi_size, g.size());
      }
      EXPECT_EQ(next, n);
      EXPECT_LE(hi_size - lo_size, 1);
    }
  EXPECT_THROW(dist::share(4, 2, 2), std::invalid_argument);
  EXPECT_THROW(dist::share(4, 0, 0), std::invalid_argument);
}

TEST(Pack, RoundTripsAndRefusesTruncatedOrMisreadMessages) {
  dist::Packer p;
  const std::vector<double> a = {1.5, -2.0, 1e300};
  const std::vector<int64_t> b = {7, -9};
  const std::vector<float> empty;
  p.put(a).put(b).put(empty).put(std::string("name"));
  const std::vector<char> bytes = p.bytes();
  dist::Unpacker u(bytes);
  EXPECT_EQ(u.get<double>(), a);
  EXPECT_EQ(u.get<int64_t>(), b);
  EXPECT_TRUE(u.get<float>().empty());
  EXPECT_EQ(u.get_string(), "name");
  EXPECT_TRUE(u.done());
  dist::Unpacker wrong(bytes);
  EXPECT_THROW(wrong.get<float>(), std::runtime_error);  // doubles read as floats
  const std::vector<char> cut(bytes.begin(), bytes.begin() + 20);
  dist::Unpacker truncated(cut);
  EXPECT_THROW(truncated.get<double>(), std::runtime_error);
}

TEST(Comm, SelfIsOneProcessWhoseCollectivesLeaveTheDataAlone) {
  const dist::Comm& c = dist::self();
  EXPECT_EQ(c.size(), 1);
  EXPECT_EQ(c.rank(), 0);
  std::vector<float> f = {1.0f, 2.0f};
  std::vector<double> d = {3.0};
  int64_t i = 4;
  c.allreduce_sum(f.data(), f.size());
  c.allreduce_sum(d.data(), d.size());
  c.allreduce_sum(&i, 1);
  c.allreduce_max(d.data(), 1);
  EXPECT_EQ(f, (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(d[0], 3.0);
  EXPECT_EQ(i, 4);
  std::vector<char> bytes = {'x'};
  c.broadcast(bytes, 0);
  EXPECT_EQ(bytes, std::vector<char>{'x'});
  EXPECT_TRUE(c.device_allreduce());  // nothing to exchange
}

TEST(Comm, AllReduceSumsAndMaximaOverTheProcesses) {
  LENSFLOW_REQUIRE_RANKS();
  const dist::Comm& c = dist::world();
  const int R = c.size(), r = c.rank();
  // A float array longer than one piece would be in real use is not needed: the values are
  // integers, so every order of summation gives the exact sum R(R+1)/2 · (k+1).
  std::vector<float> f(1000);
  for (size_t k = 0; k < f.size(); ++k) f[k] = float((r + 1) * int(k + 1));
  c.allreduce_sum(f.data(), f.size());
  for (size_t k = 0; k < f.size(); ++k) ASSERT_EQ(f[k], float(R * (R + 1) / 2 * int(k + 1))) << k;
  int64_t counts[2] = {r, 1};
  c.allreduce_sum(counts, 2);
  EXPECT_EQ(counts[0], int64_t(R) * (R - 1) / 2);
  EXPECT_EQ(counts[1], R);
  double m[2] = {double(r), -double(r)};
  c.allreduce_max(m, 2);
  EXPECT_EQ(m[0], double(R - 1));
  EXPECT_EQ(m[1], 0.0);
}

TEST(Comm, BroadcastAndPointToPointCarryWholeMessages) {
  LENSFLOW_REQUIRE_RANKS();
  const dist::Comm& c = dist::world();
  std::vector<char> b;
  if (c.is_root()) b.assign(100000, 'a');
  c.broadcast(b, 0);
  EXPECT_EQ(b, std::vector<char>(100000, 'a'));
  // Every other rank sends rank 0 a message of its own length and content.
  if (c.is_root()) {
    for (int src = 1; src < c.size(); ++src) {
      const std::vector<char> got = c.recv(src, 3);
      EXPECT_EQ(got, std::vector<char>(size_t(src) * 7, char('0' + src)));
    }
  } else {
    c.send(std::vector<char>(size_t(c.rank()) * 7, char('0' + c.rank())), 0, 3);
  }
  c.barrier();
}

TEST(WorkCounter, HandsOutEachNumberToExactlyOneProcess) {
  const dist::Comm& c = dist::world();
  std::vector<int64_t> mine;
  {
    dist::WorkCounter counter(c);
    for (int64_t k; (k = counter.next()) < 200;) mine.push_back(k);
  }
  EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));  // each process sees increasing numbers
  if (c.size() == 1) {
    ASSERT_EQ(mine.size(), 200u);
    for (int64_t k = 0; k < 200; ++k) EXPECT_EQ(mine[size_t(k)], k);
    return;
  }
  if (c.is_root()) {
    std::vector<int> seen(200, 0);
    for (int64_t k : mine) ++seen[size_t(k)];
    for (int src = 1; src < c.size(); ++src) {
      const std::vector<char> b = c.recv(src, 4);
      dist::Unpacker u(b);
      for (int64_t k : u.get<int64_t>()) ++seen[size_t(k)];
    }
    for (int k = 0; k < 200; ++k) EXPECT_EQ(seen[size_t(k)], 1) << k;
  } else {
    dist::Packer p;
    p.put(mine);
    c.send(p.bytes(), 0, 4);
  }
  c.barrier();
}
