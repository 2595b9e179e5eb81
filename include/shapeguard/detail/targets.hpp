#pragma once
// How a row's target becomes coefficients a_c (rows.hpp), and the algebra of a row's loss and
// gradient that follows from them. Class-index targets need no per-class pass over the
// coefficients: everything is a function of the target's weight w_y, the logit x_y, the row
// max m and, with smoothing, the sum over classes of w_c (m - x_c). index_coeffs is that
// algebra, written once for every kernel that solves class-index rows (the tiles compute the
// same expressions in vector lanes). Per-class targets sum their coefficients as they go. The
// kernels take each kind of target as a policy in vector lanes: simd/targets.inl.

#include <cmath>
#include <cstddef>

#include "rows.hpp"

namespace shapeguard::detail {

/// Class index y: a_c = keep w_y [c == y] + spread w_c, keep = 1 - eps, spread = eps / C.
struct index_coeffs {
  double keep = 1, spread = 0;
  double weight_sum = 0;  ///< sum_c w_c

  template <class T, class U>
  static auto of(const rows_problem<T, U>& p) -> index_coeffs {
    return {1.0 - p.smoothing, p.classes == 0 ? 0.0 : p.smoothing / double(p.classes),
            p.weight_sum};
  }
  /// A = sum_c a_c.
  [[nodiscard]] auto total(double wy) const -> double { return keep * wy + spread * weight_sum; }
  /// sum_{a_c != 0} a_c (m - x_c), given smooth_gap = sum_c w_c (m - x_c) over the classes of
  /// nonzero weight (0 without smoothing). The target's term is left out when keep w_y is 0, so
  /// that a -inf target logit of weight 0 contributes 0.
  [[nodiscard]] auto gap(double wy, double m, double xy, double smooth_gap) const -> double {
    const double hit = keep * wy;
    return (hit != 0 ? hit * (m - xy) : 0.0) + spread * smooth_gap;
  }
  /// a_y, the target class's coefficient.
  [[nodiscard]] auto target(double wy) const -> double { return wy * (keep + spread); }
};

/// The z-loss's part of a row's gradient coefficient: A becomes A + 2 z lse (rows.hpp), lse =
/// m + log(s) from the row's max m and sum s; 0 without the z-loss.
inline auto z_grad(double z, double m, double s) -> double {
  return z != 0 ? 2 * z * (m + std::log(s)) : 0.0;
}

}  // namespace shapeguard::detail
