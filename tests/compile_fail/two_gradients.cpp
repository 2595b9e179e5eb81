// Two gradient buffers in one call: each output has one slot.
// expect: two gradient buffers; per-sample losses go in sg::per_sample
#include <shapeguard/shapeguard.hpp>

#include <cstdint>

namespace sg = shapeguard;

float loss(const float* x, const std::int64_t* y, float* g, float* h) {
  sg::tensor_view<const float, sg::extents<32, 10>> logits(x);
  sg::tensor_view<const std::int64_t, sg::extents<32>> labels(y);
  sg::tensor_view<float, sg::extents<32, 10>> grad(g), other(h);
  return sg::softmax_cross_entropy(logits, labels, grad, other);
}
