#include "io/checkpoint.hpp"

#include <cmath>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "autodiff/ops.hpp"
#include "io/h5file.hpp"

namespace lensflow::io {

namespace {

constexpr const char* kFormat = "lensflow-checkpoint";

int64_t bits_i64(uint64_t v) {
  int64_t r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}
uint64_t bits_u64(int64_t v) {
  uint64_t r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}

// Every integer config field, by its attribute key (seeds stored bit-cast to int64).
std::vector<std::pair<std::string, int64_t*>> int_fields(nn::PosteriorConfig& c) {
  auto& f = c.featurizer;
  auto& w = c.flow;
  return {{"featurizer.in_channels", &f.in_channels}, {"featurizer.length", &f.length},
          {"featurizer.input_fold", &f.input_fold},
          {"featurizer.n_blocks", &f.n_blocks},       {"featurizer.n_pools", &f.n_pools},
          {"featurizer.base_channels", &f.base_channels},
          {"featurizer.max_channels", &f.max_channels},
          {"featurizer.kernel_size", &f.kernel_size}, {"featurizer.gru_layers", &f.gru_layers},
          {"featurizer.gru_hidden", &f.gru_hidden},   {"featurizer.out_dim", &f.out_dim},
          {"flow.dim", &w.dim},                       {"flow.context", &w.context},
          {"flow.n_blocks", &w.n_blocks},             {"flow.hidden", &w.hidden},
          {"flow.n_hidden", &w.n_hidden},             {"flow.components", &w.components}};
}
std::vector<std::pair<std::string, double*>> real_fields(nn::PosteriorConfig& c) {
  return {{"flow.clamp", &c.flow.clamp}, {"flow.final_scale", &c.flow.final_scale}};
}

std::runtime_error fail(const std::string& path, const std::string& what) {
  return std::runtime_error("checkpoint '" + path + "': " + what);
}

io::Dims dims_of(const ad::Shape& s) { return io::Dims(s.begin(), s.end()); }

void write_tensor(io::H5Writer& w, const std::string& name, const ad::Tensor& t) {
  if (t.dtype() == ad::DType::F64) {
    auto v = t.to_f64();
    w.write(name, v.data(), dims_of(t.shape()));
  } else {
    auto v = t.to_f32();
    w.write(name, v.data(), dims_of(t.shape()));
  }
}

// Reads a dataset of exactly `like`'s shape into a new tensor of like's dtype and device.
ad::Tensor read_tensor(const io::H5Reader& r, const std::string& name, const ad::Tensor& like) {
  if (!r.has(name)) throw fail(r.path(), "missing dataset '" + name + "'");
  const io::Dims d = r.shape(name);
  if (d != dims_of(like.shape())) {
    ad::Shape got(d.begin(), d.end());
    throw fail(r.path(), "dataset '" + name + "' has shape " + ad::to_string(got) +
                             ", the model expects " + ad::to_string(like.shape()));
  }
  // Non-finite values (a diverged or corrupted run) are refused here: loaded, they would turn every
  // posterior and every further training step into NaN.
  const auto require_finite = [&](const auto& v) {
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]))
        throw fail(r.path(), "dataset '" + name + "' holds a non-finite value (" + std::to_string(v[i]) +
                                 ") at index " + std::to_string(i) + "; the file is unusable");
  };
  ad::Tensor t;
  if (like.dtype() == ad::DType::F64) {
    auto v = r.read_f64(name);
    require_finite(v);
    t = ad::Tensor::from_vector(std::move(v), like.shape());
  } else {
    auto v = r.read_f32(name);
    require_finite(v);
    t = ad::Tensor::from_vector(std::move(v), like.shape());
  }
  return t.to(like.device());
}

