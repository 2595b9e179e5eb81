// Probability labels in long double for float logits.
// expect: floating labels need float, double, sg::bfloat16 or sg::float16 elements
#include <shapeguard/shapeguard.hpp>

namespace sg = shapeguard;

float loss(const float* x, const long double* y) {
  sg::tensor_view<const float, sg::extents<sg::dyn, 3>> logits(x, 8);
  sg::tensor_view<const long double, sg::extents<sg::dyn, 3>> labels(y, 8);
  return sg::softmax_cross_entropy(logits, labels);
}
