#pragma once
// Checks of the options: each value in its domain, weights that fit the logits' classes, and the
// options that apply only to some labels. The pieces serve both option structs; check_options
// (ce_options) and check_bce_options (bce_options) put them in order.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "../../options.hpp"
#include "report.hpp"

namespace shapeguard::detail {

inline auto check_reduction_value(reduction r, std::string_view options) -> check_result {
  switch (r) {
    case reduction::mean:
    case reduction::sum:
    case reduction::none: return {};
  }
  return failure(error_kind::invalid_option,
                 fmt::format("{}::reduction holds {}, which is not mean, sum or none; hint: set "
                             "it to one of the sg::reduction values",
                             options, static_cast<int>(r)));
}

inline auto check_smoothing(float eps, std::string_view options) -> check_result {
  if (!(eps >= 0.0f && eps <= 1.0f))
    return failure(error_kind::invalid_option,
                   fmt::format("{}::label_smoothing is {} but must be in [0, 1]; hint: 0.1 is a "
                               "common choice",
                               options, eps));
  return {};
}

/// A span of per-class weights named `name` (`ce_options::class_weights`): empty, or one finite
/// non-negative weight for each of the `classes` classes of logits `logits`.
inline auto check_weights(std::span<const float> weights, std::string_view name, shape logits,
                          std::size_t classes) -> check_result {
  if (weights.empty()) return {};
  if (weights.size() != classes)
    return failure(error_kind::invalid_option,
                   fmt::format("{} has {} entries but logits {} have {} {}; hint: pass one "
                               "weight per class, or none",
                               name, weights.size(), shape_text(logits), classes,
                               classes == 1 && logits.size() == 1
                                   ? "class (rank-1 logits are one binary output)"
                                   : (classes == 1 ? "class" : "classes")));
  if (weights.data() == nullptr)
    return failure(error_kind::invalid_option,
                   fmt::format("{} has {} entries but no data; hint: pass a span over the "
                               "weights",
                               name, weights.size()));
  for (std::size_t k = 0; k < classes; ++k) {
    const float w = weights[k];
    if (!(w >= 0.0f) || !std::isfinite(w))
      return failure(error_kind::invalid_option,
                     fmt::format("{}[{}] is {} but weights must be finite and >= 0; hint: a "
                                 "weight of 0 leaves a class out",
                                 name, k, w));
  }
  return {};
}

inline auto check_threads(std::size_t threads, std::string_view options) -> check_result {
  if (threads == 0)
    return failure(error_kind::invalid_option,
                   fmt::format("{}::threads is 0; hint: 1 runs on the caller's thread", options));
  return {};
}

/// A caller's denominator of the mean: 0 (the call's own), or finite and positive, with
/// reduction::mean.
inline auto check_denominator(double d, reduction r, std::string_view options) -> check_result {
  if (!(d >= 0) || !std::isfinite(d))
    return failure(error_kind::invalid_option,
                   fmt::format("{}::denominator is {} but must be finite and >= 0 (0 divides by "
                               "the call's own); hint: pass the sum of sg::mean_denominator over "
                               "the micro-batches and processes of the step",
                               options, d));
  if (d != 0 && r != reduction::mean)
    return failure(error_kind::invalid_option,
                   fmt::format("{}::denominator is {} but divides the mean only, and the "
                               "reduction is {}; hint: set reduction::mean, or leave the "
                               "denominator at 0",
                               options, d, to_string(r)));
  return {};
}

/// The z-loss coefficient: finite and >= 0.
inline auto check_z_loss(double z) -> check_result {
  if (!(z >= 0) || !std::isfinite(z))
    return failure(error_kind::invalid_option,
                   fmt::format("ce_options::z_loss is {} but must be finite and >= 0; hint: 1e-4 "
                               "is a common choice, 0 turns it off",
                               z));
  return {};
}

/// The soft-capping value: finite and >= 0.
inline auto check_soft_cap(double s) -> check_result {
  if (!(s >= 0) || !std::isfinite(s))
    return failure(error_kind::invalid_option,
                   fmt::format("ce_options::soft_cap is {} but must be finite and >= 0; hint: "
                               "30 caps the logits to (-30, 30) as Gemma 2 does, 0 turns it off",
                               s));
  return {};
}

/// Every ce_option but the ones that depend on the outputs passed (see outputs.hpp).
/// `indices`: the labels are class indices; `noun` names them otherwise.
inline auto check_options(shape logits, const ce_options& o, bool indices, std::string_view noun)
    -> check_result {
  if (auto r = check_reduction_value(o.reduction, "ce_options"); !r) return r;
  if (auto r = check_smoothing(o.label_smoothing, "ce_options"); !r) return r;
  if (auto r = check_weights(o.class_weights, "ce_options::class_weights", logits, logits.back());
      !r)
    return r;
  if (!indices && o.ignore_index != ce_options{}.ignore_index)
    return failure(error_kind::invalid_option,
                   fmt::format("ce_options::ignore_index is {} but applies to class indices "
                               "only, and the labels are {}; hint: leave it at -100, or pass "
                               "class indices",
                               o.ignore_index, noun));
  if (auto r = check_denominator(o.denominator, o.reduction, "ce_options"); !r) return r;
  if (auto r = check_z_loss(o.z_loss); !r) return r;
  if (auto r = check_soft_cap(o.soft_cap); !r) return r;
  return check_threads(o.threads, "ce_options");
}

/// Every bce_option but the reduction against the outputs passed; `classes`: the logits' last
/// axis, 1 for rank-1 logits.
inline auto check_bce_options(shape logits, std::size_t classes, const bce_options& o)
    -> check_result {
  if (auto r = check_reduction_value(o.reduction, "bce_options"); !r) return r;
  if (auto r = check_smoothing(o.label_smoothing, "bce_options"); !r) return r;
  if (auto r = check_weights(o.class_weights, "bce_options::class_weights", logits, classes); !r)
    return r;
  if (auto r = check_weights(o.pos_weight, "bce_options::pos_weight", logits, classes); !r)
    return r;
  if (auto r = check_denominator(o.denominator, o.reduction, "bce_options"); !r) return r;
  return check_threads(o.threads, "bce_options");
}

}  // namespace shapeguard::detail
