// bench/kernels/machine_bench.cpp — the machine's sgemm rate (1 and all threads) and memory
// bandwidth: the floors against which bench_train_bench --profile sets each stage's time.
// Usage: bench_machine_bench [--n N] [--stream-mib M] [--repeat R]
#include <cstdio>
#include <string>

#include "bench/kernels/machine_rates.hpp"
#include "core/thread_pool.hpp"

using namespace lensflow;

int main(int argc, char** argv) {
  int64_t n = 1536, stream_mib = 256;
  int repeat = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--n") n = std::stoll(bench_util::option_value(argc, argv, i));
    else if (a == "--stream-mib") stream_mib = std::stoll(bench_util::option_value(argc, argv, i));
    else if (a == "--repeat") repeat = std::stoi(bench_util::option_value(argc, argv, i));
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const int all = [] { core::set_num_threads(0); return core::num_threads(); }();
  for (int t : {1, all}) {
    core::set_num_threads(t);
    const double g = bench_util::sgemm_gflops(n, repeat);
    const auto bw = bench_util::stream_gbs(stream_mib * (1 << 20) / 4, repeat);
    std::printf("%d thread(s): sgemm %lldx%lldx%lld %.1f GFLOP/s; copy %.1f GB/s, triad %.1f GB/s\n", t,
                static_cast<long long>(n), static_cast<long long>(n), static_cast<long long>(n), g,
                bw.copy_gbs, bw.triad_gbs);
    std::printf("RESULT sgemm_gflops_t%d %.1f GFLOP/s\n", t, g);
    std::printf("RESULT stream_copy_t%d %.1f GB/s\n", t, bw.copy_gbs);
    std::printf("RESULT stream_triad_t%d %.1f GB/s\n", t, bw.triad_gbs);
    if (t == all) break;
  }
  return 0;
}
