// bench_data_parallel_bench — data-parallel training's costs (docs/mpi.md), run alone or under
// `mpirun -n R`: the time of one step (loss forward + backward + gradient all-reduce + clip + Adam)
// at a global batch, and the time of the gradient all-reduce alone (pipeline/grad_allreduce: the
// model's gradients packed, summed over the processes, unpacked). Prints RESULT lines from rank 0.
//
//   [mpirun -n R] bench_data_parallel_bench [--config small|paper] [--batch B] [--steps S]
//                                           [--threads T] [--reduces K] [--device cpu|cuda]
// Inputs are random light curves (the realization's cost is the training set's business, not the
// exchange's); the batch is the global one, split as the trainer splits it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "core/hash.hpp"
#include "core/thread_pool.hpp"
#include "dist/comm.hpp"
#include "kernels/device.hpp"
#include "nn/adam.hpp"
#include "pipeline/grad_allreduce.hpp"
#include "pipeline/model_configs.hpp"
#include "pipeline/trainer.hpp"

using namespace lensflow;

namespace {

// Light-curve-like inputs keyed by (position, epoch) only, as the trainer requires of a source.
class NoiseSource : public pipeline::SampleSource {
 public:
  NoiseSource(int64_t n, int64_t length, int64_t dim) : n_(n), L_(length), D_(dim) {}
  int64_t size() const override { return n_; }
  int64_t length() const override { return L_; }
  int64_t channels() const override { return 1; }
  int64_t dim() const override { return D_; }
  void realize(const int64_t* pos, int64_t n, uint64_t epoch, float* x, float* theta) const override {
    for (int64_t i = 0; i < n; ++i) {
      const uint64_t key = core::splitmix64(uint64_t(pos[i]) * 0x9E3779B97F4A7C15ull + epoch);
      for (int64_t j = 0; j < L_; ++j)
        x[i * L_ + j] = float(core::splitmix64(key + uint64_t(j)) >> 40) * 0x1.0p-24f - 0.5f;
      for (int64_t d = 0; d < D_; ++d)
        theta[i * D_ + d] = float(core::splitmix64(key ^ (0xABCDull + uint64_t(d))) >> 40) * 0x1.0p-24f - 0.5f;
    }
  }

 private:
  int64_t n_, L_, D_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const dist::Environment mpi(&argc, &argv);
  const dist::Comm& comm = dist::world();
  std::string config = "small";
  int64_t batch = 8, steps = 6, reduces = 20;
  int threads = 1;
  std::string device = "cpu";
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    const char* v = bench_util::option_value(argc, argv, i);
    if (k == "--config") config = v;
    else if (k == "--batch") batch = std::atoll(v);
    else if (k == "--steps") steps = std::atoll(v);
    else if (k == "--threads") threads = std::atoi(v);
    else if (k == "--reduces") reduces = std::atoll(v);
    else if (k == "--device") device = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  core::set_num_threads(threads);
  const ad::Device dev = device == "cuda" ? ad::Device::CUDA : ad::Device::CPU;
  if (dev == ad::Device::CUDA && !ad::cuda_available()) {
    std::printf("no CUDA device: skipping\n");
    return 0;
  }
  const nn::PosteriorConfig cfg = pipeline::named_model_config(config);
  NoiseSource src(batch * (steps + 1), cfg.featurizer.length, cfg.flow.dim);

  // Steps: the trainer itself, one epoch of steps + 1 batches; the first step (warm-up) is dropped.
  pipeline::TrainerOptions o;
  o.epochs = 1;
  o.batch_size = batch;
  o.prefetch = 2;
  o.device = dev;
  const std::string dir = "/tmp/lensflow_dp_bench_" + std::to_string(comm.size());
  if (comm.is_root()) std::system(("rm -rf " + dir).c_str());
  comm.barrier();
  pipeline::Trainer t(cfg, src, nullptr, o, dir);
  std::vector<double> at;
  t.run([&](const pipeline::StepInfo& s) { at.push_back(s.seconds); });
  std::vector<double> step_s;
  for (size_t k = 2; k < at.size(); ++k) step_s.push_back(at[k] - at[k - 1]);

  // The all-reduce alone, on the model's gradients (every parameter's gradient set).
  nn::PosteriorModel model(cfg);
  model.to(dev);
  auto params = model.parameters();
  for (auto& p : params) p.set_grad(ad::Tensor::full(p.shape(), 1e-3, ad::DType::F32, dev));
  std::vector<double> reduce_ms;
  for (int64_t k = 0; k < reduces + 1; ++k) {
    comm.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    pipeline::allreduce_gradients(params, comm);
    if (dev == ad::Device::CUDA) kernels::device_synchronize();
    double ms = 1e3 * bench_util::seconds_since(t0);
    comm.allreduce_max(&ms, 1);
    if (k > 0) reduce_ms.push_back(ms);
  }
  double step = median(step_s);
  comm.allreduce_max(&step, 1);
  if (comm.is_root()) {
    std::printf("RESULT data_parallel device=%s config=%s parameters=%lld ranks=%d threads_per_rank=%d "
                "global_batch=%lld step_s=%.4f allreduce_ms=%.2f comm_share=%.4f\n",
                device.c_str(), config.c_str(), static_cast<long long>(model.num_parameters()), comm.size(), threads,
                static_cast<long long>(batch), step, median(reduce_ms),
                comm.size() > 1 ? median(reduce_ms) / (1e3 * step) : 0.0);
    std::system(("rm -rf " + dir).c_str());
  }
  return 0;
}
