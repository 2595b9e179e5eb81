// [B, T, V] logits with labels from sequences of another length: axis 1 differs.
// expect: batch size mismatch
// expect-gcc: the comparison reduces to [^(]*\(128 == 64\)
// expect-clang: 128UL == 64UL
// expect-gcc: BatchAxis = 1
// expect-clang: assert_batch_axis<1UL, 128UL, 64UL>
#include <shapeguard/shapeguard.hpp>

#include <cstdint>

namespace sg = shapeguard;

float loss(const float* x, const std::int64_t* y) {
  sg::tensor_view<const float, sg::extents<sg::dyn, 128, 1000>> logits(x, 4);
  sg::tensor_view<const std::int64_t, sg::extents<sg::dyn, 64>> labels(y, 4);
  return sg::softmax_cross_entropy(logits, labels);
}
