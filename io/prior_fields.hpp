// io/prior_fields.hpp — the prior as files store it: the 18 bounds of sim::PriorBox as one list of
// doubles in one order (the "prior" attribute of dataset shards, setup.h5 and posterior files; the
// shards also store the names, "prior_names").
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "sim/priors.hpp"

namespace lensflow::io {

constexpr std::size_t kPriorFieldCount = 18;

// "s_min,s_max,q_min,...,fs_min,fs_max": the names of the values, in their order.
const std::string& prior_field_names();

std::vector<double> prior_to_attr(const sim::PriorBox& p);
// std::runtime_error on a wrong count (naming the expected fields); sim::validate_prior's
// std::invalid_argument on an invalid prior.
sim::PriorBox prior_from_attr(const std::vector<double>& v);

}  // namespace lensflow::io
