#pragma once
// The vocabulary-parallel softmax loss in two phases, over a slice [offset, offset + classes) of
// a row's total_classes classes (vocab_parallel.hpp is the public side):
//   statistics: each row's slice_stats over the slice (row_stats.hpp: the max m, s, gap and
//               A = sum a_c relative to m; the target's weight; the first argmax), which
//               combine() merges, slice by slice and in any grouping, into the whole row's;
//   finish:     from the whole row's statistics, the slice's part of the gradient,
//               grad_c = scale ((A + 2 z lse) exp(x_c - m) / s - a_c); the loss
//               (A log s + gap + z lse^2) and the prediction come from the statistics alone,
//               outside the kernels, so that every slice computes the same bits.
// Coefficients are rows.hpp's with C the total class count: a_c = keep w_y [c == y] + spread w_c,
// keep = 1 - eps, spread = eps / total_classes, w the slice's own class weights.
// This header holds the problem both phases solve and their scalar reference; the vector
// phases are simd/slices.inl.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "row_stats.hpp"
#include "targets.hpp"

namespace shapeguard {

/// One row's statistics over a slice of its classes: what each process of a vocabulary-parallel
/// loss computes for its slice, ships to the others, and merges with `combine`. A plain struct
/// of 48 bytes (five doubles and an int64), to be sent as bytes.
struct slice_stats {
  /// The slice's largest logit, NaN skipped: the reference of the sums; -inf when the slice
  /// holds no number above -inf (or no class).
  double max = -std::numeric_limits<double>::infinity();
  double sum_exp = 0;  ///< sum_c exp(x_c - max); NaN when a logit is NaN
  double gap = 0;      ///< sum_c a_c (max - x_c) over the classes whose coefficient a_c != 0
  double coeff = 0;    ///< sum_c a_c
  /// The class weight of the row's label when the label lies in the slice, else 0 (1 without
  /// class weights): summed over the slices, the row's share of the weighted mean's divisor.
  double target_weight = 0;
  /// The first class (of the whole vocabulary) whose logit is `max`; -1 when there is none.
  std::int64_t argmax = -1;
};

/// The statistics of two disjoint slices of one row together. Commutative bit for bit; in
/// floating point, associative up to rounding, so that a combination of many slices agrees
/// with the whole row's statistics to rounding in any grouping.
inline auto combine(const slice_stats& x, const slice_stats& y) -> slice_stats {
  const detail::row_stats merged = detail::combine({x.max, {x.sum_exp, x.gap, x.coeff}},
                                                   {y.max, {y.sum_exp, y.gap, y.coeff}});
  slice_stats out;
  out.max = merged.m;
  out.sum_exp = merged.sums.s;
  out.gap = merged.sums.gap;
  out.coeff = merged.sums.a;
  out.target_weight = x.target_weight + y.target_weight;
  // the first maximum of the union: the larger max's, the smaller class of two equal ones
  if (x.max > y.max || y.argmax < 0)
    out.argmax = x.argmax;
  else if (y.max > x.max || x.argmax < 0)
    out.argmax = y.argmax;
  else
    out.argmax = x.argmax < y.argmax ? x.argmax : y.argmax;
  return out;
}

namespace detail {

template <class T>
struct slice_problem {
  const T* logits = nullptr;  // rows x classes, row-major: the slice of each row
  T* grad = nullptr;          // finish: rows x classes; may equal logits (in place)
  const std::int64_t* index = nullptr;  // the class of each row, in [0, total_classes)
  std::int64_t ignore_index = -100;
  const float* weights = nullptr;  // the slice's classes' weights, or null
  std::size_t rows = 0;
  std::size_t classes = 0;        // the slice's
  std::size_t offset = 0;         // the slice's first class
  std::size_t total_classes = 0;  // >= 1
  double smoothing = 0;
  double weight_sum = 0;  // sum of the slice's w_c (classes without weights)
  double grad_scale = 1;
  double z_loss = 0;
  slice_stats* stats = nullptr;           // statistics: written, one per row
  const slice_stats* combined = nullptr;  // finish: the whole rows' statistics, one per row

