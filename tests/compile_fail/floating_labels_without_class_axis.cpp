// Floating labels of shape [N] for [N, C] logits: class indices stored as floats.
// expect: floating labels without the class axis: pass integer class indices
// expect-gcc: the comparison reduces to [^(]*\(1 == 2\)
// expect-clang: 1UL == 2UL
#include <shapeguard/shapeguard.hpp>

namespace sg = shapeguard;

float loss(const float* x, const float* y) {
  sg::tensor_view<const float, sg::extents<32, 10>> logits(x);
  sg::tensor_view<const float, sg::extents<32>> labels(y);
  return sg::softmax_cross_entropy(logits, labels);
}
