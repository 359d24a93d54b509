// io/run_setup.cpp — see run_setup.hpp.
#include "io/run_setup.hpp"

#include <filesystem>
#include <stdexcept>
#include <vector>

#include "io/h5file.hpp"
#include "io/prior_fields.hpp"

namespace lensflow::io {

void write_run_setup(const std::string& path, const RunSetup& s) {
  H5Writer w(path);
  const auto& r = s.realization;
  const auto st = sim::theta_standardization(r.prior);
  w.attr("/", "format", std::string("lensflow-run-setup"));
  w.attr("/", "prior", prior_to_attr(r.prior));
  w.attr("/", "theta_mean", std::vector<double>(st.mean, st.mean + sim::kThetaDim));
  w.attr("/", "theta_std", std::vector<double>(st.std, st.std + sim::kThetaDim));
  w.attr("/", "n_seq", int64_t(r.n_seq));
  w.attr("/", "n_win", int64_t(r.n_win));
  w.attr("/", "dt", r.dt);
  w.attr("/", "t0_seq", r.t0_seq);
  w.attr("/", "snr_min", r.snr_min);
  w.attr("/", "snr_max", r.snr_max);
  w.attr("/", "time_reversal", int64_t(r.time_reversal));
  w.attr("/", "seed", int64_t(s.seed));
  w.attr("/", "test_fraction", s.split.test_fraction);
  w.attr("/", "validation_fraction", s.split.validation_fraction);
  w.attr("/", "split_salt", int64_t(s.split.salt));
  w.attr("/", "dataset", s.dataset);
  w.commit();
}

RunSetup read_run_setup(const std::string& path) {
  try {
    H5Reader r(path);
    if (!r.has_attr("/", "format") || r.attr_str("/", "format") != "lensflow-run-setup")
      throw std::runtime_error("not a lensflow run setup file");
    RunSetup s;
    auto& c = s.realization;
    c.prior = prior_from_attr(r.attr_f64s("/", "prior"));
    c.n_seq = std::size_t(r.attr_i64("/", "n_seq"));
    c.n_win = std::size_t(r.attr_i64("/", "n_win"));
    c.dt = r.attr_f64("/", "dt");
    c.t0_seq = r.attr_f64("/", "t0_seq");
    c.snr_min = r.attr_f64("/", "snr_min");
    c.snr_max = r.attr_f64("/", "snr_max");
    c.time_reversal = r.attr_i64("/", "time_reversal") != 0;
    s.seed = uint64_t(r.attr_i64("/", "seed"));
    s.split.test_fraction = r.attr_f64("/", "test_fraction");
    s.split.validation_fraction = r.attr_f64("/", "validation_fraction");
    s.split.salt = uint64_t(r.attr_i64("/", "split_salt"));
    s.dataset = r.attr_str("/", "dataset");
    sim::validate_realization_config(c);
    return s;
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw std::runtime_error(what.rfind(path, 0) == 0 ? what : path + ": " + what);
  }
}

std::string run_setup_path_for(const std::string& checkpoint_path) {
  const auto slash = checkpoint_path.find_last_of('/');
  return (slash == std::string::npos ? std::string(".") : checkpoint_path.substr(0, slash)) + "/setup.h5";
}

std::string model_checkpoint_path(const std::string& model) {
  std::error_code ec;
  if (!std::filesystem::exists(model, ec))
    throw std::runtime_error(model + ": no such checkpoint file or run/model directory");
  if (!std::filesystem::is_directory(model, ec)) return model;
  const std::string dir = model.back() == '/' ? model.substr(0, model.size() - 1) : model;
  for (const char* name : {"/best.h5", "/checkpoint.h5"})
    if (std::filesystem::is_regular_file(dir + name, ec)) return dir + name;
  throw std::runtime_error(model + ": a directory with neither best.h5 nor checkpoint.h5 (give a run or model "
                                   "directory, or a checkpoint file)");
}

}  // namespace lensflow::io
