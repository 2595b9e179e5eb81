// Logits in long double: the kernels compute in float and double only.
// expect: logits need a floating element type \(float, double, sg::bfloat16 or sg::float16\)
#include <shapeguard/shapeguard.hpp>

namespace sg = shapeguard;

long double loss(const long double* x, const int* y) {
  sg::tensor_view<const long double, sg::extents<sg::dyn, 3>> logits(x, 8);
  sg::tensor_view<const int, sg::extents<sg::dyn>> labels(y, 8);
  return sg::softmax_cross_entropy(logits, labels);
}
