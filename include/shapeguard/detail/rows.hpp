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
// With the z-loss coefficient z, lse = m + log(s): loss += z * lse^2, and A in grad_c becomes
// A + 2 z lse.
// With soft-capping s > 0, every x_c above is s tanh(x_c / s), and grad_c is multiplied by
// 1 - tanh^2(x_c / s).
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
  double z_loss = 0;      // z >= 0: each row's loss gains z lse^2
  double soft_cap = 0;    // s >= 0: the logits are s tanh(x / s) when s > 0
  std::int64_t* predictions = nullptr;  // rows, or null: each row's first argmax, -1 where the
                                        // loss is NaN (a NaN or +inf logit, none above -inf)
  // 1: logits and grad are rows x classes, row-major. Otherwise (index_columns only) class c of
  // row r is at [c * class_stride + r] in both: the rows are the contiguous axis, as the pixels
  // of PyTorch's [N, C, H, W] (a class axis moved last) or a column-major matrix.
  std::size_t class_stride = 1;
};

/// The problem of the sigmoid kernels: `count` elements of a [rows, classes] tensor, taken in
/// row-major order from the one in column `column`, each a binary problem of its own. With
/// t' = keep * t + spread (label smoothing), w_c and p_c the class and positive weights (1 when
/// null) and c the element's column:
///   loss = w_c (1 - t') softplus(x) + w_c p_c t' softplus(-x)
///   grad = scale * (w_c (1 - t') sigmoid(x) - w_c p_c t' sigmoid(-x))
/// A term whose coefficient (w_c (1 - t'), w_c p_c t') is 0 is skipped, so an infinite logit on
/// the side its target leaves out contributes 0.
template <class T, class U = T>
struct sigmoid_problem {
  const T* logits = nullptr;  // count elements
  T* grad = nullptr;          // count elements, or null; may equal logits (in place)
  T* losses = nullptr;        // count elements, or null: each element's loss
  const U* targets = nullptr;         // count elements, in [0, 1]
  const float* class_weights = nullptr;  // classes entries, or null
  const float* pos_weight = nullptr;     // classes entries, or null
  std::size_t count = 0;
  std::size_t classes = 1;  // >= 1
  std::size_t column = 0;   // of the first element, < classes
  double keep = 1;          // 1 - eps
  double spread = 0;        // eps / 2
  double grad_scale = 1;    // multiplies every gradient entry: 1 / count of the call for mean
  double weight_max = 0;    // the largest w_c p_c and w_c over the classes (0 without weights)
};

}  // namespace shapeguard::detail
