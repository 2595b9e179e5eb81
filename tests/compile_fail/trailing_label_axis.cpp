// [N, 1] floating labels for [N, C] logits.
// expect: \[N, 1\] labels for \[N, C\] logits: drop the trailing axis
// expect-gcc: the comparison reduces to [^(]*\(10 == 1\)
// expect-clang: 10UL == 1UL
#include <shapeguard/shapeguard.hpp>

namespace sg = shapeguard;

float loss(const float* x, const float* y) {
  sg::tensor_view<const float, sg::extents<32, 10>> logits(x);
  sg::tensor_view<const float, sg::extents<32, 1>> labels(y);
  return sg::softmax_cross_entropy(logits, labels);
}
