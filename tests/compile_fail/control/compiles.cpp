// Must compile: the same kind of call as the compile-fail files, with shapes that fit, for
// every (logit, target) type pair a kernel is instantiated for.
#include <shapeguard/shapeguard.hpp>

#include <cstdint>

namespace sg = shapeguard;

// the user-facing assertion, with shapes that fit
static_assert(sg::assert_compatible<sg::tensor_view<const float, sg::extents<10, 5>>,
                                    sg::tensor_view<const std::int64_t, sg::extents<10>>>());

float loss(const float* x, const std::int64_t* y) {
  sg::tensor_view<const float, sg::extents<10, 5>> logits(x);
  sg::tensor_view<const std::int64_t, sg::extents<10>> labels(y);
  return sg::softmax_cross_entropy(logits, labels);
}

double loss(const double* x, const std::int64_t* y) {
  sg::tensor_view<const double, sg::extents<10, 5>> logits(x);
  sg::tensor_view<const std::int64_t, sg::extents<10>> labels(y);
  return sg::softmax_cross_entropy(logits, labels);
}

float loss(const float* x, const double* y) {
  sg::tensor_view<const float, sg::extents<10, 5>> logits(x);
  sg::tensor_view<const double, sg::extents<10, 5>> labels(y);
  return sg::softmax_cross_entropy(logits, labels);
}

double loss(const double* x, const float* y) {
  sg::tensor_view<const double, sg::extents<10, 5>> logits(x);
  sg::tensor_view<const float, sg::extents<10, 5>> labels(y);
  return sg::softmax_cross_entropy(logits, labels);
}

// the sigmoid loss, with floating and integer targets of the logits' shape
static_assert(sg::assert_sigmoid_compatible<sg::tensor_view<const float, sg::extents<10, 5>>,
                                            sg::tensor_view<const float, sg::extents<10, 5>>>());

float binary_loss(const float* x, const float* y) {
  sg::tensor_view<const float, sg::extents<10, 5>> logits(x);
  sg::tensor_view<const float, sg::extents<10, 5>> labels(y);
  return sg::sigmoid_cross_entropy(logits, labels);
}

double binary_loss(const double* x, const std::uint8_t* y) {
  sg::tensor_view<const double, sg::extents<10, 1>> logits(x);
  sg::tensor_view<const std::uint8_t, sg::extents<10, 1>> labels(y);
  return sg::sigmoid_cross_entropy(logits, labels);
}
