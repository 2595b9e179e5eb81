#pragma once
// Row statistics: what a pass over a slice of a row's classes keeps, relative to a reference
// (the slice's running max m):
//   s   = sum_c exp(x_c - m)
//   gap = sum_{a_c != 0} a_c (m - x_c)
//   a   = sum_c a_c            (the coefficients' part the pass sums: see targets.hpp)
// Statistics move to a larger reference exactly (rebased), and two slices of one row combine
// into the statistics of their union, in either order: the kernels combine blocks of a long row
// this way, and slices held by different processes combine the same way.

#include <cmath>
#include <limits>

namespace shapeguard::detail {

/// A slice's sums relative to its reference.
struct row_sums {
  double s = 0, gap = 0, a = 0;
  auto operator+=(const row_sums& o) -> row_sums& {
    s += o.s;
    gap += o.gap;
    a += o.a;
    return *this;
  }
};

/// `sums` relative to m moved to the reference m_new >= m: s scales by exp(m - m_new), and each
/// gap term a_c (m - x_c) grows by a_c (m_new - m), a_c summing to `a` (the caller's, when the
/// pass did not sum them).
inline auto rebased(const row_sums& sums, double m, double m_new, double a) -> row_sums {
  row_sums out = sums;
  out.s *= std::exp(m - m_new);
  if (a != 0) out.gap += a * (m_new - m);
  return out;
}

/// The statistics of a slice: its reference (max) and sums. m = -inf: no logit above -inf.
struct row_stats {
  double m = -std::numeric_limits<double>::infinity();
  row_sums sums;
};

/// The statistics of two disjoint slices of one row together.
inline auto combine(const row_stats& x, const row_stats& y) -> row_stats {
  const row_stats& hi = x.m >= y.m ? x : y;
  const row_stats& lo = x.m >= y.m ? y : x;
  if (lo.m == -std::numeric_limits<double>::infinity() && lo.sums.s == 0 && lo.sums.a == 0)
    return {hi.m, {hi.sums.s, hi.sums.gap + lo.sums.gap, hi.sums.a}};
  // one reference (two slices without a number above -inf among them): nothing to rebase
  if (lo.m == hi.m) {
    row_stats out{hi.m, hi.sums};
    out.sums += lo.sums;
    return out;
  }
  row_stats out{hi.m, hi.sums};
  out.sums += rebased(lo.sums, lo.m, hi.m, lo.sums.a);
  return out;
}

}  // namespace shapeguard::detail
