// A batch of 10 logits with 15 rows of targets.
// expect: sigmoid_cross_entropy: batch size mismatch: logits and labels must come from the same batch
// expect-gcc: the comparison reduces to [^(]*\(10 == 15\)
// expect-clang: 10UL == 15UL
#include <shapeguard/shapeguard.hpp>

namespace sg = shapeguard;

float loss(const float* x, const float* y) {
  sg::tensor_view<const float, sg::extents<10, 4>> logits(x);
  sg::tensor_view<const float, sg::extents<15, 4>> labels(y);
  return sg::sigmoid_cross_entropy(logits, labels);
}
