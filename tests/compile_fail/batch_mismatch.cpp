// 10 logits rows with 15 labels: the batch sizes are static and differ.
// expect: batch size mismatch: logits and labels must come from the same batch
// expect-gcc: the comparison reduces to [^(]*\(10 == 15\)
// expect-clang: 10UL == 15UL
// expect-gcc: BatchAxis = 0
// expect-clang: assert_batch_axis<0UL, 10UL, 15UL>
#include <shapeguard/shapeguard.hpp>

#include <cstdint>

namespace sg = shapeguard;

float loss(const float* x, const std::int64_t* y) {
  sg::tensor_view<const float, sg::extents<10, 5>> logits(x);
  sg::tensor_view<const std::int64_t, sg::extents<15>> labels(y);
  return sg::softmax_cross_entropy(logits, labels);
}
