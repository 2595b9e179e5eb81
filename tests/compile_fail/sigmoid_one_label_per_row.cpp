// One label per row for a 10-unit head: [N, 10] logits with [N] labels.
// expect: sigmoid_cross_entropy: rank mismatch: one label per row for several outputs
// expect-gcc: the comparison reduces to [^(]*\(1 == 2\)
// expect-clang: 1UL == 2UL
#include <shapeguard/shapeguard.hpp>

namespace sg = shapeguard;

float loss(const float* x, const float* y) {
  sg::tensor_view<const float, sg::extents<sg::dyn, 10>> logits(x, 32);
  sg::tensor_view<const float, sg::extents<sg::dyn>> labels(y, 32);
  return sg::sigmoid_cross_entropy(logits, labels);
}
