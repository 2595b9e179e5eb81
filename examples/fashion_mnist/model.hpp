#pragma once
/// The network, with hand-written forward and backward passes, and its Adam optimiser.
///
///   input 1x28x28 -> conv 3x3, `channels` filters, padding 1 -> ReLU -> max-pool 2x2
///   -> flatten (channel, row, column) -> dense to 10 logits
///
/// `T` is the scalar type: the trainer uses float (`cnn`), the gradient check double.
/// Parameters are stored as PyTorch stores them (conv weight [channels, 1, 3, 3], conv bias,
/// dense weight [10, features], dense bias), one flat vector in that order.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "idx.hpp"
#include "rng.hpp"

namespace fashion_mnist {

struct adam_options {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

template <class T>
class basic_cnn {
 public:
  using scalar = T;
  static constexpr std::size_t channels = 32;
  static constexpr std::size_t kernel = 3;
  static constexpr std::size_t conv_side = image_side;  // padding 1 keeps 28x28
  static constexpr std::size_t pooled_side = conv_side / 2;
  static constexpr std::size_t features = channels * pooled_side * pooled_side;
  static constexpr std::size_t conv_weights = channels * kernel * kernel;
  static constexpr std::size_t dense_weights = classes * features;
  /// Where each tensor starts in the flat parameter (and gradient) vector.
  static constexpr std::size_t conv_weight_at = 0;
  static constexpr std::size_t conv_bias_at = conv_weight_at + conv_weights;
  static constexpr std::size_t dense_weight_at = conv_bias_at + channels;
  static constexpr std::size_t dense_bias_at = dense_weight_at + dense_weights;
  static constexpr std::size_t parameter_count = dense_bias_at + classes;
  /// Samples per work item: gradients are summed per chunk, then the chunks in order, so the
  /// results are the same for any thread count.
  static constexpr std::size_t chunk = 8;

  /// PyTorch's default initialisation, drawn from `rng` in parameter order.
  basic_cnn(splitmix64& rng, std::size_t max_batch);

  /// Logits (`n` x 10) of `n` <= max_batch images (`n` x 784, normalised); keeps what
  /// `backward` needs.
  void forward(const T* images, std::size_t n, T* logits, std::size_t threads);

  /// The gradients of the loss with respect to every parameter, given those with respect to
  /// the logits of the last `forward` (same images, same `n`).
  void backward(const T* images, const T* grad_logits, std::size_t n, std::size_t threads);

  /// One Adam step (PyTorch's formulation, no weight decay) with the last gradients.
  void adam_step(double lr, const adam_options& o = {});

  [[nodiscard]] auto parameters() noexcept -> std::span<T> { return params_; }
  /// The gradients from the last `backward`, laid out as the parameters.
  [[nodiscard]] auto gradients() const noexcept -> std::span<const T> {
    return std::span(grads_).first(parameter_count);
  }

 private:
  std::size_t max_batch_;
  std::vector<T> params_;
  std::vector<T> grads_;  // one parameter-sized block per chunk; the sum ends in block 0
  std::vector<T> adam_m_, adam_v_;
  std::int64_t adam_t_ = 0;
  std::vector<T> pooled_;        // max_batch x features: the dense layer's input
  std::vector<std::int8_t> argmax_;  // max_batch x features: window position 0-3, or -1
};

extern template class basic_cnn<float>;
extern template class basic_cnn<double>;

/// The trainer's network.
using cnn = basic_cnn<float>;

}  // namespace fashion_mnist
