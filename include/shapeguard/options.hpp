#pragma once
/// Options of the softmax cross-entropy loss.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace shapeguard {

/// How per-sample losses combine into the result.
enum class reduction {
  mean,  ///< weighted mean over class indices, mean over rows for per-class targets
  sum,   ///< sum over samples
  none,  ///< one loss per sample, into a caller buffer (see `per_sample`)
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
};

}  // namespace shapeguard
