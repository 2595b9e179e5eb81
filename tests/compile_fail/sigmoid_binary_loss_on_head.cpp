// A binary loss on a 10-unit head: [N, 10] logits with [N, 1] labels.
// expect: sigmoid_cross_entropy: class count mismatch: one label per row for several outputs
// expect: use softmax_cross_entropy with class indices, or multi-hot encode
// expect-gcc: the comparison reduces to [^(]*\(10 == 1\)
// expect-clang: 10UL == 1UL
#include <shapeguard/shapeguard.hpp>

namespace sg = shapeguard;

float loss(const float* x, const float* y) {
  sg::tensor_view<const float, sg::extents<sg::dyn, 10>> logits(x, 32);
  sg::tensor_view<const float, sg::extents<sg::dyn, 1>> labels(y, 32);
  return sg::sigmoid_cross_entropy(logits, labels);
}
