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
#include <vector>

#include "check.hpp"
#include "detail/dispatch.hpp"
#include "detail/reduce.hpp"
#include "detail/strided.hpp"

namespace shapeguard {
namespace detail {

/// The call's own divisor of the mean: the sum of the target weights of the rows not ignored
/// with class weights and class indices, else the count of rows not ignored (every row for
/// per-class targets), as torch.nn.functional.cross_entropy.
template <label_encoding Encoding>
auto own_denominator(const label_counts& counts, const ce_options& o) -> double {
  if (Encoding == label_encoding::class_indices && !o.class_weights.empty())
    return counts.target_weight();
  return double(counts.counted);
}

/// Solves a checked call: the sum of the rows' losses, with the gradient (if any) scaled by
/// `grad_scale`, into the outputs of `out`; with predictions and their `correct`, the count of
/// counted rows predicted right (class indices and one-hot rows). Views that are all
/// layout_right are read and written in place; otherwise each block of rows is copied into
/// this thread's scratch in row-major order, solved there, and its outputs written back
/// through their layouts (strided.hpp).
template <class LogitsView, class Labels, class Outputs>
auto solve(const LogitsView& logits, const Labels& labels, const Outputs& out,
           const ce_options& o, double grad_scale) -> double {
  using T = typename LogitsView::value_type;
  using Y = typename decltype(labels.view)::value_type;
  constexpr std::size_t batch_rank = LogitsView::rank() - 1;
  constexpr auto encoding = Labels::encoding;
  // one-hot rows are solved as class indices, by their hot column
  constexpr bool as_indices =
      encoding == label_encoding::class_indices || encoding == label_encoding::one_hot;
  using U = std::conditional_t<as_indices, T, Y>;
  static_assert(as_indices || is_floating_v<Y>);
  constexpr bool in_place =
      all_layout_right<LogitsView> && all_layout_right<Labels> && all_layout_right<Outputs>;
  using E = decltype([] {
    if constexpr (Outputs::has_predictions)
      return typename decltype(out.predictions.view)::value_type{};
    else
      return std::int64_t{};
  }());

  const std::size_t classes = logits.extent(batch_rank);
  std::size_t rows = 1;
  for (std::size_t a = 0; a < batch_rank; ++a) rows *= logits.extent(a);
  const std::size_t label_row = encoding == label_encoding::class_indices ? 1 : classes;

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
  // float class indices whose rows are the contiguous axis (a class axis moved last, a
  // column-major matrix), in the logits and the gradient alike: solved where they lie, in
  // columns (rows.hpp: class_stride), on the sets that have a column kernel for this class count
  rows_kernel_fn<float> columns = nullptr;
  if constexpr (!in_place && std::is_same_v<T, float> && as_indices) {
    constexpr std::size_t R = LogitsView::rank();
    if constexpr (R >= 2) {
      bool fits = o.soft_cap == 0 && logits.stride(R - 2) == 1 && logits.stride(R - 1) > 1;
      if constexpr (Outputs::has_grad)
        fits = fits && out.grad.stride(R - 2) == 1 &&
               out.grad.stride(R - 1) == logits.stride(R - 1);
      if (fits) columns = column_kernel(classes);
    }
  }
  std::atomic<std::size_t> hits = 0;  // an integer sum: the same for any thread count
  const double total = reduce_rows(rows, classes, o.threads, [&](std::size_t r0, std::size_t n) {
    rows_problem<T, U> p = base;
    p.rows = n;
    // the block's rows, row-major: in place, or copied into this thread's scratch
    const T* x;
    const Y* y;
    T* g = nullptr;
    T* l = nullptr;
    E* pred = nullptr;
    if constexpr (in_place) {
      x = logits.data() + r0 * classes;
      y = labels.view.data() + r0 * label_row;
      if constexpr (Outputs::has_grad) g = out.grad.data() + r0 * classes;
      if constexpr (Outputs::has_losses) l = out.losses.data() + r0;
      if constexpr (Outputs::has_predictions) pred = out.predictions.view.data() + r0;
    } else {
      thread_local std::vector<T> xs, ls;
      thread_local std::vector<Y> ys;
      thread_local std::vector<E> ps;
      ys.resize(n * label_row);
      if (!columns) {
        xs.resize(n * classes);
        gather_rows(logits, r0, n, xs.data());
      }
      if constexpr (encoding == label_encoding::class_indices)
        gather(labels.view, r0, n, ys.data());
      else
        gather_rows(labels.view, r0, n, ys.data());
      x = xs.data();
      y = ys.data();
      if constexpr (Outputs::has_grad) g = xs.data();  // in place over the copy
      if constexpr (Outputs::has_losses) l = (ls.resize(n), ls.data());
      if constexpr (Outputs::has_predictions) pred = (ps.resize(n), ps.data());
    }
    p.logits = x;
    p.grad = g;
    p.losses = l;
    // class indices of another type than int64, and one-hot rows, as int64 indices
    std::array<std::int64_t, max_rows_per_block> decoded;
    if constexpr (encoding == label_encoding::class_indices) {
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
      for (std::size_t i = 0; i < n; ++i)
        decoded[i] = std::find(y + i * classes, y + (i + 1) * classes, Y(1)) - (y + i * classes);
      p.index = decoded.data();
      p.ignore_index = -1;
    } else {
      p.targets = y;
    }
    // predictions of another type than int64 through a block of int64
    std::array<std::int64_t, max_rows_per_block> predicted;
    if (pred) {
      if constexpr (std::is_same_v<E, std::int64_t>)
        p.predictions = pred;
      else
        p.predictions = predicted.data();
    }
    double sum = 0;
    if constexpr (std::is_same_v<T, float> && as_indices && LogitsView::rank() >= 2) {
      if (columns) {
        // the block's runs of neighbouring rows, each solved in place
        std::size_t done = 0;
        for_each_tile(logits, r0, n, [&](std::size_t offset, std::size_t count) {
          rows_problem<T, U> q = p;
          q.rows = count;
          q.class_stride = logits.stride(LogitsView::rank() - 1);
          q.logits = logits.data() + offset;
          q.grad = nullptr;
          if constexpr (Outputs::has_grad)
            q.grad = out.grad.data() + row_offset(out.grad, r0 + done);
          q.index = p.index + done;
          if (q.losses) q.losses += done;
          if (q.predictions) q.predictions += done;
          sum += columns(q);
          done += count;
        });
      } else {
        sum = kernel(p);
      }
    } else {
      sum = kernel(p);
    }
    if (pred) {
      if constexpr (!std::is_same_v<E, std::int64_t>)
        for (std::size_t i = 0; i < n; ++i) pred[i] = E(predicted[i]);
      if constexpr (as_indices && Outputs::has_predictions) {
        if (out.predictions.correct) {
          // ignored rows predict -1, which no counted label equals
          std::size_t right = 0;
          for (std::size_t i = 0; i < n; ++i)
            right += p.predictions[i] >= 0 && p.predictions[i] == p.index[i];
          hits += right;
        }
      }
    }
    if constexpr (!in_place) {
      if constexpr (Outputs::has_grad)
        if (!columns) scatter_rows(g, r0, n, out.grad);
      if constexpr (Outputs::has_losses) scatter(l, r0, n, out.losses);
      if constexpr (Outputs::has_predictions) scatter(pred, r0, n, out.predictions.view);
    }
    return sum;
  });
  if constexpr (Outputs::has_predictions)
    if (out.predictions.correct) *out.predictions.correct = hits;
  return total;
}

/// One checked call on views built once (as_const_view, as_labels): every check, then the
/// kernels. The result is the reduced loss (mean or sum) in the logits' type; with per-sample
/// losses there is none.
template <class X, class Y, class Outputs>
auto checked_views(const X& x, const Y& y, const Outputs& out, const ce_options& o) {
  using T = typename X::value_type;
  using R = math_t<T>;  // the loss's type: float for 16-bit logits
  label_counts counts;
  if (auto r = validate<true>(x, y, out, o, true, counts); !r) raise(r);
  const bool mean = o.reduction == reduction::mean;
  const double denominator = !mean                ? 1.0
                             : o.denominator > 0 ? o.denominator
                                                 : own_denominator<Y::encoding>(counts, o);
  const double scale = denominator > 0 ? 1.0 / denominator : 0.0;
  double total = 0;
  if constexpr (pair_traits<X, Y>::proven_compatible_types) total = solve(x, y, out, o, scale);
  // (otherwise never compiled into a program: validate's static_assert has failed)
  if constexpr (!Outputs::has_losses) {
    if (!mean) return R(total);
    return denominator > 0 ? R(total / denominator) : R(0);
  }
}

/// One checked call: the views built once, then checked_views on them, with layout_right views
/// when every view is row-major at run time.
template <class Logits, class Labels, class Outputs>
auto checked_call(const Logits& logits, const Labels& labels, const Outputs& out,
                  const ce_options& o) {
  return on_row_major(
      [&](const auto& x, const auto& y, const auto& outputs) {
        return checked_views(x, y, outputs, o);
      },
      as_const_view(logits), as_labels(labels), out);
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
