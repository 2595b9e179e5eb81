// Integer labels with the logits' rank look one-hot encoded.
// expect: wrap them with sg::one_hot, or pass class indices
// expect-gcc: the comparison reduces to [^(]*\(2 == 1\)
// expect-clang: 2UL == 1UL
#include <shapeguard/shapeguard.hpp>

#include <cstdint>

namespace sg = shapeguard;

float loss(const float* x, const std::int32_t* y) {
  sg::tensor_view<const float, sg::extents<sg::dyn, 3>> logits(x, 8);
  sg::tensor_view<const std::int32_t, sg::extents<sg::dyn, 3>> labels(y, 8);
  return sg::softmax_cross_entropy(logits, labels);
}
