// The classic mistakes of a classifier's training step, as shapeguard reports them, and each
// one fixed. Softmax (one class per sample):
//
//   1. integer labels holding class 9 while the output layer has 5 units;
//   2. labels one-hot encoded with 5 columns for a 3-class model;
//   3. a batch of 10 logits rows with 15 labels.
//
// Sigmoid (binary and multi-label):
//
//   4. a binary loss on a 10-unit head: [N, 10] logits with [N, 1] labels;
//   5. [N, 1] logits against [N] labels;
//   6. an unpooled spatial output: [N, H, W, 1] logits against [N, 1] labels;
//   7. multi-hot rows passed to the softmax loss;
//   8. a softmax over one output unit, which cannot learn.
//
// Mistakes 5 and 6 are in the ranks, which the types fix: a checked call does not compile, so
// the example shows them with sg::try_check, which reports them as values.
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

/// The sigmoid loss in a training step.
template <class Logits, class Labels>
void binary_step(const char* title, const Logits& logits, const Labels& labels) {
  std::printf("%s\n", title);
  try {
    const float loss = sg::sigmoid_cross_entropy(logits, labels);
    std::printf("  ok: loss %.4f\n\n", double(loss));
  } catch (const sg::shape_error& e) {
    std::printf("  shapeguard: %s\n    %s\n\n", sg::to_string(e.kind()).data(), e.what());
  }
}

/// What try_check says about a pair the checked calls would refuse to compile.
template <class Logits, class Labels>
void binary_check(const char* title, const Logits& logits, const Labels& labels) {
  std::printf("%s\n", title);
  const sg::check_result r = sg::try_check(logits, labels, sg::bce_options{});
  if (r)
    std::printf("  ok\n\n");
  else
    std::printf("  shapeguard: %s\n    %s\n\n", sg::to_string(r.kind()).data(),
                r.message().c_str());
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

  // 4. A binary classifier whose head kept the 10 units of the multi-class model.
  using matrix = sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>>;
  const std::vector<float> is_cat = {1, 0, 0, 1, 1, 0, 1, 0};
  const auto head10 = cnn_logits(8, 10);
  binary_step("4. a binary loss on a 10-unit head: logits [8, 10], labels [8, 1]",
              matrix(head10.data(), 8, 10), matrix(is_cat.data(), 8, 1));
  const auto head1 = cnn_logits(8, 1);
  binary_step("   fixed: a head of one unit", matrix(head1.data(), 8, 1),
              matrix(is_cat.data(), 8, 1));

  // 5. The head has one unit, [8, 1]; the labels came from the loader as [8].
  using vector_view = sg::tensor_view<const float, sg::extents<sg::dyn>>;
  binary_check("5. logits [8, 1] against labels [8]", matrix(head1.data(), 8, 1),
               vector_view(is_cat.data(), 8));
  binary_check("   fixed: labels viewed as [8, 1]", matrix(head1.data(), 8, 1),
               matrix(is_cat.data(), 8, 1));

  // 6. A segmentation-style head without the global pooling: logits [8, 4, 4, 1].
  using spatial = sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn, sg::dyn, sg::dyn>>;
  const auto unpooled = cnn_logits(8, 16);
  binary_check("6. an unpooled spatial output: logits [8, 4, 4, 1], labels [8, 1]",
               spatial(unpooled.data(), 8, 4, 4, 1), matrix(is_cat.data(), 8, 1));
  binary_check("   fixed: pooled to [8, 1]", matrix(head1.data(), 8, 1),
               matrix(is_cat.data(), 8, 1));

  // 7. Multi-label targets (a photo holds a cat and a dog) given to the softmax loss.
  const std::vector<float> tags = {1, 1, 0, 0, 1, 0, 0, 1, 1};
  const auto tag_logits = cnn_logits(3, 3);
  training_step("7. multi-hot rows passed to the softmax loss", tag_logits, 3, 3,
                sg::one_hot(one_hot_view(tags.data(), 3, 3)));
  binary_step("   fixed: the sigmoid loss scores each class on its own",
              matrix(tag_logits.data(), 3, 3), matrix(tags.data(), 3, 3));

  // 8. A one-unit head trained with softmax: the loss is 0 whatever the weights.
  const std::vector<std::int64_t> zeros(8, 0);
  training_step("8. softmax over one output unit", head1, 8, 1, zeros);
  binary_step("   fixed: the sigmoid loss on the one unit", matrix(head1.data(), 8, 1),
              matrix(is_cat.data(), 8, 1));
}