nn::PosteriorConfig read_config(const io::H5Reader& r) {
  if (!r.has_attr("/", "format") || r.attr_str("/", "format") != kFormat)
    throw fail(r.path(), "not a lensflow checkpoint (no format = \"" + std::string(kFormat) +
                             "\" attribute)");
  const int64_t version = r.attr_i64("/", "format_version");
  if (version != kCheckpointVersion)
    throw fail(r.path(), "format version " + std::to_string(version) + ", this build reads " +
                             std::to_string(kCheckpointVersion));
  nn::PosteriorConfig c;
  for (auto& [key, p] : int_fields(c))  // input_fold came later: files without it have none (1)
    *p = key == "featurizer.input_fold" && !r.has_attr("/", key) ? 1 : r.attr_i64("/", key);
  for (auto& [key, p] : real_fields(c)) *p = r.attr_f64("/", key);
  c.flow.order_seed = bits_u64(r.attr_i64("/", "flow.order_seed"));
  c.init_seed = bits_u64(r.attr_i64("/", "init_seed"));
  return c;
}

std::string config_diff(nn::PosteriorConfig file, nn::PosteriorConfig model) {
  std::ostringstream os;
  auto fi = int_fields(file), mi = int_fields(model);
  for (size_t i = 0; i < fi.size(); ++i)
    if (*fi[i].second != *mi[i].second)
      os << " " << fi[i].first << " (file " << *fi[i].second << ", model " << *mi[i].second << ")";
  auto fr = real_fields(file), mr = real_fields(model);
  for (size_t i = 0; i < fr.size(); ++i)
    if (*fr[i].second != *mr[i].second)
      os << " " << fr[i].first << " (file " << *fr[i].second << ", model " << *mr[i].second << ")";
  if (file.flow.order_seed != model.flow.order_seed)
    os << " flow.order_seed (file " << file.flow.order_seed << ", model " << model.flow.order_seed << ")";
  if (file.init_seed != model.init_seed)
    os << " init_seed (file " << file.init_seed << ", model " << model.init_seed << ")";
  return os.str();
}

std::vector<int64_t> flat_orderings(const nn::ConditionalFlow& flow) {
  std::vector<int64_t> out;
  for (const auto& o : flow.orderings()) out.insert(out.end(), o.begin(), o.end());
  return out;
}

}  // namespace

void save_checkpoint(const std::string& path, const nn::PosteriorModel& model, const nn::Adam* adam,
                     const TrainState& st) {
  nn::PosteriorConfig cfg = model.config();
  io::H5Writer w(path);
  const auto params = model.named_parameters();
  for (const auto& [name, t] : params) write_tensor(w, "params/" + name, t);

  const auto ord = flat_orderings(model.flow());
  w.write("orderings", ord.data(),
          {static_cast<uint64_t>(cfg.flow.n_blocks + 1), static_cast<uint64_t>(cfg.flow.dim)});

  w.attr("/", "format", std::string(kFormat));
  w.attr("/", "format_version", kCheckpointVersion);
  for (auto& [key, p] : int_fields(cfg)) w.attr("/", key, *p);
  for (auto& [key, p] : real_fields(cfg)) w.attr("/", key, *p);
  w.attr("/", "flow.order_seed", bits_i64(cfg.flow.order_seed));
  w.attr("/", "init_seed", bits_i64(cfg.init_seed));

  if (adam) {
    if (adam->params().size() != params.size())
      throw fail(path, "the optimizer holds " + std::to_string(adam->params().size()) +
                           " parameters, the model " + std::to_string(params.size()));
    for (size_t i = 0; i < params.size(); ++i) {
      write_tensor(w, "adam/m/" + params[i].first, adam->first_moments()[i]);
      write_tensor(w, "adam/v/" + params[i].first, adam->second_moments()[i]);
    }
    const auto& o = adam->options();
    w.attr("/", "adam.present", int64_t{1});
    w.attr("/", "adam.step", adam->step_count());
    w.attr("/", "adam.lr", o.lr);
    w.attr("/", "adam.beta1", o.beta1);
    w.attr("/", "adam.beta2", o.beta2);
    w.attr("/", "adam.eps", o.eps);
    w.attr("/", "adam.weight_decay", o.weight_decay);
  } else {
    w.attr("/", "adam.present", int64_t{0});
  }

  w.attr("/", "train.epoch", st.epoch);
  w.attr("/", "train.step", st.step);
  w.attr("/", "train.total_steps", st.total_steps);
  w.attr("/", "train.lr0", st.lr0);
  w.attr("/", "train.lr_min", st.lr_min);
  w.attr("/", "train.best_val_loss", st.best_val_loss);
  if (!st.rngs.empty()) {
    std::vector<int64_t> r;
    for (const auto& g : st.rngs) {
      r.push_back(bits_i64(g.seed));
      r.push_back(bits_i64(g.offset));
    }
    w.write("train/rng", r.data(), {st.rngs.size(), 2});
  }
  if (!st.history.empty()) w.write("train/history", st.history.data(), {st.history.size()});
  w.commit();
}

