#pragma once
/// The vocabulary-parallel softmax cross-entropy, free of any communicator: each process holds
/// the logits of a slice [offset, offset + C_local) of a C-class vocabulary and the class-index
/// labels of the whole batch, and
///   1. `sg::vocab_parallel_stats(logits, labels, slice, stats)` writes each row's statistics
///      over its slice (`sg::slice_stats`, 48 bytes a row);
///   2. the processes merge them with `sg::combine`, commutative, in one all-reduce with a
///      user-defined operation of any collective library (shipping the array as bytes), or by
///      gathering them and combining in rank order;
///   3. `sg::vocab_parallel_finish(logits, labels, slice, combined[, outputs], options)` writes
///      the slice's gradient (and per-sample losses, predictions) and returns the loss, the same
///      value on every process.
/// The semantics are softmax_cross_entropy's on the whole [N..., C] logits: labels are checked
/// against the whole vocabulary (a label in another process's slice is fine, one outside
/// [0, C) is `label_out_of_range` on every process that checks it), `class_weights` holds the
/// slice's C_local weights, and label smoothing (eps / C per class), ignore_index, the z-loss,
/// `denominator`, every reduction and predictions compose with it. Not available here:
/// soft-capping (`invalid_option`), per-class targets (a compile error), and views that are not
/// row-major at run time for the logits and gradient (`invalid_option`, naming the layout).
/// <shapeguard/mpi.hpp> runs the three steps over an MPI communicator.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "check.hpp"
#include "detail/dispatch.hpp"
#include "detail/reduce.hpp"
#include "detail/slices.hpp"
#include "detail/strided.hpp"
#include "outputs.hpp"

#define SHAPEGUARD_VOCAB_OP "vocab_parallel_cross_entropy"

