// Integer [N, 1] labels for [N, C] logits: class indices with a trailing axis.
// expect: \[N, 1\] labels for \[N, C\] logits: drop the trailing axis
// expect-gcc: the comparison reduces to [^(]*\(2 == 1\)
// expect-clang: 2UL == 1UL
#include <shapeguard/shapeguard.hpp>

#include <cstdint>

namespace sg = shapeguard;

float loss(const float* x, const std::int64_t* y) {
  sg::tensor_view<const float, sg::extents<sg::dyn, 10>> logits(x, 32);
  sg::tensor_view<const std::int64_t, sg::extents<sg::dyn, 1>> labels(y, 32);
  return sg::softmax_cross_entropy(logits, labels);
}
