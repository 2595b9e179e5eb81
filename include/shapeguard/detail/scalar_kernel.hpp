#pragma once
// The scalar reference kernels: plain loops, double arithmetic, the formulas of rows.hpp
// written out once (softmax rows, sigmoid elements). Every SIMD path is tested against them.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "rows.hpp"

namespace shapeguard::detail {

/// s tanh(x / s), the soft-capped logit, and its derivative 1 - tanh^2(x / s) =
/// 4 e / (1 + e)^2 with e = exp(-2 |x / s|), which keeps its relative accuracy where tanh
/// saturates. Infinite x gives +-s with derivative 0; NaN stays NaN.
inline auto soft_capped(double x, double s) -> double { return s * std::tanh(x / s); }
inline auto soft_cap_slope(double x, double s) -> double {
  const double e = std::exp(-2 * std::fabs(x / s));
  return 4 * e / ((1 + e) * (1 + e));
}

/// Solves `p` row by row; returns the sum of the rows' losses.
template <class T, class U>
auto scalar_rows(const rows_problem<T, U>& p) -> double {
  const std::size_t C = p.classes;
  const double eps = p.smoothing;
  const double spread = C == 0 ? 0.0 : eps / double(C);
  auto w = [&](std::size_t c) { return p.weights ? double(p.weights[c]) : 1.0; };
  // a_c for row i (see rows.hpp)
  auto coefficient = [&](std::size_t i, std::size_t c) -> double {
    if (p.index) {
      const double hit = std::size_t(p.index[i]) == c ? (1.0 - eps) : 0.0;
      return w(c) * (hit + spread);
    }
    return w(c) * ((1.0 - eps) * double(p.targets[i * C + c]) + spread);
  };

  const double cap = p.soft_cap;
  double total = 0;
  for (std::size_t i = 0; i < p.rows; ++i) {
    const T* raw = p.logits + i * C;
    // logit c as the loss sees it (soft-capped when cap > 0), and its derivative; each is read
    // before the gradient entry c may overwrite it (in place)
    auto x = [&](std::size_t c) {
      return cap > 0 ? soft_capped(double(raw[c]), cap) : double(raw[c]);
    };
    auto slope = [&](std::size_t c) {
      return cap > 0 ? soft_cap_slope(double(raw[c]), cap) : 1.0;
    };
    T* g = p.grad ? p.grad + i * C : nullptr;
    if (p.index && p.index[i] == p.ignore_index) {
      if (g)
        for (std::size_t c = 0; c < C; ++c) g[c] = T(0);
      if (p.losses) p.losses[i] = T(0);
      if (p.predictions) p.predictions[i] = -1;
      continue;
    }
    double m = -std::numeric_limits<double>::infinity();
    std::size_t arg = 0;  // the first maximum
    for (std::size_t c = 0; c < C; ++c)
      if (x(c) > m) {
        m = x(c);
        arg = c;
      }
    double s = 0, a_sum = 0, weighted_gap = 0;
    for (std::size_t c = 0; c < C; ++c) {
      s += std::exp(x(c) - m);
      const double a = coefficient(i, c);
      a_sum += a;
      if (a != 0) weighted_gap += a * (m - x(c));
    }
    const double lse = m + std::log(s);
    double loss = a_sum * std::log(s) + weighted_gap;
    if (p.z_loss != 0) loss += p.z_loss * lse * lse;
    if (g) {
      const double scale = p.grad_scale;
      for (std::size_t c = 0; c < C; ++c) {
        const double prob = std::exp(x(c) - m) / s;
        // (A + 2 z lse) p_c, with lse p_c formed first: 2 z lse alone may overflow where the
        // product does not
        const double z_term = p.z_loss != 0 ? 2 * p.z_loss * (lse * prob) : 0.0;
        g[c] = T(scale * (a_sum * prob + z_term - coefficient(i, c)) * slope(c));
      }
    }
    if (p.losses) p.losses[i] = T(loss);
    // s is NaN exactly when the loss is undefined: a NaN or +inf logit, or none above -inf
    if (p.predictions) p.predictions[i] = std::isnan(s) ? -1 : std::int64_t(arg);
    total += loss;
  }
  return total;
}

/// log(1 + exp(z)), without overflow for any z.
inline auto softplus(double z) -> double {
  return (z > 0 ? z : 0.0) + std::log1p(std::exp(-std::fabs(z)));
}

/// 1 / (1 + exp(-z)), for any z.
inline auto sigmoid(double z) -> double {
  const double e = std::exp(-std::fabs(z));
  return z >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/// Solves the sigmoid problem `p` element by element; returns the sum of the losses.
template <class T, class U>
auto scalar_sigmoid(const sigmoid_problem<T, U>& p) -> double {
  double total = 0;
  for (std::size_t i = 0, c = p.column; i < p.count; ++i, c = c + 1 == p.classes ? 0 : c + 1) {
    const double x = double(p.logits[i]);
    // t' = keep t + spread and 1 - t' = keep (1 - t) + spread
    const double t = double(p.targets[i]);
    const double w = p.class_weights ? double(p.class_weights[c]) : 1.0;
    const double pw = p.pos_weight ? double(p.pos_weight[c]) : 1.0;
    const double neg = w * (p.keep * (1 - t) + p.spread), pos = w * pw * (p.keep * t + p.spread);
    double loss = 0, grad = 0;
    if (neg != 0) {
      loss += neg * softplus(x);
      grad += neg * sigmoid(x);
    }
    if (pos != 0) {
      loss += pos * softplus(-x);
      grad -= pos * sigmoid(-x);
    }
    if (x != x) loss = grad = x;  // NaN, whatever the coefficients
    if (p.grad) p.grad[i] = T(p.grad_scale * grad);
    if (p.losses) p.losses[i] = T(loss);
    total += loss;
  }
  return total;
}

}  // namespace shapeguard::detail
