#pragma once
/// The checked, fused softmax cross-entropy: loss, gradient and per-sample losses.
///
/// A call passes its outputs after the labels (outputs.hpp): a gradient view, and
/// `per_sample(losses)` for `reduction::none`, in any order.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "check.hpp"
#include "detail/dispatch.hpp"
#include "detail/reduce.hpp"

namespace shapeguard {
namespace detail {

/// The call's own divisor of the mean: the sum of the target weights of the rows not ignored
/// with class weights and class indices, else the count of rows not ignored (every row for
/// per-class targets), as torch.nn.functional.cross_entropy.
template <label_encoding Encoding>
auto own_denominator(const label_counts& counts, const ce_options& o) -> double {
  if (Encoding == label_encoding::class_indices && !o.class_weights.empty())
    return counts.target_weight;
  return double(counts.counted);
}

/// Solves a checked call: the sum of the rows' losses, with the gradient (if any) scaled by
/// `grad_scale`; with `pred`, each row's prediction, and with `correct` the count of counted
/// rows predicted right (class indices and one-hot rows).
template <class LogitsView, class Labels, class E = std::int64_t>
auto solve(const LogitsView& logits, const Labels& labels,
           typename LogitsView::value_type* grad, typename LogitsView::value_type* losses,
           const ce_options& o, double grad_scale, E* pred = nullptr,
           std::size_t* correct = nullptr) -> double {
  using T = typename LogitsView::value_type;
  using Y = typename decltype(labels.view)::value_type;
  constexpr std::size_t batch_rank = LogitsView::rank() - 1;
  constexpr auto encoding = Labels::encoding;
  // one-hot rows are solved as class indices, by their hot column
  constexpr bool as_indices =
      encoding == label_encoding::class_indices || encoding == label_encoding::one_hot;
  using U = std::conditional_t<as_indices, T, Y>;
  static_assert(as_indices || is_floating_v<Y>);

  const std::size_t classes = logits.extent(batch_rank);
  std::size_t rows = 1;
  for (std::size_t a = 0; a < batch_rank; ++a) rows *= logits.extent(a);

  rows_problem<T, U> base;
  base.weights = o.class_weights.empty() ? nullptr : o.class_weights.data();
  base.classes = classes;
  base.smoothing = o.label_smoothing;
  base.weight_sum = double(classes);
  if (base.weights) {
    base.weight_sum = 0;
    for (std::size_t c = 0; c < classes; ++c) base.weight_sum += double(base.weights[c]);
  }
  base.grad_scale = grad_scale;
  base.z_loss = o.z_loss;
  base.soft_cap = o.soft_cap;

  const auto kernel = [] {
    if constexpr (as_indices)
      return index_kernel<T>();
    else
      return dense_kernel<T, U>();
  }();
  std::atomic<std::size_t> hits = 0;  // an integer sum: the same for any thread count
  const double total = reduce_rows(rows, classes, o.threads, [&](std::size_t r0, std::size_t n) {
    rows_problem<T, U> p = base;
    p.rows = n;
    p.logits = logits.data() + r0 * classes;
    p.grad = grad ? grad + r0 * classes : nullptr;
    p.losses = losses ? losses + r0 : nullptr;
    // class indices of another type than int64, and one-hot rows, as int64 indices
    std::array<std::int64_t, max_rows_per_block> decoded;
    if constexpr (encoding == label_encoding::class_indices) {
      const Y* y = labels.view.data() + r0;
      if constexpr (std::is_same_v<Y, std::int64_t>) {
        p.index = y;
        p.ignore_index = o.ignore_index;
      } else {
        for (std::size_t i = 0; i < n; ++i)
          decoded[i] = std::cmp_equal(y[i], o.ignore_index) ? -1 : std::int64_t(y[i]);
        p.index = decoded.data();
        p.ignore_index = -1;
      }
    } else if constexpr (encoding == label_encoding::one_hot) {
      const Y* t = labels.view.data() + r0 * classes;
      for (std::size_t i = 0; i < n; ++i)
        decoded[i] = std::find(t + i * classes, t + (i + 1) * classes, Y(1)) - (t + i * classes);
      p.index = decoded.data();
      p.ignore_index = -1;
    } else {
      p.targets = labels.view.data() + r0 * classes;
    }
    // predictions of another type than int64 through a block of int64
    std::array<std::int64_t, max_rows_per_block> predicted;
    if (pred) {
      if constexpr (std::is_same_v<E, std::int64_t>)
        p.predictions = pred + r0;
      else
        p.predictions = predicted.data();
    }
    const double sum = kernel(p);
    if (pred) {
      if constexpr (!std::is_same_v<E, std::int64_t>)
        for (std::size_t i = 0; i < n; ++i) pred[r0 + i] = E(predicted[i]);
      if constexpr (as_indices) {
        if (correct) {
          // ignored rows predict -1, which no counted label equals
          std::size_t right = 0;
          for (std::size_t i = 0; i < n; ++i)
            right += p.predictions[i] >= 0 && p.predictions[i] == p.index[i];
          hits += right;
        }
      }
    }
    return sum;
  });
  if (correct) *correct = hits;
  return total;
}

/// One checked call: the views built once, every check, then the kernels. The result is the
/// reduced loss (mean or sum) in the logits' type; with per-sample losses there is none.
template <class Logits, class Labels, class Outputs>
auto checked_call(const Logits& logits, const Labels& labels, const Outputs& out,
                  const ce_options& o) {
  const auto x = as_const_view(logits);
  const auto y = as_labels(labels);
  using T = typename decltype(x)::value_type;
  using R = math_t<T>;  // the loss's type: float for 16-bit logits
  label_counts counts;
  if (auto r = validate<true>(x, y, out, o, true, counts); !r) raise(r);
  T* g = nullptr;
  T* l = nullptr;
  if constexpr (Outputs::has_grad) g = out.grad.data();
  if constexpr (Outputs::has_losses) l = out.losses.data();
  const bool mean = o.reduction == reduction::mean;
  const double denominator = !mean                ? 1.0
                             : o.denominator > 0 ? o.denominator
                                                 : own_denominator<decltype(y)::encoding>(counts, o);
  const double scale = denominator > 0 ? 1.0 / denominator : 0.0;
  double total = 0;
  if constexpr (pair_traits<decltype(x), decltype(y)>::proven_compatible_types) {
    if constexpr (Outputs::has_predictions) {
      total = solve(x, y, g, l, o, scale, out.predictions.view.data(), out.predictions.correct);
    } else {
      total = solve(x, y, g, l, o, scale);
    }
  }
  // (otherwise never compiled into a program: validate's static_assert has failed)
  if constexpr (!Outputs::has_losses) {
    if (!mean) return R(total);
    return denominator > 0 ? R(total / denominator) : R(0);
  }
}

}  // namespace detail

/// What `reduction::mean` divides by in this call, with these options (their `denominator`
/// aside): the sum of the class weights of the labels not ignored, with class weights and class
/// indices; else the count of rows not ignored (every row for per-class targets). Runs the
/// call's checks (throws `shape_error` as the loss would), no kernel. Summed over the
/// micro-batches and processes of a step, it is the `ce_options::denominator` that makes their
/// losses and gradients add up to the mean over the whole step.
template <detail::view_like Logits, detail::labels_like Labels>
auto mean_denominator(const Logits& logits, const Labels& labels, const ce_options& options = {})
    -> double {
  const auto x = detail::as_const_view(logits);
  const auto y = detail::as_labels(labels);
  detail::label_counts counts;
  if (auto r = detail::validate<true>(x, y, detail::collect_outputs(), options, false, counts); !r)
    detail::raise(r);
  return detail::own_denominator<decltype(y)::encoding>(counts, options);
}

/// The loss, reduced by `options.reduction` (mean or sum), in the logits' element type (float
/// for 16-bit logits).
template <detail::view_like Logits, detail::labels_like Labels>
auto softmax_cross_entropy(const Logits& logits, const Labels& labels,
                           const ce_options& options = {}) {
  return detail::checked_call(logits, labels, detail::collect_outputs(), options);
}

/// With outputs: a gradient view (the logits' shape; may be the logits' own buffer), written in
/// the same pass, and/or `per_sample(losses)` (the batch shape; `reduction::none`, the default
/// then), where grad row i is the gradient of loss i. Returns the reduced loss, or nothing with
/// per-sample losses.
template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O>
auto softmax_cross_entropy(const Logits& logits, const Labels& labels, O&& output,
                           const ce_options& options = detail::default_options<O>()) {
  return detail::checked_call(logits, labels, detail::collect_outputs(std::forward<O>(output)),
                              options);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O1,
          detail::output_like O2>
auto softmax_cross_entropy(const Logits& logits, const Labels& labels, O1&& first, O2&& second,
                           const ce_options& options = detail::default_options<O1, O2>()) {
  return detail::checked_call(
      logits, labels, detail::collect_outputs(std::forward<O1>(first), std::forward<O2>(second)),
      options);
}

}  // namespace shapeguard
