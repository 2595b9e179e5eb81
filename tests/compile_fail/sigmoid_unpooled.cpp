// An unpooled spatial output: [N, H, W, 1] logits against [N, 1] labels.
// expect: sigmoid_cross_entropy: rank mismatch: the logits have axes the labels lack, as an unpooled spatial output
// expect-gcc: the comparison reduces to [^(]*\(2 == 4\)
// expect-clang: 2UL == 4UL
#include <shapeguard/shapeguard.hpp>

namespace sg = shapeguard;

float loss(const float* x, const float* y) {
  sg::tensor_view<const float, sg::extents<sg::dyn, 7, 7, 1>> logits(x, 32);
  sg::tensor_view<const float, sg::extents<sg::dyn, 1>> labels(y, 32);
  return sg::sigmoid_cross_entropy(logits, labels);
}
