// Class indices wrapped for the sigmoid loss, which takes targets with the logits' shape.
// expect: sigmoid_cross_entropy: labels are read by their element type
// expect: class indices go to softmax_cross_entropy
#include <shapeguard/shapeguard.hpp>

#include <cstdint>

namespace sg = shapeguard;

float loss(const float* x, const std::int64_t* y) {
  sg::tensor_view<const float, sg::extents<sg::dyn, 10>> logits(x, 32);
  sg::tensor_view<const std::int64_t, sg::extents<sg::dyn>> labels(y, 32);
  return sg::sigmoid_cross_entropy(logits, sg::class_indices(labels));
}
