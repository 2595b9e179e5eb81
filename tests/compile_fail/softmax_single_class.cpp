// A softmax over one output unit: its loss is always 0, whatever the labels.
// expect: logits with one class: a softmax over one class is always 1
// expect: use sigmoid_cross_entropy, or give the output layer 2 units
// expect-gcc: the comparison reduces to [^(]*\(1 != 1\)
// expect-clang: 1UL != 1
#include <shapeguard/shapeguard.hpp>

#include <cstdint>

namespace sg = shapeguard;

float loss(const float* x, const std::int64_t* y) {
  sg::tensor_view<const float, sg::extents<sg::dyn, 1>> logits(x, 32);
  sg::tensor_view<const std::int64_t, sg::extents<sg::dyn>> labels(y, 32);
  return sg::softmax_cross_entropy(logits, labels);
}
