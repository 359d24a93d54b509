// bench/kernels/ops_bench.cpp — per-op forward and forward+backward times at the paper's shapes,
// and the whole ResNet-GRU featurizer (nn/featurizer.hpp), on the CPU (default) or CUDA.
// Usage: bench_ops_bench [--device cpu|cuda] [--batch B] [--flow-batch N] [--threads T]
//                        [--min-seconds S] [--no-torch]
// Defaults: CUDA with featurizer batch 512 when a GPU is present, else CPU with batch 8.
// Prints a markdown table and "RESULT name value unit" lines. When PyTorch is importable it runs
// bench/kernels/torch_ops_ref.py on the same device and shapes and prints lensflow/PyTorch time ratios.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "autodiff/ops.hpp"
#include "bench/bench_util.hpp"
#include "core/thread_pool.hpp"
#include "kernels/device.hpp"
#include "nn/featurizer.hpp"

using namespace lensflow;
using ad::Device;
using ad::Tensor;

namespace {

struct Options {
  Device device = Device::CPU;
  int64_t batch = 0;         // light curves per featurizer batch (0: 512 on CUDA, 8 on CPU)
  bool torch = true;
  int64_t flow_batch = 512;  // rows for the flow-side ops
  int threads = 0;
  double min_seconds = 0.5;
};

void sync(Device d) {
  if (d == Device::CUDA) kernels::device_synchronize();
}

// Best (minimum) milliseconds of f over repeats (at least 3, until min_seconds): the least
// disturbed run on a shared machine.
double time_ms(const Options& o, const std::function<void()>& f) {
  const std::vector<double> ms = lensflow::bench_util::sample_ms(o.min_seconds, 200, f, [&] { sync(o.device); });
  return *std::min_element(ms.begin(), ms.end());
}

Tensor input(const ad::Shape& s, ad::Generator& g, const Options& o, bool grad) {
  Tensor t = ad::randn(s, g, o.device);
  if (grad) t.set_requires_grad(true);
  return t;
}

struct Row {
  std::string name;
  double fwd, fb;
};
std::vector<Row> g_rows;

std::string slug(const std::string& name) {
  std::string r;
  for (char c : name) r += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return r;
}

// Forward time under NoGradGuard, and forward+backward time of sum(f(inputs)).
void bench(const Options& o, const std::string& name, const std::string& shape,
           const std::vector<Tensor>& inputs,
           const std::function<Tensor(const std::vector<Tensor>&)>& f) {
  const double fwd = time_ms(o, [&] {
    ad::NoGradGuard ng;
    f(inputs);
  });
  std::vector<Tensor> leaves = inputs;
  const double fb = time_ms(o, [&] {
    for (Tensor& t : leaves)
      if (t.defined()) t.zero_grad();
    ad::backward(ad::sum(f(leaves)));
  });
  std::printf("| %-22s | %-34s | %10.3f | %12.3f |\n", name.c_str(), shape.c_str(), fwd, fb);
  std::fflush(stdout);
  g_rows.push_back({name, fwd, fb});
}

// Runs bench/kernels/torch_ops_ref.py (next to this source) with the same settings; returns its rows.
std::vector<Row> torch_reference(const Options& o) {
  std::vector<Row> rows;
  std::string dir = __FILE__;
  dir = dir.substr(0, dir.find_last_of('/'));  // bench/kernels
  if (std::system("python3 -c 'import torch' >/dev/null 2>&1") != 0) return rows;
  const std::string cmd = "python3 " + dir + "/torch_ops_ref.py --device " +
                          (o.device == Device::CUDA ? "cuda" : "cpu") + " --batch " +
                          std::to_string(o.batch) + " --flow-batch " +
                          std::to_string(o.flow_batch) + " --threads " +
                          std::to_string(core::num_threads()) + " --min-seconds " +
                          std::to_string(o.min_seconds) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return rows;
  char line[512];
  std::printf("\nPyTorch reference (%s):\n", cmd.c_str());
  while (std::fgets(line, sizeof line, p)) {
    std::fputs(line, stdout);
    char name[64], shape[64];
    double a, b;
    if (std::sscanf(line, "| %63[^|]| %63[^|]| %lf | %lf |", name, shape, &a, &b) == 4) {
      std::string n = name;
      n.erase(n.find_last_not_of(' ') + 1);
      rows.push_back({n, a, b});
    }
  }
  pclose(p);
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool device_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return lensflow::bench_util::option_value(argc, argv, i); };
    if (a == "--device") {
      const std::string d = next();
      o.device = d == "cuda" ? Device::CUDA : Device::CPU;
      device_given = true;
    } else if (a == "--batch") {
      o.batch = std::stoll(next());
    } else if (a == "--flow-batch") {
      o.flow_batch = std::stoll(next());
    } else if (a == "--threads") {
      o.threads = std::stoi(next());
    } else if (a == "--no-torch") {
      o.torch = false;
    } else if (a == "--min-seconds") {
      o.min_seconds = std::stod(next());
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (!device_given && ad::cuda_available()) o.device = Device::CUDA;
  if (o.batch <= 0) o.batch = o.device == Device::CUDA ? 512 : 8;
  if (o.device == Device::CUDA && !ad::cuda_available()) {
    std::fprintf(stderr, "no CUDA device\n");
    return 1;
  }
  core::set_num_threads(o.threads);
  const int64_t B = o.batch, N = o.flow_batch;
  std::printf("device %s, threads %d, featurizer batch %lld, flow batch %lld\n\n",
              o.device == Device::CUDA ? "CUDA" : "CPU", core::num_threads(), (long long)B,
              (long long)N);
  std::printf("| %-22s | %-34s | %10s | %12s |\n", "op", "shape", "fwd ms", "fwd+bwd ms");
  std::printf("|%s|%s|%s|%s|\n", std::string(24, '-').c_str(), std::string(36, '-').c_str(),
              std::string(12, '-').c_str(), std::string(14, '-').c_str());
  ad::Generator g(1);
  auto S = [](std::initializer_list<int64_t> s) {
    std::string r = "[";
    for (int64_t v : s) r += (r.size() > 1 ? "," : "") + std::to_string(v);
    return r + "]";
  };
  const int64_t L = 7200;
  bench(o, "conv1d 1->32 K3", S({B, L, 1}), {input({B, L, 1}, g, o, true), input({3, 1, 32}, g, o, true), input({32}, g, o, true)},
        [](const std::vector<Tensor>& v) { return ad::conv1d(v[0], v[1], v[2]); });
  bench(o, "conv1d 32->32 K3", S({B, L, 32}), {input({B, L, 32}, g, o, true), input({3, 32, 32}, g, o, true), input({32}, g, o, true)},
        [](const std::vector<Tensor>& v) { return ad::conv1d(v[0], v[1], v[2]); });
  bench(o, "conv1d 128->128 K3", S({B, 900, 128}), {input({B, 900, 128}, g, o, true), input({3, 128, 128}, g, o, true), input({128}, g, o, true)},
        [](const std::vector<Tensor>& v) { return ad::conv1d(v[0], v[1], v[2]); });
  bench(o, "conv1d 256->256 K3", S({B, 112, 256}), {input({B, 112, 256}, g, o, true), input({3, 256, 256}, g, o, true), input({256}, g, o, true)},
        [](const std::vector<Tensor>& v) { return ad::conv1d(v[0], v[1], v[2]); });
  // The fused residual-block stage (conv + layer norm + residual + ReLU, ad::conv1d_ln).
  bench(o, "conv1d_ln 8->8 K3", S({B, L, 8}),
        {input({B, L, 8}, g, o, true), input({3, 8, 8}, g, o, true), input({8}, g, o, true),
         input({8}, g, o, true), input({8}, g, o, true), input({B, L, 8}, g, o, true)},
        [](const std::vector<Tensor>& v) { return ad::conv1d_ln(v[0], v[1], v[2], v[3], v[4], v[5], true); });
  bench(o, "conv1d_ln 32->32 K3", S({B, L, 32}),
        {input({B, L, 32}, g, o, true), input({3, 32, 32}, g, o, true), input({32}, g, o, true),
         input({32}, g, o, true), input({32}, g, o, true), input({B, L, 32}, g, o, true)},
        [](const std::vector<Tensor>& v) { return ad::conv1d_ln(v[0], v[1], v[2], v[3], v[4], v[5], true); });
  bench(o, "conv1d_ln 256->256 K3", S({B, 112, 256}),
        {input({B, 112, 256}, g, o, true), input({3, 256, 256}, g, o, true), input({256}, g, o, true),
         input({256}, g, o, true), input({256}, g, o, true), input({B, 112, 256}, g, o, true)},
        [](const std::vector<Tensor>& v) { return ad::conv1d_ln(v[0], v[1], v[2], v[3], v[4], v[5], true); });
  bench(o, "layer_norm C=32", S({B, L, 32}), {input({B, L, 32}, g, o, true), input({32}, g, o, true), input({32}, g, o, true)},
        [](const std::vector<Tensor>& v) { return ad::layer_norm(v[0], v[1], v[2]); });
  bench(o, "relu", S({B, L, 32}), {input({B, L, 32}, g, o, true)},
        [](const std::vector<Tensor>& v) { return ad::relu(v[0]); });
  bench(o, "add (residual)", S({B, L, 32}), {input({B, L, 32}, g, o, true), input({B, L, 32}, g, o, true)},
        [](const std::vector<Tensor>& v) { return ad::add(v[0], v[1]); });
  bench(o, "maxpool2", S({B, L, 32}), {input({B, L, 32}, g, o, true)},
        [](const std::vector<Tensor>& v) { return ad::maxpool2(v[0]); });
  bench(o, "gru T=56 H=256", S({B, 56, 256}),
        {input({B, 56, 256}, g, o, true), Tensor(), input({768, 256}, g, o, true), input({768, 256}, g, o, true),
         input({768}, g, o, true), input({768}, g, o, true)},
        [](const std::vector<Tensor>& v) { return ad::gru(v[0], v[1], v[2], v[3], v[4], v[5]); });
  const Tensor mask = ad::Tensor::full({256, 256}, 1.0, ad::DType::F32, o.device);
  bench(o, "masked_linear 256->256", S({N, 256}), {input({N, 256}, g, o, true), input({256, 256}, g, o, true), input({256}, g, o, true)},
        [mask](const std::vector<Tensor>& v) { return ad::masked_linear(v[0], v[1], mask, v[2]); });
  bench(o, "mog_logpdf K=8", S({N, 7, 8}),
        {input({N, 7}, g, o, true), input({N, 7, 8}, g, o, true), input({N, 7, 8}, g, o, true), input({N, 7, 8}, g, o, true)},
        [](const std::vector<Tensor>& v) { return ad::mog_logpdf(v[0], v[1], v[2], v[3]); });

  // The whole featurizer (paper configuration).
  nn::FeaturizerConfig cfg;
  ad::Generator gm(2);
  nn::Featurizer feat(cfg, gm);
  if (o.device == Device::CUDA) feat.to(Device::CUDA);
  bench(o, "featurizer (ResNet-GRU)", S({B, L, 1}), {input({B, L, 1}, g, o, false)},
        [&feat](const std::vector<Tensor>& v) { return feat.forward(v[0]); });
  const char* dev = o.device == Device::CUDA ? "cuda" : "cpu";
  std::printf("\n");
  for (const Row& r : g_rows) {
    std::printf("RESULT ops_%s_%s_fwd %.3f ms\n", dev, slug(r.name).c_str(), r.fwd);
    std::printf("RESULT ops_%s_%s_fwdbwd %.3f ms\n", dev, slug(r.name).c_str(), r.fb);
  }
  if (o.device == Device::CUDA) {
    const auto st = kernels::device_pool_stats();
    std::printf("RESULT ops_cuda_peak_pool_memory %.1f MiB\n", double(st.peak) / (1 << 20));
  }
  if (o.torch) {
    const std::vector<Row> ref = torch_reference(o);
    if (ref.empty()) std::printf("\n(PyTorch not importable: no reference ratios)\n");
    for (const Row& t : ref)
      for (const Row& r : g_rows)
        if (r.name == t.name && t.fwd > 0 && t.fb > 0) {
          std::printf("RESULT ops_%s_%s_fwd_vs_torch %.3f x\n", dev, slug(r.name).c_str(),
                      r.fwd / t.fwd);
          std::printf("RESULT ops_%s_%s_fwdbwd_vs_torch %.3f x\n", dev, slug(r.name).c_str(),
                      r.fb / t.fb);
        }
  }
  return 0;
}