namespace shapeguard {

/// Where a process's logits lie in the vocabulary: classes [offset, offset + C_local) of
/// `classes`, C_local being the logits' last extent.
struct vocab_slice {
  std::size_t offset = 0;   ///< the slice's first class
  std::size_t classes = 0;  ///< C, the whole vocabulary's class count
};

/// `into[i] = combine(into[i], from[i])` for every row: the element-wise operation of an
/// all-reduce of statistics. The spans have one length.
inline void combine(std::span<slice_stats> into, std::span<const slice_stats> from) noexcept {
  const std::size_t n = into.size() < from.size() ? into.size() : from.size();
  for (std::size_t i = 0; i < n; ++i) into[i] = combine(into[i], from[i]);
}

namespace detail {

/// A view's strides, in elements.
template <class View>
auto strides_of(const View& v) -> std::array<std::size_t, View::rank()> {
  std::array<std::size_t, View::rank()> s{};
  for (std::size_t a = 0; a < View::rank(); ++a) s[a] = std::size_t(v.stride(a));
  return s;
}

inline auto vocab_slice_text(const vocab_slice& s, std::size_t local) -> std::string {
  return fmt::format("classes [{}, {}) of {}", s.offset, s.offset + local, s.classes);
}

/// Every check of a vocabulary-parallel phase, in order: the slice, shapes, data, options, the
/// statistics' length (an output of the statistics phase, an input of the finish), outputs,
/// label values against the whole vocabulary, finite logits. On success `counts` holds the
/// rows not ignored.
template <class LogitsView, class Labels, class Outputs>
auto vocab_checks(const LogitsView& logits, const Labels& labels, const Outputs& out,
                  const vocab_slice& slice, const slice_stats* stats, std::size_t stats_rows,
                  bool finish, const ce_options& o, label_counts& counts) -> check_result {
  using Traits = pair_traits<LogitsView, Labels>;
  using T = typename LogitsView::value_type;
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                SHAPEGUARD_VOCAB_OP ": logits of float or double");
  static_assert(Traits::indices,
                SHAPEGUARD_VOCAB_OP ": labels are class indices of the whole vocabulary (integer "
                                    "labels with the logits' rank - 1)");
  static_assert(Traits::rank_ok,
                SHAPEGUARD_VOCAB_OP ": class-index labels have the logits' batch axes (rank - 1)");
  const auto x = sizes_of(logits);
  const auto y = sizes_of(labels.view);
  const std::size_t local = x.back();
  if (slice.classes == 0 || slice.offset > slice.classes || local > slice.classes - slice.offset)
    return failure(error_kind::invalid_option,
                   fmt::format("vocab_slice {{offset {}, classes {}}}: logits {} hold {} classes "
                               "from {}, which do not lie in [0, {}); hint: offset is this "
                               "process's first class, classes the whole vocabulary's count",
                               slice.offset, slice.classes, shape_text(x), local, slice.offset,
                               slice.classes));
  if (slice.classes == 1)
    return failure(error_kind::single_class,
                   fmt::format("vocab_slice {{offset 0, classes 1}}: a vocabulary of one class; "
                               "hint: " SHAPEGUARD_HINT_SINGLE_CLASS));
  // a process may hold a single class of a larger vocabulary
  if (auto r = check_shapes<Traits>(logits, labels.view);
      !r && r.kind() != error_kind::single_class)
    return r;
  if (auto r = check_data(buffer_of(logits, x, "logits")); !r) return r;
  if (auto r = check_data(buffer_of(labels.view, y, "labels")); !r) return r;
  if (auto r = check_options(x, o, true, "labels"); !r) return r;
  if (o.soft_cap != 0)
    return failure(error_kind::invalid_option,
                   fmt::format("ce_options::soft_cap is {} but vocabulary-parallel calls do not "
                               "soft-cap; hint: apply s tanh(x / s) to the logits before the "
                               "call, or set it to 0",
                               o.soft_cap));
  if (!is_row_major(logits))
    return failure(error_kind::invalid_option,
                   fmt::format("logits {} are not row-major in memory (strides {}); "
                               "vocabulary-parallel calls read each row's slice contiguously; "
                               "hint: copy the slice into a row-major buffer",
                               shape_text(x), shape_text(strides_of(logits))));
  std::size_t rows = 1;
  for (std::size_t a = 0; a + 1 < x.size(); ++a) rows *= x[a];
  const buffer logits_b = buffer_of(logits, x, "logits");
  const buffer labels_b = buffer_of(labels.view, y, "labels");
  const buffer weights_b = buffer_of(o.class_weights, "ce_options::class_weights");
  const buffer stats_b{std::span<const std::size_t>(), stats, stats_rows * sizeof(slice_stats),
                       "statistics", false};
  if (stats_rows != rows)
    return failure(finish ? error_kind::batch_mismatch : error_kind::output_mismatch,
                   fmt::format("statistics hold {} rows but logits {} have {}; hint: one "
                               "sg::slice_stats per row of the batch",
                               stats_rows, shape_text(x), rows));
  if (stats == nullptr && rows != 0)
    return failure(error_kind::invalid_option,
                   fmt::format("statistics of {} rows have no data", rows));
  if (!finish)
    if (auto r = check_inputs_apart(stats_b, {logits_b, labels_b, weights_b}); !r) return r;
  if (auto r = check_outputs<Traits>(logits, labels.view, out, o, finish); !r) return r;
  if constexpr (Outputs::has_grad) {
    if (!is_row_major(out.grad))
      return failure(error_kind::invalid_option,
                     fmt::format("grad {} is not row-major in memory (strides {}); hint: pass a "
                                 "row-major buffer",
                                 shape_text(x), shape_text(strides_of(out.grad))));
    const buffer grad_b = buffer_of(out.grad, x, "grad");
    if (auto r = check_inputs_apart(grad_b, {stats_b}); !r) return r;
  }
  if constexpr (Outputs::has_losses) {
    const auto l = sizes_of(out.losses);
    if (auto r = check_inputs_apart(buffer_of(out.losses, l, "per-sample losses"), {stats_b}); !r)
      return r;
  }
  if constexpr (Outputs::has_predictions) {
    using E = typename decltype(out.predictions.view)::value_type;
    const auto pr = sizes_of(out.predictions.view);
    if (slice.classes - 1 > static_cast<unsigned long long>(std::numeric_limits<E>::max()))
      return failure(error_kind::output_mismatch,
                     fmt::format("predictions {} of {}-bit integers cannot hold class {} of the "
                                 "vocabulary; hint: use int32 or int64 predictions",
                                 shape_text(pr), sizeof(E) * 8, slice.classes - 1));
    if (auto r = check_inputs_apart(buffer_of(out.predictions.view, pr, "predictions"), {stats_b});
        !r)
      return r;
  }
  // class indices against the whole vocabulary
  label_counts total;
  auto chunk = [&](const auto* v, std::size_t first, std::size_t n) -> check_result {
    for (std::size_t i = 0; i < n; ++i) {
      if (std::cmp_equal(v[i], o.ignore_index)) continue;
      if (std::cmp_less(v[i], 0) || !std::cmp_less(v[i], slice.classes))
        return failure(error_kind::label_out_of_range,
                       fmt::format("logits {} ({}), labels {}: label {} at {} is outside [0, {}) "
                                   "and is not ignore_index ({}); hint: labels index the whole "
                                   "vocabulary; check vocab_slice::classes, or re-index the "
                                   "labels",
                                   shape_text(x), vocab_slice_text(slice, local), shape_text(y),
                                   value_text(v[i]), position_text(y, first + i), slice.classes,
                                   o.ignore_index));
      ++total.counted;
    }
    return {};
  };
  if (auto r = for_each_chunk(labels.view, labels.view.size(), 1, chunk); !r) return r;
  if (o.check_finite)
    if (auto r = check_finite_logits(logits); !r) return r;
  counts = total;
  return {};
}

/// The rows' labels as int64 class indices (ignored rows: -1 with ignore_index -1).
template <class LabelsView>
auto vocab_labels(const LabelsView& labels, std::int64_t ignore_index, std::vector<std::int64_t>& out)
    -> std::int64_t {
  using Y = typename LabelsView::value_type;
  out.resize(labels.size());
  if constexpr (std::is_same_v<Y, std::int64_t>) {
    gather(labels, 0, labels.size(), out.data());
    return ignore_index;
  } else {
    std::vector<Y> raw(labels.size());
    gather(labels, 0, labels.size(), raw.data());
    for (std::size_t i = 0; i < raw.size(); ++i)
      out[i] = std::cmp_equal(raw[i], ignore_index) ? -1 : std::int64_t(raw[i]);
    return -1;
  }
}

template <class T>
auto vocab_problem(const T* logits, std::size_t classes, const vocab_slice& slice,
                   const ce_options& o) -> slice_problem<T> {
  slice_problem<T> p;
  p.logits = logits;
  p.classes = classes;
  p.offset = slice.offset;
  p.total_classes = slice.classes;
  p.weights = o.class_weights.empty() ? nullptr : o.class_weights.data();
  p.smoothing = o.label_smoothing;
  p.weight_sum = double(classes);
  if (p.weights) {
    p.weight_sum = 0;
    for (std::size_t c = 0; c < classes; ++c) p.weight_sum += double(p.weights[c]);
  }
  p.z_loss = o.z_loss;
  return p;
}

/// Runs `phase` over the blocks of rows (threads as the loss's), each on `base` narrowed to its
/// rows; `place(p, first_row)` points the block's outputs at its rows.
template <class T, class Phase, class Place>
void run_phase(const slice_problem<T>& base, std::size_t rows,
               const std::vector<std::int64_t>& index, std::size_t threads, Phase phase,
               const Place& place) {
  reduce_rows(rows, base.classes, threads, [&](std::size_t r0, std::size_t n) {
    slice_problem<T> p = base;
    p.logits = base.logits + r0 * base.classes;
    p.rows = n;
    p.index = index.data() + r0;
    place(p, r0);
    phase(p);
    return 0.0;
  });
}

/// Step 1 on views built once; `check`: run the call's checks first (off for a caller that ran
/// them already, as mpi.hpp's).
template <class X, class Y>
void vocab_stats_views(const X& x, const Y& y, const vocab_slice& slice,
                       std::span<slice_stats> stats, const ce_options& o, bool check = true) {
  using T = typename X::value_type;
  label_counts counts;
  if (check)
    if (auto r = titled(SHAPEGUARD_VOCAB_OP, vocab_checks(x, y, collect_outputs(), slice,
                                                          stats.data(), stats.size(), false, o,
                                                          counts));
        !r)
      raise(r);
  const std::size_t C = x.extent(X::rank() - 1), rows = stats.size();
  std::vector<std::int64_t> index;
  const std::int64_t ignore = vocab_labels(y.view, o.ignore_index, index);
  slice_problem<T> base = vocab_problem(x.data(), C, slice, o);
  base.ignore_index = ignore;
  run_phase(base, rows, index, o.threads, slice_phases_active<T>().stats,
            [&](slice_problem<T>& p, std::size_t r0) { p.stats = stats.data() + r0; });
}

/// The reduction's divisor from the whole rows' statistics: the sum of the labels' weights over
/// the rows not ignored (each label's weight comes from the one slice that holds it, 1 without
/// class weights: the count of those rows), the same on every process; or the caller's.
inline auto vocab_denominator(std::span<const slice_stats> combined,
                              const std::vector<std::int64_t>& index, std::int64_t ignore,
                              const ce_options& o) -> double {
  if (o.reduction != reduction::mean) return 1.0;
  if (o.denominator > 0) return o.denominator;
  label_counts d;  // in the label pass's four chains, for the same bits
  for (std::size_t i = 0; i < index.size(); ++i)
    if (index[i] != ignore) d.add_weight(i, combined[i].target_weight);
  return d.target_weight();
}

/// Step 3 on views built once; `check` as vocab_stats_views'.
template <class X, class Y, class Outputs>
auto vocab_finish_views(const X& x, const Y& y, const vocab_slice& slice,
                        std::span<const slice_stats> combined, const Outputs& out,
                        const ce_options& o, bool check = true) {
  using T = typename X::value_type;
  label_counts counts;
  if (check)
    if (auto r = titled(SHAPEGUARD_VOCAB_OP, vocab_checks(x, y, out, slice, combined.data(),
                                                          combined.size(), true, o, counts));
        !r)
      raise(r);
  const std::size_t C = x.extent(X::rank() - 1), rows = combined.size();
  std::vector<std::int64_t> index;
  const std::int64_t ignore = vocab_labels(y.view, o.ignore_index, index);
  const double denominator = vocab_denominator(combined, index, ignore, o);
  const double scale = denominator > 0 ? 1.0 / denominator : 0.0;
  if constexpr (Outputs::has_grad) {
    slice_problem<T> base = vocab_problem(x.data(), C, slice, o);
    base.ignore_index = ignore;
    base.grad_scale = o.reduction == reduction::mean ? scale : 1.0;
    run_phase(base, rows, index, o.threads, slice_phases_active<T>().finish,
              [&](slice_problem<T>& p, std::size_t r0) {
                p.grad = out.grad.data() + r0 * C;
                p.combined = combined.data() + r0;
              });
  }
  // losses and predictions from the whole rows' statistics alone, in row order: the same bits
  // on every process, whatever its slice
  if constexpr (Outputs::has_losses) {
    std::vector<T> losses(rows);
    for (std::size_t i = 0; i < rows; ++i)
      losses[i] = index[i] != ignore ? T(slice_row_loss(combined[i], o.z_loss)) : T(0);
    scatter(losses.data(), 0, rows, out.losses);
  }
  if constexpr (Outputs::has_predictions) {
    using E = typename decltype(out.predictions.view)::value_type;
    std::vector<E> predicted(rows);
    std::size_t right = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      const std::int64_t v = index[i] != ignore ? slice_row_prediction(combined[i]) : -1;
      predicted[i] = E(v);
      right += v >= 0 && v == index[i];
    }
    scatter(predicted.data(), 0, rows, out.predictions.view);
    if (out.predictions.correct) *out.predictions.correct = right;
  }
  if constexpr (!Outputs::has_losses) {
    double total = 0;
    for (std::size_t i = 0; i < rows; ++i)
      if (index[i] != ignore) total += slice_row_loss(combined[i], o.z_loss);
    if (o.reduction != reduction::mean) return T(total);
    return denominator > 0 ? T(total / denominator) : T(0);
  }
}

