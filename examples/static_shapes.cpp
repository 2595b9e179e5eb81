// Fixed shapes are checked by the compiler: a mismatch is a compile error naming the axis and
// both numbers, and the run-time checks that were proven cost nothing.
#include <shapeguard/shapeguard.hpp>

#include <array>
#include <cstdint>
#include <cstdio>

namespace sg = shapeguard;

constexpr std::size_t batch = 32, classes = 10;
using logits_t = sg::tensor_view<const float, sg::extents<batch, classes>>;
using grad_t = sg::tensor_view<float, sg::extents<batch, classes>>;
using labels_t = sg::tensor_view<const std::uint8_t, sg::extents<batch>>;

// Fails to compile with the library's sentence and both numbers when the shapes disagree
// (with 48 labels: "batch size mismatch: logits and labels must come from the same batch",
// g++ "the comparison reduces to '(32 == 48)'").
static_assert(sg::assert_compatible<logits_t, labels_t>());
// The classic mistakes, proven at compile time (sg::compatible, the concept, can be negated):
static_assert(!sg::compatible<logits_t, sg::tensor_view<const std::uint8_t, sg::extents<48>>>);
static_assert(!sg::compatible<logits_t, sg::tensor_view<const std::uint8_t, sg::extents<batch, classes>>>);
static_assert(!sg::compatible<logits_t, sg::tensor_view<const float, sg::extents<batch, 1>>>);
// A dynamic batch proves nothing about the batch: it is checked at run time.
static_assert(sg::assert_compatible<sg::tensor_view<const float, sg::extents<sg::dyn, classes>>, labels_t>());

int main() {
  std::array<float, batch * classes> logits{};
  std::array<float, batch * classes> grad{};
  std::array<std::uint8_t, batch> labels{};
  for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = float(i % 7) * 0.5f;
  for (std::size_t i = 0; i < batch; ++i) labels[i] = std::uint8_t(i % classes);

  const float loss = sg::softmax_cross_entropy(logits_t(logits.data()), labels_t(labels.data()),
                                               grad_t(grad.data()), {.label_smoothing = 0.1f});
  std::printf("logits [%zu, %zu], labels [%zu]: loss %.4f\n", batch, classes, batch, double(loss));

  // Uncomment for a compile error: "batch size mismatch: logits and labels must come from
  // the same batch", with g++ "the comparison reduces to '(32 == 48)'".
  // std::array<std::uint8_t, 48> more{};
  // sg::softmax_cross_entropy(logits_t(logits.data()),
  //                           sg::tensor_view<const std::uint8_t, sg::extents<48>>(more.data()));
}
