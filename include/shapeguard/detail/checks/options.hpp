#pragma once
// Checks of ce_options: each value in its domain, class weights that fit the logits' classes,
// and the options that apply only to some labels.

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../../options.hpp"
#include "report.hpp"

namespace shapeguard::detail {

/// Every option but the ones that depend on the outputs passed (see outputs.hpp). `indices`:
/// the labels are class indices; `noun` names them otherwise.
inline auto check_options(shape logits, const ce_options& o, bool indices, std::string_view noun)
    -> check_result {
  const std::size_t c = logits.back();
  switch (o.reduction) {
    case reduction::mean:
    case reduction::sum:
    case reduction::none: break;
    default:
      return failure(error_kind::invalid_option,
                     fmt::format("ce_options::reduction holds {}, which is not mean, sum or "
                                 "none; hint: set it to one of the sg::reduction values",
                                 static_cast<int>(o.reduction)));
  }
  if (!(o.label_smoothing >= 0.0f && o.label_smoothing <= 1.0f))
    return failure(error_kind::invalid_option,
                   fmt::format("ce_options::label_smoothing is {} but must be in [0, 1]; hint: "
                               "0.1 is a common choice",
                               o.label_smoothing));
  if (!o.class_weights.empty()) {
    if (o.class_weights.size() != c)
      return failure(error_kind::invalid_option,
                     fmt::format("ce_options::class_weights has {} entries but logits {} have {} "
                                 "classes; hint: pass one weight per class, or none",
                                 o.class_weights.size(), shape_text(logits), c));
    if (o.class_weights.data() == nullptr)
      return failure(error_kind::invalid_option,
                     fmt::format("ce_options::class_weights has {} entries but no data; hint: "
                                 "pass a span over the weights",
                                 o.class_weights.size()));
    for (std::size_t k = 0; k < c; ++k) {
      const float w = o.class_weights[k];
      if (!(w >= 0.0f) || !std::isfinite(w))
        return failure(error_kind::invalid_option,
                       fmt::format("ce_options::class_weights[{}] is {} but weights must be "
                                   "finite and >= 0; hint: a weight of 0 leaves a class out",
                                   k, w));
    }
  }
  if (!indices && o.ignore_index != ce_options{}.ignore_index)
    return failure(error_kind::invalid_option,
                   fmt::format("ce_options::ignore_index is {} but applies to class indices "
                               "only, and the labels are {}; hint: leave it at -100, or pass "
                               "class indices",
                               o.ignore_index, noun));
  if (o.threads == 0)
    return failure(error_kind::invalid_option,
                   "ce_options::threads is 0; hint: 1 runs on the caller's thread");
  return {};
}

}  // namespace shapeguard::detail
