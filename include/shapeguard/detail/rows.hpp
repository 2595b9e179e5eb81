#pragma once
// The problem every kernel solves: a block of rows of logits with their targets, after all
// checks have passed. Kernels (the scalar reference and each SIMD path) take this struct and
// nothing else, so they can be tested against each other directly.
//
// Each row is reduced to coefficients a_c >= 0 over the classes:
//   class index y:   a_c = (1 - eps) * w_y * [c == y] + eps / C * w_c
//   per-class row t: a_c = w_c * ((1 - eps) * t_c + eps / C)
// with w = 1 without class weights. With A = sum_c a_c, m = max_c x_c, s = sum_c exp(x_c - m):
//   loss = A * log(s) + sum_{c : a_c != 0} a_c * (m - x_c)
//   grad_c = scale * (A * exp(x_c - m) / s - a_c)
// Terms with a_c == 0 are skipped, so a -inf logit whose target weight is 0 contributes 0.

#include <cstddef>
#include <cstdint>

namespace shapeguard::detail {

template <class T, class U = T>
struct rows_problem {
  const T* logits = nullptr;        // rows x classes, row-major
  T* grad = nullptr;                // rows x classes, or null; may equal logits (in place)
  T* losses = nullptr;              // rows, or null: each row's loss (0 for ignored rows)
  const std::int64_t* index = nullptr;  // class per row (class-index targets), or null
  std::int64_t ignore_index = -100;     // rows whose index equals this are skipped
  const U* targets = nullptr;       // rows x classes per-class targets, when index is null
  const float* weights = nullptr;   // classes weights, or null
  std::size_t rows = 0;
  std::size_t classes = 0;
  double smoothing = 0;   // eps, in [0, 1]
  double weight_sum = 0;  // sum_c w_c (classes when weights is null)
  double grad_scale = 1;  // multiplies every gradient entry: 1 / denominator for mean
};

}  // namespace shapeguard::detail