template <class Logits, class Labels, class Outputs>
auto vocab_finish_call(const Logits& logits, const Labels& labels, const vocab_slice& slice,
                       std::span<const slice_stats> combined, const Outputs& out,
                       const ce_options& o) {
  return vocab_finish_views(as_const_view(logits), as_labels(labels), slice, combined, out, o);
}

}  // namespace detail

/// Step 1: each row's statistics over this process's slice into `stats` (one per row of the
/// batch). Runs every check of the call (labels against the whole vocabulary) and writes
/// nothing when one fails.
template <detail::view_like Logits, detail::labels_like Labels>
void vocab_parallel_stats(const Logits& logits, const Labels& labels, const vocab_slice& slice,
                          std::span<slice_stats> stats, const ce_options& options = {}) {
  detail::vocab_stats_views(detail::as_const_view(logits), detail::as_labels(labels), slice,
                            stats, options);
}

/// Step 3: from the whole rows' statistics (step 1's, combined over every slice), the loss
/// reduced by `options.reduction`, the same on every process; with outputs, this slice's
/// gradient (the logits' shape; may be the logits' own buffer), `per_sample(losses)` (the
/// batch shape, `reduction::none`) and `predictions(buffer[, correct])` (classes of the whole
/// vocabulary).
template <detail::view_like Logits, detail::labels_like Labels>
auto vocab_parallel_finish(const Logits& logits, const Labels& labels, const vocab_slice& slice,
                           std::span<const slice_stats> combined, const ce_options& options = {}) {
  return detail::vocab_finish_call(logits, labels, slice, combined, detail::collect_outputs(),
                                   options);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O>
auto vocab_parallel_finish(const Logits& logits, const Labels& labels, const vocab_slice& slice,
                           std::span<const slice_stats> combined, O&& output,
                           const ce_options& options = detail::default_options<O>()) {
  return detail::vocab_finish_call(logits, labels, slice, combined,
                                   detail::collect_outputs(std::forward<O>(output)), options);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::output_like O1,
          detail::output_like O2>
auto vocab_parallel_finish(const Logits& logits, const Labels& labels, const vocab_slice& slice,
                           std::span<const slice_stats> combined, O1&& first, O2&& second,
                           const ce_options& options = detail::default_options<O1, O2>()) {
  return detail::vocab_finish_call(
      logits, labels, slice, combined,
      detail::collect_outputs(std::forward<O1>(first), std::forward<O2>(second)), options);
}

}  // namespace shapeguard
