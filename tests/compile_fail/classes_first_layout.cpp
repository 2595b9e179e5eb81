// Logits in PyTorch's [N, C, H, W] order with labels [N, H, W]: the hint names class_axis<1>.
// expect: classes on axis 1: pass sg::class_axis<1>\(logits\)
// expect-gcc: the comparison reduces to [^(]*\(21 == 64\)
// expect-clang: 21UL == 64UL
#include <shapeguard/shapeguard.hpp>

#include <cstdint>

namespace sg = shapeguard;

float loss(const float* x, const std::int64_t* y) {
  sg::tensor_view<const float, sg::extents<sg::dyn, 21, 64, 64>> logits(x, 4);
  sg::tensor_view<const std::int64_t, sg::extents<sg::dyn, 64, 64>> labels(y, 4);
  return sg::softmax_cross_entropy(logits, labels);
}
