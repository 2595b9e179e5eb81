// Labels one-hot encoded with 5 columns for a 3-class model.
// expect: class count mismatch: one-hot encode with as many columns as the logits have classes
// expect-gcc: the comparison reduces to [^(]*\(3 == 5\)
// expect-clang: 3UL == 5UL
#include <shapeguard/shapeguard.hpp>

namespace sg = shapeguard;

float loss(const float* x, const float* y) {
  sg::tensor_view<const float, sg::extents<sg::dyn, 3>> logits(x, 8);
  sg::tensor_view<const float, sg::extents<sg::dyn, 5>> labels(y, 8);
  return sg::softmax_cross_entropy(logits, sg::one_hot(labels));
}
