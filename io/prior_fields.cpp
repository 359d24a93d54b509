// io/prior_fields.cpp — see prior_fields.hpp.
#include "io/prior_fields.hpp"

#include <stdexcept>

namespace lensflow::io {
namespace {

struct PriorField {
  const char* name;
  double sim::PriorBox::*value;
};

// The one list: names and order on disk.
constexpr PriorField kFields[kPriorFieldCount] = {
    {"s_min", &sim::PriorBox::s_min},
    {"s_max", &sim::PriorBox::s_max},
    {"q_min", &sim::PriorBox::q_min},
    {"q_max", &sim::PriorBox::q_max},
    {"alpha_min", &sim::PriorBox::alpha_min},
    {"alpha_max", &sim::PriorBox::alpha_max},
    {"u0_min", &sim::PriorBox::u0_min},
    {"u0_max", &sim::PriorBox::u0_max},
    {"t0_min", &sim::PriorBox::t0_min},
    {"t0_max", &sim::PriorBox::t0_max},
    {"tE_min", &sim::PriorBox::tE_min},
    {"tE_max", &sim::PriorBox::tE_max},
    {"log10_tE_mean", &sim::PriorBox::log10_tE_mean},
    {"log10_tE_sigma", &sim::PriorBox::log10_tE_sigma},
    {"rho_min", &sim::PriorBox::rho_min},
    {"rho_max", &sim::PriorBox::rho_max},
    {"fs_min", &sim::PriorBox::fs_min},
    {"fs_max", &sim::PriorBox::fs_max},
};

}  // namespace

const std::string& prior_field_names() {
  static const std::string names = [] {
    std::string s;
    for (const PriorField& f : kFields) s += (s.empty() ? "" : ",") + std::string(f.name);
    return s;
  }();
  return names;
}

std::vector<double> prior_to_attr(const sim::PriorBox& p) {
  std::vector<double> v;
  for (const PriorField& f : kFields) v.push_back(p.*f.value);
  return v;
}

sim::PriorBox prior_from_attr(const std::vector<double>& v) {
  if (v.size() != kPriorFieldCount)
    throw std::runtime_error("prior attribute has " + std::to_string(v.size()) + " values, expected " +
                             std::to_string(kPriorFieldCount) + " (" + prior_field_names() + ")");
  sim::PriorBox p;
  for (std::size_t i = 0; i < kPriorFieldCount; ++i) p.*kFields[i].value = v[i];
  sim::validate_prior(p);
  return p;
}

}  // namespace lensflow::io
