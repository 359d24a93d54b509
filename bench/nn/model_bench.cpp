// bench/nn/model_bench.cpp — the posterior model at paper size (nn/posterior_model.hpp): forward and
// forward+backward of the featurizer, of the flow's log-density and of the whole training loss,
// a full training step (loss, backward, clipping, Adam), posterior sampling throughput, checkpoint
// save/load, and peak memory.
// Usage: bench_model_bench [--device cpu|cuda] [--batch B] [--flow-batch N] [--obs O]
//                          [--samples S] [--threads T] [--min-seconds s] [--keep-checkpoint PATH]
//                          [--no-torch]
// Defaults: CPU batch 4, 4 x 1000 samples; CUDA batch 512 (the paper's), 100 x 1000 samples.
// Prints a markdown table and "RESULT name value unit" lines. When PyTorch is importable it runs
// bench/nn/torch_model_ref.py (the same network in PyTorch) at the same sizes and prints ratios.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "autodiff/ops.hpp"
#include "bench/bench_util.hpp"
#include "core/thread_pool.hpp"
#include "io/checkpoint.hpp"
#include "kernels/device.hpp"
#include "nn/adam.hpp"
#include "nn/grad_clip.hpp"
#include "nn/posterior_model.hpp"

using namespace lensflow;
using ad::Device;
using ad::Tensor;

namespace {

struct Options {
  Device device = Device::CPU;
  int64_t batch = 0;         // light curves per featurizer / model batch (0: device default)
  int64_t flow_batch = 512;  // (theta, h) rows for the flow alone
  int64_t obs = 0;           // observations sampled together (0: device default)
  int64_t samples = 1000;    // posterior samples per observation
  int threads = 0;
  double min_seconds = 1.0;
  std::string keep_checkpoint;
  bool torch = true;
};

std::map<std::string, double> g_ms;  // row name -> ms, for the PyTorch ratios

void sync(Device d) {
  if (d == Device::CUDA) kernels::device_synchronize();
}

// Median milliseconds of f (at least 3 repeats, until min_seconds), after one warm-up call.
double time_ms(const Options& o, const std::function<void()>& f) {
  std::vector<double> ms = lensflow::bench_util::sample_ms(o.min_seconds, 100, f, [&] { sync(o.device); });
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

void row(const char* what, const std::string& shape, double ms, const std::string& extra = "") {
  g_ms[what] = ms;
  std::printf("| %-34s | %-22s | %10.2f | %-24s |\n", what, shape.c_str(), ms, extra.c_str());
  std::fflush(stdout);
}

std::string shape_str(std::initializer_list<int64_t> d) {
  std::string s = "[";
  for (auto v : d) s += (s.size() > 1 ? "," : "") + std::to_string(v);
  return s + "]";
}

// "training step (loss+clip+Adam)" -> "training_step_loss_clip_adam".
std::string slug(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      r += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!r.empty() && r.back() != '_')
      r += '_';
  }
  while (!r.empty() && r.back() == '_') r.pop_back();
  return r;
}

