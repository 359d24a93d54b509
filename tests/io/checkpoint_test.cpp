// Checkpoints: round trip (outputs, next Adam step, training state), exact resume, a model saved
// from the GPU loads on the CPU, and clear errors for another configuration, another version,
// truncated, foreign and missing files.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "autodiff/ops.hpp"
#include "io/checkpoint.hpp"
#include "io/h5file.hpp"
#include "tests/gpu_required.hpp"

namespace lensflow::nn {
namespace {

namespace fs = std::filesystem;

std::string tmp_path(const std::string& name) {
  return std::string(LENSFLOW_BINARY_DIR) + "/nn_ckpt_" + std::to_string(::getpid()) + "_" + name + ".h5";
}

struct Cleanup {
  std::vector<std::string> paths;
  ~Cleanup() {
    for (auto& p : paths) std::remove(p.c_str());
  }
};

PosteriorConfig cfg() {
  PosteriorConfig c = PosteriorConfig::tiny(16, 3);
  c.init_seed = 11;
  return c;
}

// A deterministic batch drawn from `gen` (so resumed runs see the same data).
void batch(ad::Generator& gen, ad::Tensor& x, ad::Tensor& th) {
  x = ad::randn({8, 16, 1}, gen);
  th = ad::randn({8, 3}, gen);
}

void train_steps(PosteriorModel& m, Adam& adam, ad::Generator& gen, int n) {
  for (int i = 0; i < n; ++i) {
    ad::Tensor x, th;
    batch(gen, x, th);
    adam.zero_grad();
    ad::backward(m.loss(x, th));
    adam.step();
  }
}

void expect_same_params(const PosteriorModel& a, const PosteriorModel& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i)
    ASSERT_EQ(pa[i].second.to_f32(), pb[i].second.to_f32()) << pa[i].first;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(Checkpoint, RoundTripGivesIdenticalOutputsAndNextStep) {
  Cleanup c;
  const std::string path = tmp_path("roundtrip");
  c.paths.push_back(path);
  PosteriorModel a(cfg());
  Adam adam_a(a.parameters());
  ad::Generator gen(5);
  train_steps(a, adam_a, gen, 3);
  io::TrainState st;
  st.epoch = 2;
  st.step = 3;
  st.total_steps = 100;
  st.lr0 = 2e-3;
  st.best_val_loss = 1.25;
  st.rngs = {{5, gen.offset()}, {0xFFFFFFFFFFFFFFF0ull, 7}};
  st.history = {3.0, 2.5, 2.25};
  io::save_checkpoint(path, a, &adam_a, st);

  EXPECT_EQ(io::read_checkpoint_config(path), a.config());
  PosteriorConfig file_cfg = io::read_checkpoint_config(path);
  PosteriorModel b(file_cfg);
  Adam adam_b(b.parameters());
  io::TrainState st_b;
  io::load_checkpoint(path, b, &adam_b, &st_b);
  expect_same_params(a, b);
  EXPECT_EQ(adam_b.step_count(), 3);
  EXPECT_EQ(st_b.epoch, 2);
  EXPECT_EQ(st_b.step, 3);
  EXPECT_EQ(st_b.total_steps, 100);
  EXPECT_EQ(st_b.lr0, 2e-3);
  EXPECT_EQ(st_b.best_val_loss, 1.25);
  ASSERT_EQ(st_b.rngs.size(), 2u);
  EXPECT_EQ(st_b.rngs[1].seed, 0xFFFFFFFFFFFFFFF0ull);
  EXPECT_EQ(st_b.rngs[0].offset, gen.offset());
  EXPECT_EQ(st_b.history, st.history);

  ad::Generator g0(9), g1(10), g2(10);
  ad::Tensor x, th;
  batch(g0, x, th);
  {
    ad::NoGradGuard ng;
    EXPECT_EQ(a.log_prob(x, th).to_f32(), b.log_prob(x, th).to_f32());
    ad::Generator s1(3), s2(3);
    EXPECT_EQ(a.sample(x, 4, s1).to_f32(), b.sample(x, 4, s2).to_f32());
  }
  train_steps(a, adam_a, g1, 1);
  train_steps(b, adam_b, g2, 1);
  expect_same_params(a, b);
}

TEST(Checkpoint, ResumeIsExact) {
  Cleanup c;
  const std::string path = tmp_path("resume");
  c.paths.push_back(path);
  PosteriorModel straight(cfg());
  Adam adam_s(straight.parameters());
  ad::Generator gs(21);
  train_steps(straight, adam_s, gs, 6);

  {
    PosteriorModel first(cfg());
    Adam adam_f(first.parameters());
    ad::Generator gf(21);
    train_steps(first, adam_f, gf, 3);
    io::TrainState st;
    st.step = 3;
    st.rngs = {{gf.seed(), gf.offset()}};
    io::save_checkpoint(path, first, &adam_f, st);
  }  // "interrupted"
  PosteriorModel resumed(io::read_checkpoint_config(path));
  Adam adam_r(resumed.parameters());
  io::TrainState st;
  io::load_checkpoint(path, resumed, &adam_r, &st);
  ad::Generator gr(st.rngs.at(0).seed);
  gr.set_offset(st.rngs.at(0).offset);
  train_steps(resumed, adam_r, gr, 3);
  expect_same_params(straight, resumed);
}

TEST(Checkpoint, OtherConfigurationIsRejectedByName) {
  Cleanup c;
  const std::string path = tmp_path("config");
  c.paths.push_back(path);
  PosteriorModel a(cfg());
  io::save_checkpoint(path, a, nullptr, io::TrainState{});
  PosteriorConfig other = cfg();
  other.flow.hidden = 20;
  PosteriorModel b(other);
  const auto before = b.named_parameters().front().second.to_f32();
  const std::string e = error_of([&] { io::load_checkpoint(path, b); });
  EXPECT_NE(e.find("flow.hidden"), std::string::npos) << e;
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_EQ(b.named_parameters().front().second.to_f32(), before);  // untouched
  // Asking for optimizer state from a file saved without it.
  PosteriorModel same(cfg());
  Adam adam(same.parameters());
  EXPECT_NE(error_of([&] { io::load_checkpoint(path, same, &adam); }).find("no optimizer state"),
            std::string::npos);
}

TEST(Checkpoint, WrongVersionForeignTruncatedAndMissingFiles) {
  Cleanup c;
  const std::string good = tmp_path("good"), ver = tmp_path("version"), foreign = tmp_path("foreign"),
                    trunc = tmp_path("trunc"), garbage = tmp_path("garbage");
  c.paths = {good, ver, foreign, trunc, garbage};
  PosteriorModel m(cfg());
  Adam adam(m.parameters());
  io::save_checkpoint(good, m, &adam, io::TrainState{});

  {  // a checkpoint-looking file of a future version
    io::H5Writer w(ver);
    const float one = 1.f;
    w.write("params/x", &one, {1});
    w.attr("/", "format", std::string("lensflow-checkpoint"));
    w.attr("/", "format_version", int64_t{99});
    w.commit();
  }
  EXPECT_NE(error_of([&] { io::load_checkpoint(ver, m); }).find("format version 99"), std::string::npos)
      << error_of([&] { io::load_checkpoint(ver, m); });

  {  // valid HDF5, not a checkpoint
    io::H5Writer w(foreign);
    const double v[2] = {1, 2};
    w.write("data", v, {2});
    w.commit();
  }
  EXPECT_NE(error_of([&] { io::read_checkpoint_config(foreign); }).find("not a lensflow checkpoint"),
            std::string::npos);

  // Truncated copy of a real checkpoint.
  fs::copy_file(good, trunc, fs::copy_options::overwrite_existing);
  fs::resize_file(trunc, fs::file_size(good) / 2);
  const std::string et = error_of([&] { io::load_checkpoint(trunc, m, &adam); });
  EXPECT_FALSE(et.empty());
  EXPECT_NE(et.find(trunc), std::string::npos) << et;

  { std::ofstream(garbage) << "this is not HDF5 at all"; }
  EXPECT_FALSE(error_of([&] { io::load_checkpoint(garbage, m); }).empty());
  EXPECT_FALSE(error_of([&] { io::load_checkpoint(tmp_path("does_not_exist"), m); }).empty());
  // After all the failures the good file still loads.
  EXPECT_NO_THROW(io::load_checkpoint(good, m, &adam));
}

TEST(Checkpoint, AModelSavedFromTheDeviceLoadsOnTheHost) {
  LENSFLOW_SKIP_WITHOUT_GPU(ad::cuda_available()) << "no CUDA build or no CUDA device: not checked";
  const PosteriorConfig cfg = PosteriorConfig::tiny(32, 4);
  PosteriorModel gpu(cfg);
  gpu.to(ad::Device::CUDA);
  Adam adam(gpu.parameters());
  const std::string path = tmp_path("from_device");
  io::save_checkpoint(path, gpu, &adam, io::TrainState{});
  PosteriorModel back(cfg);
  io::load_checkpoint(path, back, nullptr);
  std::remove(path.c_str());
  const auto pb = back.named_parameters(), pg = gpu.named_parameters();
  for (size_t i = 0; i < pb.size(); ++i)
    EXPECT_EQ(pb[i].second.to_f32(), pg[i].second.to_f32()) << pb[i].first;
}

}  // namespace
}  // namespace lensflow::nn
