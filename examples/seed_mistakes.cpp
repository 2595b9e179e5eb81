// The three classic mistakes of a classifier's training step, as shapeguard reports them,
// and each one fixed.
//
//   1. integer labels holding class 9 while the output layer has 5 units;
//   2. labels one-hot encoded with 5 columns for a 3-class model;
//   3. a batch of 10 logits rows with 15 labels.
#include <shapeguard/shapeguard.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace sg = shapeguard;

namespace {

/// Stands in for a small CNN's last layer: `rows` x `classes` logits.
auto cnn_logits(std::size_t rows, std::size_t classes) -> std::vector<float> {
  std::vector<float> out(rows * classes);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = 2.0f * std::sin(0.7f * float(i) + 0.3f);
  return out;
}

using logits_view = sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>>;
using grad_view = sg::tensor_view<float, sg::extents<sg::dyn, sg::dyn>>;

/// One training step's loss call, as a trainer writes it; reports what shapeguard says.
template <class Labels>
void training_step(const char* title, const std::vector<float>& logits, std::size_t rows,
                   std::size_t classes, const Labels& labels) {
  std::printf("%s\n", title);
  std::vector<float> grad(logits.size(), 0.0f);
  try {
    const float loss = sg::softmax_cross_entropy(logits_view(logits.data(), rows, classes),
                                                 labels, grad_view(grad.data(), rows, classes));
    std::printf("  ok: loss %.4f, gradient [%zu, %zu] written\n\n", double(loss), rows, classes);
  } catch (const sg::shape_error& e) {
    std::printf("  shapeguard: %s\n    %s\n\n", sg::to_string(e.kind()).data(), e.what());
  }
}

/// One-hot rows of `width` columns for `classes`.
auto encode_one_hot(const std::vector<std::int64_t>& classes, std::size_t width)
    -> std::vector<float> {
  std::vector<float> rows(classes.size() * width, 0.0f);
  for (std::size_t i = 0; i < classes.size(); ++i)
    rows[i * width + std::size_t(classes[i])] = 1.0f;
  return rows;
}

}  // namespace

int main() {
  using one_hot_view = sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>>;

  // 1. The data set has 10 classes; the output layer was built with 5 units.
  const std::vector<std::int64_t> ten_class_labels = {3, 1, 4, 1, 9, 2, 6, 5};
  training_step("1. labels hold class 9, the output layer has 5 units", cnn_logits(8, 5), 8, 5,
                ten_class_labels);
  training_step("   fixed: an output layer of 10 units", cnn_logits(8, 10), 8, 10,
                ten_class_labels);

  // 2. A 3-class model; the labels were one-hot encoded with the encoder's default width 5.
  const std::vector<std::int64_t> three_class_labels = {0, 2, 1, 1, 0, 2};
  const auto wide = encode_one_hot(three_class_labels, 5);
  training_step("2. labels one-hot encoded with 5 columns for a 3-class model", cnn_logits(6, 3),
                6, 3, sg::one_hot(one_hot_view(wide.data(), 6, 5)));
  const auto narrow = encode_one_hot(three_class_labels, 3);
  training_step("   fixed: one-hot encoded with 3 columns", cnn_logits(6, 3), 6, 3,
                sg::one_hot(one_hot_view(narrow.data(), 6, 3)));

  // 3. The label loader used a batch size of 15, the image loader 10.
  std::vector<std::int64_t> fifteen_labels(15);
  for (std::size_t i = 0; i < fifteen_labels.size(); ++i) fifteen_labels[i] = std::int64_t(i % 4);
  training_step("3. a batch of 10 logits rows with 15 labels", cnn_logits(10, 4), 10, 4,
                fifteen_labels);
  const std::vector<std::int64_t> ten_labels(fifteen_labels.begin(), fifteen_labels.begin() + 10);
  training_step("   fixed: labels from the same batch of 10", cnn_logits(10, 4), 10, 4,
                ten_labels);
}
