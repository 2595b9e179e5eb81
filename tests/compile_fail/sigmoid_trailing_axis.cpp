// [N, 1] logits against [N] labels: no broadcasting.
// expect: sigmoid_cross_entropy: rank mismatch: no broadcasting: \[N, 1\] logits take \[N, 1\] labels
// expect-gcc: the comparison reduces to [^(]*\(1 == 2\)
// expect-clang: 1UL == 2UL
#include <shapeguard/shapeguard.hpp>

namespace sg = shapeguard;

float loss(const float* x, const float* y) {
  sg::tensor_view<const float, sg::extents<sg::dyn, 1>> logits(x, 32);
  sg::tensor_view<const float, sg::extents<sg::dyn>> labels(y, 32);
  return sg::sigmoid_cross_entropy(logits, labels);
}
