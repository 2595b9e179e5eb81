#pragma once
/// Options of the losses: `ce_options` (softmax cross-entropy), `bce_options` (sigmoid
/// cross-entropy).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace shapeguard {

/// How per-sample losses combine into the result.
enum class reduction {
  mean,  ///< softmax: weighted mean over class indices, mean over rows for per-class targets;
         ///< sigmoid: mean over every element
  sum,   ///< sum over samples
  none,  ///< one loss per sample (softmax: per row; sigmoid: per element), into a caller buffer
         ///< (see `per_sample`)
};

constexpr auto to_string(reduction r) noexcept -> std::string_view {
  switch (r) {
    case reduction::mean: return "mean";
    case reduction::sum: return "sum";
    case reduction::none: return "none";
  }
  return "invalid";
}

/// Options of `softmax_cross_entropy`, with `torch.nn.functional.cross_entropy` semantics.
struct ce_options {
  shapeguard::reduction reduction = shapeguard::reduction::mean;
  std::int64_t ignore_index = -100;           ///< class-index labels only
  float label_smoothing = 0.0f;               ///< in [0, 1]
  std::span<const float> class_weights = {};  ///< empty, or one weight per class
  bool check_finite = false;  ///< raise `non_finite` on NaN or infinite logits, before writing
  /// Threads that may split the rows; 1 = the caller's thread only. A call uses at most one
  /// thread per 2^18 logits (smaller problems finish before a thread starts); the result is
  /// bitwise the same for any count.
  std::size_t threads = 1;
  /// What `reduction::mean` divides loss and gradient by: 0 (the default), the call's own
  /// denominator (`sg::mean_denominator`); a positive value, that value instead, such as the
  /// sum of the denominators of every micro-batch and process of one optimizer step.
  double denominator = 0;
  /// z-loss coefficient z >= 0 (PaLM: 1e-4): each counted row's loss gains z lse^2, lse =
  /// log sum_c exp(x_c) the row's log-normaliser (not weighted by class weights), and its
  /// gradient 2 z lse softmax(x); reduced with the loss (the mean divides it by the same
  /// denominator).
  double z_loss = 0;
  /// Logit soft-capping s >= 0 (Gemma 2: 30): the loss is taken over s tanh(x / s) instead of
  /// x, and the gradient flows through tanh (times 1 - tanh^2(x / s)); 0 turns it off. It
  /// composes with every other option, and predictions are the argmax of the capped logits.
  double soft_cap = 0;
};

/// Options of `sigmoid_cross_entropy`, with `torch.nn.functional.binary_cross_entropy_with_logits`
/// semantics; the weights run along the last axis (the class axis; rank-1 logits have one class).
struct bce_options {
  shapeguard::reduction reduction = shapeguard::reduction::mean;  ///< mean over every element
  std::span<const float> pos_weight = {};     ///< empty, or one weight per class for positives
  std::span<const float> class_weights = {};  ///< empty, or one weight per class (torch's weight)
  float label_smoothing = 0.0f;               ///< in [0, 1]: t -> t (1 - eps) + eps / 2
  std::size_t threads = 1;                    ///< as ce_options::threads
  bool check_finite = false;  ///< raise `non_finite` on NaN or infinite logits, before writing
  /// As ce_options::denominator; the call's own is its element count.
  double denominator = 0;
};

}  // namespace shapeguard