nn::PosteriorConfig read_checkpoint_config(const std::string& path) {
  try {
    io::H5Reader r(path);
    return read_config(r);
  } catch (const io::H5Error& e) {
    throw fail(path, e.what());
  }
}

void load_checkpoint(const std::string& path, nn::PosteriorModel& model, nn::Adam* adam,
                     TrainState* state) {
  try {
    io::H5Reader r(path);
    const nn::PosteriorConfig file_cfg = read_config(r);
    if (file_cfg != model.config())
      throw fail(path, "configuration differs from the model's:" + config_diff(file_cfg, model.config()));

    const auto params = model.named_parameters();
    // Read and check everything before touching the model.
    std::vector<ad::Tensor> values, m, v;
    for (const auto& [name, t] : params) values.push_back(read_tensor(r, "params/" + name, t));
    const auto want = flat_orderings(model.flow());
    if (!r.has("orderings") || r.read_i64("orderings") != want)
      throw fail(path, "flow orderings differ from the ones this build derives from "
                       "flow.order_seed (or are missing)");

    nn::AdamOptions opt;
    int64_t adam_step = 0;
    if (adam) {
      if (!r.has_attr("/", "adam.present") || r.attr_i64("/", "adam.present") != 1)
        throw fail(path, "holds no optimizer state (saved without nn::Adam)");
      if (adam->params().size() != params.size())
        throw fail(path, "the optimizer holds " + std::to_string(adam->params().size()) +
                             " parameters, the model " + std::to_string(params.size()));
      for (const auto& [name, t] : params) {
        m.push_back(read_tensor(r, "adam/m/" + name, t));
        v.push_back(read_tensor(r, "adam/v/" + name, t));
      }
      adam_step = r.attr_i64("/", "adam.step");
      opt.lr = r.attr_f64("/", "adam.lr");
      opt.beta1 = r.attr_f64("/", "adam.beta1");
      opt.beta2 = r.attr_f64("/", "adam.beta2");
      opt.eps = r.attr_f64("/", "adam.eps");
      opt.weight_decay = r.attr_f64("/", "adam.weight_decay");
    }
    TrainState st;
    if (state) {
      st.epoch = r.attr_i64("/", "train.epoch");
      st.step = r.attr_i64("/", "train.step");
      st.total_steps = r.attr_i64("/", "train.total_steps");
      st.lr0 = r.attr_f64("/", "train.lr0");
      st.lr_min = r.attr_f64("/", "train.lr_min");
      st.best_val_loss = r.attr_f64("/", "train.best_val_loss");
      if (r.has("train/rng")) {
        const auto d = r.shape("train/rng");
        if (d.size() != 2 || d[1] != 2) throw fail(path, "train/rng must be [n, 2]");
        const auto g = r.read_i64("train/rng");
        for (size_t i = 0; i + 1 < g.size(); i += 2)
          st.rngs.push_back({bits_u64(g[i]), bits_u64(g[i + 1])});
      }
      if (r.has("train/history")) st.history = r.read_f64("train/history");
    }

    ad::NoGradGuard ng;
    for (size_t i = 0; i < params.size(); ++i) {
      ad::Tensor p = params[i].second;
      p.copy_(values[i]);
      p.zero_grad();
    }
    if (adam) adam->load_state(adam_step, opt, m, v);
    if (state) *state = st;
  } catch (const io::H5Error& e) {
    throw fail(path, e.what());
  }
}

}  // namespace lensflow::io