// Runs bench/nn/torch_model_ref.py at the same sizes; returns its rows (name -> ms).
std::map<std::string, double> torch_reference(const Options& o) {
  std::map<std::string, double> rows;
  std::string dir = __FILE__;
  dir = dir.substr(0, dir.find_last_of('/'));  // bench/nn
  if (std::system("python3 -c 'import torch' >/dev/null 2>&1") != 0) return rows;
  const std::string cmd = "python3 " + dir + "/torch_model_ref.py --device " +
                          (o.device == Device::CUDA ? "cuda" : "cpu") + " --batch " +
                          std::to_string(o.batch) + " --flow-batch " + std::to_string(o.flow_batch) +
                          " --obs " + std::to_string(o.obs) + " --samples " +
                          std::to_string(o.samples) + " --threads " +
                          std::to_string(core::num_threads()) + " --min-seconds " +
                          std::to_string(o.min_seconds) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return rows;
  std::printf("\nPyTorch reference (%s):\n", cmd.c_str());
  char line[512];
  while (std::fgets(line, sizeof line, p)) {
    std::fputs(line, stdout);
    char name[64], shape[64];
    double ms;
    if (std::sscanf(line, "| %63[^|]| %63[^|]| %lf |", name, shape, &ms) == 3) {
      std::string n = name;
      n.erase(n.find_last_not_of(' ') + 1);
      rows[n] = ms;
    }
  }
  pclose(p);
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return lensflow::bench_util::option_value(argc, argv, i); };
    if (a == "--device") o.device = next() == "cuda" ? Device::CUDA : Device::CPU;
    else if (a == "--batch") o.batch = std::stoll(next());
    else if (a == "--flow-batch") o.flow_batch = std::stoll(next());
    else if (a == "--obs") o.obs = std::stoll(next());
    else if (a == "--samples") o.samples = std::stoll(next());
    else if (a == "--threads") o.threads = std::stoi(next());
    else if (a == "--min-seconds") o.min_seconds = std::stod(next());
    else if (a == "--keep-checkpoint") o.keep_checkpoint = next();
    else if (a == "--no-torch") o.torch = false;
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (o.device == Device::CUDA && !kernels::cuda_device_available()) {
    std::fprintf(stderr, "no CUDA device available\n");
    return 1;
  }
  const bool cuda = o.device == Device::CUDA;
  if (o.batch <= 0) o.batch = cuda ? 512 : 4;
  if (o.obs <= 0) o.obs = cuda ? 100 : 4;
  core::set_num_threads(o.threads);
  const nn::PosteriorConfig cfg = nn::PosteriorConfig::paper();
  nn::PosteriorModel model(cfg);
  model.to(o.device);
  const int64_t B = o.batch, N = o.flow_batch, L = cfg.featurizer.length, D = cfg.flow.dim,
                C = cfg.flow.context;
  std::printf("device %s, threads %d, paper-size model (%lld parameters)\n\n",
              o.device == Device::CUDA ? "CUDA" : "CPU", core::num_threads(),
              (long long)model.num_parameters());
  std::printf("| %-34s | %-22s | %10s | %-24s |\n", "what", "shape", "ms", "throughput");
  std::printf("|%s|%s|%s|%s|\n", std::string(36, '-').c_str(), std::string(24, '-').c_str(),
              std::string(12, '-').c_str(), std::string(26, '-').c_str());

  ad::Generator gen(1);
  const Tensor x = ad::randn({B, L, 1}, gen, o.device);
  const Tensor theta = ad::randn({B, D}, gen, o.device);
  const Tensor h = ad::randn({N, C}, gen, o.device);
  const Tensor th_n = ad::randn({N, D}, gen, o.device);
  char buf[64];

  double ms = time_ms(o, [&] {
    ad::NoGradGuard ng;
    model.features(x).to_f32();
  });
  std::snprintf(buf, sizeof buf, "%.1f curves/s", B / (ms / 1e3));
  row("featurizer forward", shape_str({B, L, 1}), ms, buf);
  ms = time_ms(o, [&] {
    model.zero_grad();
    ad::backward(ad::sum(model.features(x)));
  });
  std::snprintf(buf, sizeof buf, "%.1f curves/s", B / (ms / 1e3));
  row("featurizer forward+backward", shape_str({B, L, 1}), ms, buf);

  ms = time_ms(o, [&] {
    ad::NoGradGuard ng;
    model.flow().log_prob(th_n, h).to_f32();
  });
  std::snprintf(buf, sizeof buf, "%.0f rows/s", N / (ms / 1e3));
  row("flow log_prob forward", shape_str({N, D}), ms, buf);
  ms = time_ms(o, [&] {
    model.zero_grad();
    ad::backward(ad::mean(model.flow().log_prob(th_n, h)));
  });
  std::snprintf(buf, sizeof buf, "%.0f rows/s", N / (ms / 1e3));
  row("flow log_prob forward+backward", shape_str({N, D}), ms, buf);

  ms = time_ms(o, [&] {
    model.zero_grad();
    ad::backward(model.loss(x, theta));
  });
  std::snprintf(buf, sizeof buf, "%.1f curves/s", B / (ms / 1e3));
  row("training loss forward+backward", shape_str({B, L, 1}), ms, buf);

  nn::Adam adam(model.parameters());
  model.zero_grad();
  ad::backward(model.loss(x, theta));
  ms = time_ms(o, [&] { adam.step(); });
  row("Adam step (all parameters)", std::to_string(model.num_parameters()), ms);

  ms = time_ms(o, [&] {
    adam.zero_grad();
    ad::backward(model.loss(x, theta));
    nn::clip_grad_norm(adam.params(), 10.0);
    adam.step();
  });
  std::snprintf(buf, sizeof buf, "%.1f curves/s", B / (ms / 1e3));
  row("training step (loss+clip+Adam)", shape_str({B, L, 1}), ms, buf);

  const Tensor hs = ad::randn({o.obs, C}, gen, o.device);
  ms = time_ms(o, [&] { model.flow().sample(hs, o.samples, gen).to_f32(); });
  std::snprintf(buf, sizeof buf, "%.0f samples/s", o.obs * o.samples / (ms / 1e3));
  row("flow sampling", shape_str({o.obs, o.samples, D}), ms, buf);

  const std::string path = o.keep_checkpoint.empty()
                               ? "/tmp/lensflow_model_bench_" + std::to_string(::getpid()) + ".h5"
                               : o.keep_checkpoint;
  ms = time_ms(o, [&] { io::save_checkpoint(path, model, &adam, io::TrainState{}); });
  std::snprintf(buf, sizeof buf, "%.1f MB file", std::filesystem::file_size(path) / 1e6);
  row("checkpoint save (model + Adam)", "", ms, buf);
  ms = time_ms(o, [&] { io::load_checkpoint(path, model, &adam); });
  row("checkpoint load (model + Adam)", "", ms);
  if (o.keep_checkpoint.empty()) std::filesystem::remove(path);

  const char* dev = cuda ? "cuda" : "cpu";
  std::printf("\n");
  for (const auto& [name, v] : g_ms) std::printf("RESULT model_%s_%s %.3f ms\n", dev, slug(name).c_str(), v);
  std::printf("RESULT model_%s_samples_per_s %.1f samples/s\n", dev,
              o.obs * o.samples / (g_ms["flow sampling"] / 1e3));
  std::printf("RESULT model_%s_training_step_batch %lld curves\n", dev, (long long)B);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("RESULT model_%s_peak_host_rss %.1f MiB\n", dev, ru.ru_maxrss / 1024.0);
  if (cuda)
    std::printf("RESULT model_cuda_peak_pool_memory %.1f MiB\n",
                double(kernels::device_pool_stats().peak) / (1 << 20));
  if (o.torch) {
    const auto ref = torch_reference(o);
    if (ref.empty()) std::printf("\n(PyTorch not importable: no reference ratios)\n");
    for (const auto& [name, t] : ref)
      if (g_ms.count(name) && t > 0)
        std::printf("RESULT model_%s_%s_vs_torch %.3f x\n", dev, slug(name).c_str(), g_ms[name] / t);
  }
  return 0;
}
