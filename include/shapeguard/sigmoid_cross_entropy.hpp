#pragma once
/// The checked, fused sigmoid cross-entropy (binary and multi-label): loss, gradient and
/// per-element losses, with `torch.nn.functional.binary_cross_entropy_with_logits` semantics.
///
/// Labels have exactly the logits' shape: floating targets in [0, 1], or integer (or bool)
/// multi-hot labels, each 0 or 1. The class axis is the last one; rank-1 logits [N] are N
/// samples of one binary output. Outputs follow the labels as for softmax_cross_entropy: a
/// gradient view, and `per_sample(losses)` shaped like the logits (`reduction::none`).

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/checks/sigmoid.hpp"
#include "detail/dispatch.hpp"
#include "detail/reduce.hpp"
#include "detail/strided.hpp"
#include "errors.hpp"
#include "labels.hpp"
#include "options.hpp"
#include "outputs.hpp"

namespace shapeguard {
namespace detail {

/// Integer labels are handed to the kernels as float targets, and strided views copied, this
/// many elements at a time; every path sums the loss per chunk of this many.
inline constexpr std::size_t sigmoid_decode_chunk = 4096;

/// Solves a checked sigmoid call: the sum of the elements' losses, with the gradient (if any)
/// scaled by `grad_scale`, into the outputs of `out`. Views that are all layout_right are read
/// and written in place; otherwise elements are copied, sigmoid_decode_chunk at a time, into
/// this thread's scratch in row-major order, solved there, and written back through their
/// layouts (strided.hpp).
template <class LogitsView, class LabelsView, class Outputs>
auto solve_sigmoid(const LogitsView& logits, const LabelsView& labels, const Outputs& out,
                   const bce_options& o, double grad_scale) -> double {
  using T = typename LogitsView::value_type;
  using Y = typename LabelsView::value_type;
  using U = std::conditional_t<std::is_floating_point_v<Y>, Y, float>;
  constexpr bool in_place =
      all_layout_right<LogitsView> && all_layout_right<LabelsView> && all_layout_right<Outputs>;
  const std::size_t classes = sigmoid_classes(logits);

  sigmoid_problem<T, U> base;
  base.class_weights = o.class_weights.empty() ? nullptr : o.class_weights.data();
  base.pos_weight = o.pos_weight.empty() ? nullptr : o.pos_weight.data();
  base.classes = classes;
  base.keep = 1.0 - double(o.label_smoothing);
  base.spread = double(o.label_smoothing) / 2;
  base.grad_scale = grad_scale;
  if (base.class_weights || base.pos_weight)
    for (std::size_t c = 0; c < classes; ++c) {
      const double w = base.class_weights ? double(base.class_weights[c]) : 1.0;
      const double p = base.pos_weight ? double(base.pos_weight[c]) : 1.0;
      base.weight_max = std::max({base.weight_max, w, w * p});
    }

  const auto kernel = sigmoid_kernel<T, U>();
  return reduce_elements(logits.size(), o.threads, [&](std::size_t first, std::size_t n) {
    sigmoid_problem<T, U> p = base;
    auto at = [&](std::size_t e, std::size_t count) {
      p.count = count;
      p.column = e % classes;
      if constexpr (in_place) {
        p.logits = logits.data() + e;
        if constexpr (Outputs::has_grad) p.grad = out.grad.data() + e;
        if constexpr (Outputs::has_losses) p.losses = out.losses.data() + e;
      }
    };
    // Every path sums the kernel's results a chunk at a time, so that the loss has the same
    // bits whatever the views' layouts and the labels' type.
    if constexpr (in_place && std::is_floating_point_v<Y>) {
      double total = 0;
      for (std::size_t i = 0; i < n; i += sigmoid_decode_chunk) {
        at(first + i, std::min(sigmoid_decode_chunk, n - i));
        p.targets = labels.data() + first + i;
        total += kernel(p);
      }
      return total;
    } else {
      // integer labels (already checked to be 0 or 1: exact as float) as float targets, and
      // views of other layouts, a chunk at a time
      float decoded[sigmoid_decode_chunk];
      thread_local std::vector<T> xs, ls;
      thread_local std::vector<U> ys;  // floating targets (others go to `decoded`)
      if constexpr (!in_place) {
        xs.resize(sigmoid_decode_chunk);
        if constexpr (std::is_floating_point_v<Y>) ys.resize(sigmoid_decode_chunk);
        if constexpr (Outputs::has_losses) ls.resize(sigmoid_decode_chunk);
      }
      double total = 0;
      for (std::size_t i = 0; i < n; i += sigmoid_decode_chunk) {
        const std::size_t m = std::min(sigmoid_decode_chunk, n - i);
        at(first + i, m);
        if constexpr (in_place) {
          // (a conversion, not a select: the labels' pattern is random, a branch would not be)
          const Y* y = labels.data() + first + i;
          for (std::size_t j = 0; j < m; ++j) decoded[j] = static_cast<float>(y[j]);
          p.targets = decoded;
        } else {
          gather(logits, first + i, m, xs.data());
          p.logits = xs.data();
          if constexpr (Outputs::has_grad) p.grad = xs.data();  // in place over the copy
          if constexpr (Outputs::has_losses) p.losses = ls.data();
          if constexpr (std::is_floating_point_v<Y>) {
            gather(labels, first + i, m, ys.data());
            p.targets = ys.data();
          } else {
            gather(labels, first + i, m, decoded);  // converted to float as they are copied
            p.targets = decoded;
          }
        }
        total += kernel(p);
        if constexpr (!in_place) {
          if constexpr (Outputs::has_grad) scatter(xs.data(), first + i, m, out.grad);
          if constexpr (Outputs::has_losses) scatter(ls.data(), first + i, m, out.losses);
        }
      }
      return total;
    }
  });
}

/// One checked sigmoid call on views built once: every check, then the kernels. The result is
/// the reduced loss in the logits' type; with per-element losses there is none.
template <class X, class Y, class Outputs>
auto sigmoid_views(const X& x, const Y& y, const Outputs& out, const bce_options& o) {
  using T = typename X::value_type;
  if (auto r = validate_sigmoid<true>(x, y, out, o, true); !r) raise(r);
  const bool mean = o.reduction == reduction::mean;
  const double denominator = !mean ? 1.0 : o.denominator > 0 ? o.denominator : double(x.size());
  double total = 0;
  if constexpr (sigmoid_traits<X, Y>::proven_compatible_types)
    total = solve_sigmoid(x, y, out, o, denominator > 0 ? 1.0 / denominator : 0.0);
  // (otherwise never compiled into a program: validate's static_assert has failed)
  if constexpr (!Outputs::has_losses) {
    if (!mean) return T(total);
    return denominator > 0 ? T(total / denominator) : T(0);
  }
}

/// One checked sigmoid call: the views built once, then sigmoid_views on them, with
/// layout_right views when every view is row-major at run time.
template <class Logits, class Labels, class Outputs>
auto sigmoid_call(const Logits& logits, const Labels& labels, const Outputs& out,
                  const bce_options& o) {
  static_assert(!is_encoded<Labels>,
                SHAPEGUARD_SIGMOID_OP ": labels are read by their element type (floating "
                "targets, or integer multi-hot labels) and need no wrapper; class indices go to "
                "softmax_cross_entropy");
  return on_row_major(
      [&](const auto& x, const auto& y, const auto& outputs) {
        return sigmoid_views(x, y, outputs, o);
      },
      as_const_view(logits), as_const_view(labels), out);
}

/// The checks of `check` and `try_check` with bce_options.
template <bool Static, class Logits, class Labels, class Outputs>
auto sigmoid_check_only(const Logits& logits, const Labels& labels, const Outputs& out,
                        const bce_options& o) -> check_result {
  static_assert(!is_encoded<Labels>,
                SHAPEGUARD_SIGMOID_OP ": labels are read by their element type and need no "
                "wrapper");
  return validate_sigmoid<Static>(as_const_view(logits), as_const_view(labels), out, o, false);
}

template <class Logits, class Labels>
using sigmoid_traits_of = sigmoid_traits<decltype(as_const_view(std::declval<const Logits&>())),
                                         decltype(as_const_view(std::declval<const Labels&>()))>;

template <class O>
concept bce_options_type = std::is_same_v<O, bce_options>;

}  // namespace detail

/// Satisfied unless static information (element types, ranks, static extents) proves that
/// `Labels` cannot be targets of the sigmoid loss for `Logits`.
template <class Logits, class Labels>
concept sigmoid_compatible = detail::view_like<Logits> && detail::view_like<Labels> &&
                             detail::sigmoid_traits_of<Logits, Labels>::compatible;

/// True, or the compile error a checked sigmoid call would give (see assert_compatible).
template <class Logits, class Labels>
consteval auto assert_sigmoid_compatible() -> bool {
  using L = std::remove_cvref_t<Logits>;
  using Y = std::remove_cvref_t<Labels>;
  static_assert(detail::view_like<L>,
                "sg::assert_sigmoid_compatible: Logits is not a view: pass an sg::tensor_view "
                "type, or a contiguous range (std::span, std::vector, std::array)");
  static_assert(detail::view_like<Y>,
                "sg::assert_sigmoid_compatible: Labels is not a view: pass an sg::tensor_view "
                "type, or a contiguous range");
  if constexpr (detail::view_like<L> && detail::view_like<Y>)
    detail::assert_sigmoid_static<detail::sigmoid_traits_of<L, Y>>();
  return true;
}

/// The mean (or sum) of the per-element losses, in the logits' element type.
template <detail::view_like Logits, detail::labels_like Labels>
auto sigmoid_cross_entropy(const Logits& logits, const Labels& labels,
                           const bce_options& options = {}) {
  return detail::sigmoid_call(logits, labels, detail::collect_outputs(), options);
}

/// With outputs: a gradient view (the logits' shape; may be the logits' own buffer), and/or
/// `per_sample(losses)` (the logits' shape; `reduction::none`, the default then). Returns the
/// reduced loss, or nothing with per-element losses.
template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O>
auto sigmoid_cross_entropy(const Logits& logits, const Labels& labels, O&& output,
                           const bce_options& options =
                               detail::default_options_of<bce_options, O>()) {
  return detail::sigmoid_call(logits, labels, detail::collect_outputs(std::forward<O>(output)),
                              options);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O1,
          detail::output_like O2>
auto sigmoid_cross_entropy(const Logits& logits, const Labels& labels, O1&& first, O2&& second,
                           const bce_options& options =
                               detail::default_options_of<bce_options, O1, O2>()) {
  return detail::sigmoid_call(
      logits, labels, detail::collect_outputs(std::forward<O1>(first), std::forward<O2>(second)),
      options);
}

/// What `reduction::mean` divides by in a sigmoid call: its element count. Runs the call's
/// checks (throws `shape_error` as the loss would); the options must be named, as in `check`.
template <detail::view_like Logits, detail::labels_like Labels, detail::bce_options_type B>
auto mean_denominator(const Logits& logits, const Labels& labels, const B& options) -> double {
  if (auto r = detail::sigmoid_check_only<true>(logits, labels, detail::collect_outputs(), options);
      !r)
    detail::raise(r);
  return double(detail::as_const_view(logits).size());
}

/// `check` and `try_check` with bce_options run the checks of sigmoid_cross_entropy (the
/// options must be named: `sg::check(x, y, sg::bce_options{...})`).
template <detail::view_like Logits, detail::labels_like Labels, detail::bce_options_type B>
void check(const Logits& logits, const Labels& labels, const B& options) {
  if (auto r = detail::sigmoid_check_only<true>(logits, labels, detail::collect_outputs(), options);
      !r)
    detail::raise(r);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O,
          detail::bce_options_type B>
void check(const Logits& logits, const Labels& labels, O&& output, const B& options) {
  if (auto r = detail::sigmoid_check_only<true>(
          logits, labels, detail::collect_outputs(std::forward<O>(output)), options);
      !r)
    detail::raise(r);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O1,
          detail::output_like O2, detail::bce_options_type B>
void check(const Logits& logits, const Labels& labels, O1&& first, O2&& second,
           const B& options) {
  if (auto r = detail::sigmoid_check_only<true>(
          logits, labels,
          detail::collect_outputs(std::forward<O1>(first), std::forward<O2>(second)), options);
      !r)
    detail::raise(r);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::bce_options_type B>
auto try_check(const Logits& logits, const Labels& labels, const B& options) -> check_result {
  return detail::sigmoid_check_only<false>(logits, labels, detail::collect_outputs(), options);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O,
          detail::bce_options_type B>
auto try_check(const Logits& logits, const Labels& labels, O&& output, const B& options)
    -> check_result {
  return detail::sigmoid_check_only<false>(
      logits, labels, detail::collect_outputs(std::forward<O>(output)), options);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O1,
          detail::output_like O2, detail::bce_options_type B>
auto try_check(const Logits& logits, const Labels& labels, O1&& first, O2&& second,
               const B& options) -> check_result {
  return detail::sigmoid_check_only<false>(
      logits, labels, detail::collect_outputs(std::forward<O1>(first), std::forward<O2>(second)),
      options);
}

}  // namespace shapeguard
