#pragma once
/// Run-time checks: `check` (throws `shape_error`) and `try_check` (returns a
/// `check_result`). They test what the types could not prove: each batch axis, the class
/// count, the view's data, option values, output buffers and label values, in that order, and
/// stop at the first failure. Nothing is written by a check. Each concern has its own header in
/// detail/checks/: shapes, options, outputs, values; report.hpp formats their messages.

#include <cstddef>

#include "compatible.hpp"
#include "detail/checks/options.hpp"
#include "detail/checks/outputs.hpp"
#include "detail/checks/report.hpp"
#include "detail/checks/shapes.hpp"
#include "detail/checks/values.hpp"
#include "errors.hpp"
#include "options.hpp"
#include "outputs.hpp"

namespace shapeguard {
namespace detail {

/// Every check of one call, in order, on views already built (as_const_view, as_labels) and
/// outputs already collected (collect_outputs). `Static` makes proven mismatches fail to
/// compile (the checked calls) instead of returning them (`try_check`); `solving`: the call
/// computes the loss (a check alone may take reduction::none without a buffer). On success,
/// `counts` holds what the label pass counted.
template <bool Static, class LogitsView, class Labels, class Outputs>
auto softmax_checks(const LogitsView& logits, const Labels& labels, const Outputs& out,
                    const ce_options& o, bool solving, label_counts& counts) -> check_result {
  using Traits = pair_traits<LogitsView, Labels>;
  static_assert(Traits::logits_floating, SHAPEGUARD_OP ": " SHAPEGUARD_HINT_FLOATING_LOGITS);
  static_assert(Traits::labels_type_ok, SHAPEGUARD_OP ": " SHAPEGUARD_HINT_FLOATING_LABELS);
  static_assert(Traits::logits_ranked, SHAPEGUARD_OP ": " SHAPEGUARD_HINT_LOGITS_RANK);
  if constexpr (Static) assert_static_compatible<Traits>();
  if (auto r = check_shapes<Traits>(logits, labels.view); !r) return r;
  if constexpr (Traits::rank_ok) {
    const auto x = sizes_of(logits);
    const auto y = sizes_of(labels.view);
    const std::string_view noun = labels_noun(Traits::encoding);
    if (auto r = check_data(buffer_of(logits, x, "logits")); !r) return r;
    if (auto r = check_data(buffer_of(labels.view, y, noun)); !r) return r;
    if (auto r = check_options(x, o, Traits::indices, noun); !r) return r;
    if (auto r = check_outputs<Traits>(logits, labels.view, out, o, solving); !r) return r;
    if constexpr (Traits::indices) {
      if (auto r = check_class_indices<Traits>(logits, labels.view, o, counts); !r) return r;
    } else {
      if (auto r = check_target_rows<Traits>(logits, labels.view, counts); !r) return r;
    }
    if (o.check_finite)
      if (auto r = check_finite_logits(logits); !r) return r;
  }
  return {};
}

template <bool Static, class LogitsView, class Labels, class Outputs>
auto validate(const LogitsView& logits, const Labels& labels, const Outputs& out,
              const ce_options& o, bool solving, label_counts& counts) -> check_result {
  return titled(SHAPEGUARD_OP, softmax_checks<Static>(logits, labels, out, o, solving, counts));
}

/// The checks of `check` and `try_check`: validate without solving.
template <bool Static, class Logits, class Labels, class Outputs>
auto check_only(const Logits& logits, const Labels& labels, const Outputs& out,
                const ce_options& o) -> check_result {
  label_counts counts;
  return validate<Static>(as_const_view(logits), as_labels(labels), out, o, false, counts);
}

}  // namespace detail

/// Checks logits against labels and options, and the outputs a loss call would write (a
/// gradient, `per_sample(losses)`); throws `shape_error` on the first failure.
template <detail::view_like Logits, detail::labels_like Labels>
void check(const Logits& logits, const Labels& labels, const ce_options& options = {}) {
  if (auto r = detail::check_only<true>(logits, labels, detail::collect_outputs(), options); !r)
    detail::raise(r);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O>
void check(const Logits& logits, const Labels& labels, O&& output,
           const ce_options& options = detail::default_options<O>()) {
  if (auto r = detail::check_only<true>(logits, labels,
                                        detail::collect_outputs(std::forward<O>(output)), options);
      !r)
    detail::raise(r);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O1,
          detail::output_like O2>
void check(const Logits& logits, const Labels& labels, O1&& first, O2&& second,
           const ce_options& options = detail::default_options<O1, O2>()) {
  if (auto r = detail::check_only<true>(
          logits, labels,
          detail::collect_outputs(std::forward<O1>(first), std::forward<O2>(second)), options);
      !r)
    detail::raise(r);
}

/// Like `check`, returning the outcome instead of throwing. A pair the types prove
/// incompatible is reported here (as `rank_mismatch`, `batch_mismatch` or `class_mismatch`)
/// rather than refused by the compiler, so tools can show the message.
template <detail::view_like Logits, detail::labels_like Labels>
auto try_check(const Logits& logits, const Labels& labels, const ce_options& options = {})
    -> check_result {
  return detail::check_only<false>(logits, labels, detail::collect_outputs(), options);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O>
auto try_check(const Logits& logits, const Labels& labels, O&& output,
               const ce_options& options = detail::default_options<O>()) -> check_result {
  return detail::check_only<false>(logits, labels,
                                   detail::collect_outputs(std::forward<O>(output)), options);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O1,
          detail::output_like O2>
auto try_check(const Logits& logits, const Labels& labels, O1&& first, O2&& second,
               const ce_options& options = detail::default_options<O1, O2>()) -> check_result {
  return detail::check_only<false>(
      logits, labels, detail::collect_outputs(std::forward<O1>(first), std::forward<O2>(second)),
      options);
}

}  // namespace shapeguard