  [[nodiscard]] auto coeffs() const -> index_coeffs {
    return {1.0 - smoothing, smoothing / double(total_classes), weight_sum};
  }
  /// Where row i's class lies in the slice, or -1 when it lies elsewhere (or is ignored).
  [[nodiscard]] auto local_target(std::size_t i) const -> std::int64_t {
    const std::int64_t y = index[i];
    if (y == ignore_index || y < std::int64_t(offset) || y - std::int64_t(offset) >= std::int64_t(classes))
      return -1;
    return y - std::int64_t(offset);
  }
  [[nodiscard]] auto weight(std::size_t c) const -> double {
    return weights ? double(weights[c]) : 1.0;
  }
};

/// Row i's statistics from its slice's max m (NaN skipped, -inf when none), its first argmax in
/// the slice, and the sums s and smooth_gap = sum_c w_c (m - x_c) over the classes of w_c != 0
/// (row_stats.inl's for the smoothed policy; 0 without smoothing). A slice without a number
/// above -inf has s = 0 (NaN if it holds a NaN) and gap 0: every term's logit equals m.
template <class T>
auto slice_row_stats(const slice_problem<T>& p, std::size_t i, double m, std::int64_t arg,
                     double s, double smooth_gap, bool has_nan) -> slice_stats {
  const index_coeffs k = p.coeffs();
  const std::int64_t y = p.local_target(i);
  const double wy = y >= 0 ? p.weight(std::size_t(y)) : 0.0;
  slice_stats st;
  st.coeff = k.total(wy);
  st.target_weight = wy;
  if (m == -std::numeric_limits<double>::infinity()) {
    st.sum_exp = has_nan ? std::numeric_limits<double>::quiet_NaN() : 0.0;
    return st;
  }
  st.max = m;
  st.sum_exp = s;
  const double xy = y >= 0 ? double(p.logits[i * p.classes + std::size_t(y)]) : m;
  st.gap = k.gap(wy, m, xy, smooth_gap);
  st.argmax = std::int64_t(p.offset) + arg;
  return st;
}

/// Row i's loss from the whole row's statistics: A log s + gap + z lse^2, NaN when the row
/// holds no number above -inf. Not called from the vector kernels, whose function attributes
/// may let the compiler contract it into other bits.
inline auto slice_row_loss(const slice_stats& st, double z) -> double {
  if (st.max == -std::numeric_limits<double>::infinity())
    return std::numeric_limits<double>::quiet_NaN();
  const double log_s = std::log(st.sum_exp);
  double loss = st.coeff * log_s + st.gap;
  if (z != 0) loss += z * (st.max + log_s) * (st.max + log_s);
  return loss;
}

/// The prediction of a row from its whole statistics: -1 where the loss is undefined.
inline auto slice_row_prediction(const slice_stats& st) -> std::int64_t {
  return st.max == -std::numeric_limits<double>::infinity() || std::isnan(st.sum_exp)
             ? -1
             : st.argmax;
}

/// The statistics phase, in double: every row's slice_stats into p.stats (ignored rows: the
/// statistics of an empty slice).
template <class T>
void scalar_slice_stats(const slice_problem<T>& p) {
  const std::size_t C = p.classes;
  const bool smoothed = p.smoothing != 0;
  for (std::size_t i = 0; i < p.rows; ++i) {
    if (p.index[i] == p.ignore_index) {
      p.stats[i] = slice_stats{};
      continue;
    }
    const T* x = p.logits + i * C;
    double m = -std::numeric_limits<double>::infinity();
    std::int64_t arg = -1;
    bool has_nan = false;
    for (std::size_t c = 0; c < C; ++c) {
      const double v = double(x[c]);
      if (std::isnan(v))
        has_nan = true;
      else if (v > m) {
        m = v;
        arg = std::int64_t(c);
      }
    }
    double s = 0, smooth_gap = 0;
    if (m != -std::numeric_limits<double>::infinity())
      for (std::size_t c = 0; c < C; ++c) {
        s += std::exp(double(x[c]) - m);
        if (smoothed && p.weight(c) != 0) smooth_gap += p.weight(c) * (m - double(x[c]));
      }
    p.stats[i] = slice_row_stats(p, i, m, arg, s, smooth_gap, has_nan);
  }
}

/// The finish phase, in double: the slice's gradient from p.combined (ignored rows: 0).
template <class T>
void scalar_slice_finish(const slice_problem<T>& p) {
  const std::size_t C = p.classes;
  const index_coeffs k = p.coeffs();
  const double scale = p.grad_scale;
  for (std::size_t i = 0; i < p.rows; ++i) {
    T* g = p.grad + i * C;
    if (p.index[i] == p.ignore_index) {
      for (std::size_t c = 0; c < C; ++c) g[c] = T(0);
      continue;
    }
    const slice_stats& st = p.combined[i];
    const T* x = p.logits + i * C;
    const std::int64_t y = p.local_target(i);
    const bool undefined = st.max == -std::numeric_limits<double>::infinity();
    const double ratio = scale * (st.coeff + z_grad(p.z_loss, st.max, st.sum_exp)) / st.sum_exp;
    for (std::size_t c = 0; c < C; ++c) {
      const double a =
          (std::int64_t(c) == y ? k.keep * p.weight(c) : 0.0) + k.spread * p.weight(c);
      g[c] = undefined ? std::numeric_limits<T>::quiet_NaN()
                       : T(ratio * std::exp(double(x[c]) - st.max) - scale * a);
    }
  }
}

}  // namespace detail
}  // namespace shapeguard
