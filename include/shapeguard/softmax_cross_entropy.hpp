#pragma once
/// The checked, fused softmax cross-entropy: loss, gradient and per-sample losses.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>

#include "check.hpp"
#include "detail/dispatch.hpp"

namespace shapeguard {
namespace detail {

/// Rows per block: a function of the class count only, so the order in which block sums are
/// added, and so the reduced loss, is the same for any thread count.
constexpr auto rows_per_block(std::size_t classes) noexcept -> std::size_t {
  return std::clamp<std::size_t>(16384 / std::max<std::size_t>(classes, 1), 1, 256);
}

/// Logits per thread below which another thread costs more to start than it saves: a call
/// uses at most elements / this many threads (and at least the caller's).
inline constexpr std::size_t min_elements_per_thread = std::size_t(1) << 18;

/// Threads for a call over `elements` logits when the caller allows `requested` (>= 1).
constexpr auto thread_count(std::size_t elements, std::size_t requested) noexcept
    -> std::size_t {
  return std::clamp<std::size_t>(elements / min_elements_per_thread, 1, requested);
}

/// Runs `block(b)` for b in [0, blocks), on `threads` threads (the caller's among them).
template <class F>
void for_each_block(std::size_t blocks, std::size_t threads, const F& block) {
  threads = std::min(threads, blocks);
  if (threads <= 1) {
    for (std::size_t b = 0; b < blocks; ++b) block(b);
    return;
  }
  auto run = [&](std::size_t t) {
    for (std::size_t b = blocks * t / threads, e = blocks * (t + 1) / threads; b < e; ++b)
      block(b);
  };
  std::vector<std::jthread> pool;
  pool.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
}

/// Solves a checked call: every check has passed, `summary` holds the mean's denominator.
template <class LogitsView, class Labels>
auto solve(const LogitsView& logits, const Labels& labels,
           typename LogitsView::value_type* grad, typename LogitsView::value_type* losses,
           const ce_options& o, const label_summary& summary) -> typename LogitsView::value_type {
  using T = typename LogitsView::value_type;
  using Y = typename decltype(labels.view)::value_type;
  constexpr std::size_t batch_rank = LogitsView::rank() - 1;
  constexpr auto encoding = Labels::encoding;
  // one-hot rows are solved as class indices, by their hot column
  constexpr bool as_indices =
      encoding == label_encoding::class_indices || encoding == label_encoding::one_hot;
  using U = std::conditional_t<as_indices, T, Y>;

  const std::size_t classes = logits.extent(batch_rank);
  std::size_t rows = 1;
  for (std::size_t a = 0; a < batch_rank; ++a) rows *= logits.extent(a);

  const bool mean = o.reduction == reduction::mean;
  const double denominator = mean ? summary.denominator : 1.0;
  rows_problem<T, U> base;
  base.weights = o.class_weights.empty() ? nullptr : o.class_weights.data();
  base.classes = classes;
  base.smoothing = o.label_smoothing;
  base.weight_sum = double(classes);
  if (base.weights) {
    base.weight_sum = 0;
    for (std::size_t c = 0; c < classes; ++c) base.weight_sum += double(base.weights[c]);
  }
  base.grad_scale = denominator > 0 ? 1.0 / denominator : 0.0;

  const auto kernel = [] {
    if constexpr (as_indices)
      return index_kernel<T>();
    else
      return dense_kernel<T, U>();
  }();
  const std::size_t per_block = rows_per_block(classes);
  const std::size_t blocks = (rows + per_block - 1) / per_block;
  std::vector<double> sums(blocks);
  const std::size_t threads = thread_count(rows * classes, o.threads);
  for_each_block(blocks, threads, [&](std::size_t b) {
    const std::size_t r0 = b * per_block, n = std::min(per_block, rows - r0);
    rows_problem<T, U> p = base;
    p.rows = n;
    p.logits = logits.data() + r0 * classes;
    p.grad = grad ? grad + r0 * classes : nullptr;
    p.losses = losses ? losses + r0 : nullptr;
    std::array<std::int64_t, 256> decoded;
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
    static_assert(as_indices || std::is_floating_point_v<Y>);
    sums[b] = kernel(p);
  });
  double total = 0;
  for (double s : sums) total += s;
  if (!mean) return T(total);
  return denominator > 0 ? T(total / denominator) : T(0);
}

template <class Logits, class Labels, class Losses, class Grad>
auto checked_solve(const Logits& logits, const Labels& labels, const Losses& losses,
                   const Grad& grad, const ce_options& o) {
  label_summary summary;
  if (auto r = check_call<true>(logits, labels, losses, grad, o, summary); !r) raise(r);
  const auto x = as_const_view(logits);
  using T = typename decltype(x)::value_type;
  T* g = nullptr;
  T* l = nullptr;
  if constexpr (!std::is_same_v<Grad, no_output>) g = grad.data();
  if constexpr (!std::is_same_v<Losses, no_output>) l = losses.view.data();
  if constexpr (traits_of<Logits, Labels>::proven_compatible_types)
    return solve(x, as_labels(labels), g, l, o, summary);
  else
    return T{};  // never compiled into a program: check_call's static_assert has failed
}

}  // namespace detail

/// The loss, reduced by `options.reduction` (mean or sum), in the logits' element type.
template <detail::view_like Logits, detail::labels_like Labels>
auto softmax_cross_entropy(const Logits& logits, const Labels& labels,
                           const ce_options& options = {}) {
  return detail::checked_solve(logits, labels, detail::no_output{}, detail::no_output{},
                               options);
}

/// The loss, and its gradient with respect to the logits written to `grad` (the logits'
/// shape; may be the logits' own buffer) in the same pass.
template <detail::view_like Logits, detail::labels_like Labels, detail::grad_like Grad>
auto softmax_cross_entropy(const Logits& logits, const Labels& labels, Grad&& grad,
                           const ce_options& options = {}) {
  return detail::checked_solve(logits, labels, detail::no_output{},
                               detail::grad_view(std::forward<Grad>(grad)), options);
}

/// Per-sample losses (`reduction::none`) into `losses`, shaped like the logits' batch axes.
template <detail::view_like Logits, detail::labels_like Labels, class V>
void softmax_cross_entropy(const Logits& logits, const Labels& labels,
                           const per_sample_losses<V>& losses,
                           const ce_options& options = {.reduction = reduction::none}) {
  detail::checked_solve(logits, labels, losses, detail::no_output{}, options);
}

/// Per-sample losses, and in `grad` row i the gradient of loss i with respect to logits row i.
template <detail::view_like Logits, detail::labels_like Labels, class V, detail::grad_like Grad>
void softmax_cross_entropy(const Logits& logits, const Labels& labels,
                           const per_sample_losses<V>& losses, Grad&& grad,
                           const ce_options& options = {.reduction = reduction::none}) {
  detail::checked_solve(logits, labels, losses, detail::grad_view(std::forward<Grad>(grad)),
                        options);
}

}  // namespace shapeguard
