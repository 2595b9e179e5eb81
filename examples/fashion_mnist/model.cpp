#include "model.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <thread>

namespace fashion_mnist {
namespace {

constexpr std::size_t padded_side = image_side + 2;
template <class T>
using padded_image = std::array<T, padded_side * padded_side>;

/// Runs `work(i)` for i in [0, count) on up to `threads` threads (the caller's among them).
template <class F>
void parallel_for(std::size_t count, std::size_t threads, const F& work) {
  if (count == 0) return;
  threads = std::clamp<std::size_t>(threads, 1, count);
  auto run = [&](std::size_t t) {
    for (std::size_t i = count * t / threads, e = count * (t + 1) / threads; i < e; ++i)
      work(i);
  };
  std::vector<std::jthread> pool;
  pool.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
}

/// The image with a border of zeros (the convolution's padding).
template <class T>
void pad(const T* image, padded_image<T>& out) {
  out.fill(T(0));
  for (std::size_t y = 0; y < image_side; ++y)
    std::copy_n(image + y * image_side, image_side, out.data() + (y + 1) * padded_side + 1);
}

/// Dot product of length N with eight independent partial sums (vectorisable, fixed order).
template <std::size_t N, class T>
auto dot(const T* a, const T* b) -> T {
  static_assert(N % 8 == 0);
  std::array<T, 8> acc{};
  for (std::size_t i = 0; i < N; i += 8)
    for (std::size_t l = 0; l < 8; ++l) acc[l] += a[i + l] * b[i + l];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/// y += a * x
template <class T>
void axpy(T a, const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace

template <class T>
basic_cnn<T>::basic_cnn(splitmix64& rng, std::size_t max_batch)
    : max_batch_(max_batch),
      params_(parameter_count),
      grads_(parameter_count * ((max_batch + chunk - 1) / chunk)),
      adam_m_(parameter_count),
      adam_v_(parameter_count),
      pooled_(max_batch * features),
      argmax_(max_batch * features) {
  const std::span p(params_);
  const std::size_t conv_fan_in = kernel * kernel;  // one input channel
  fill_uniform(p.subspan(conv_weight_at, conv_weights), conv_fan_in, rng);
  fill_uniform(p.subspan(conv_bias_at, channels), conv_fan_in, rng);
  fill_uniform(p.subspan(dense_weight_at, dense_weights), features, rng);
  fill_uniform(p.subspan(dense_bias_at, classes), features, rng);
}

template <class T>
void basic_cnn<T>::forward(const T* images, std::size_t n, T* logits, std::size_t threads) {
  if (n > max_batch_) throw std::length_error("cnn::forward: more images than max_batch");
  const T* conv_w = params_.data() + conv_weight_at;
  const T* conv_b = params_.data() + conv_bias_at;
  const T* dense_w = params_.data() + dense_weight_at;
  const T* dense_b = params_.data() + dense_bias_at;
  parallel_for((n + chunk - 1) / chunk, threads, [&](std::size_t c) {
    padded_image<T> padded;
    std::array<T, conv_side * conv_side> conv;
    for (std::size_t s = c * chunk, end = std::min(n, s + chunk); s < end; ++s) {
      pad(images + s * image_pixels, padded);
      T* pooled = pooled_.data() + s * features;
      std::int8_t* argmax = argmax_.data() + s * features;
      for (std::size_t ch = 0; ch < channels; ++ch) {
        // convolution of one channel: nine shifted, scaled copies of the padded image
        std::fill(conv.begin(), conv.end(), conv_b[ch]);
        for (std::size_t ky = 0; ky < kernel; ++ky)
          for (std::size_t kx = 0; kx < kernel; ++kx) {
            const T w = conv_w[(ch * kernel + ky) * kernel + kx];
            for (std::size_t y = 0; y < conv_side; ++y) {
              const T* src = padded.data() + (y + ky) * padded_side + kx;
              T* row = conv.data() + y * conv_side;
              for (std::size_t x = 0; x < conv_side; ++x) row[x] += w * src[x];
            }
          }
        // ReLU then max-pool 2x2: the first maximum of the window, in row-major order,
        // as PyTorch picks it; -1 when the ReLU clamps it (no gradient flows)
        for (std::size_t py = 0; py < pooled_side; ++py)
          for (std::size_t px = 0; px < pooled_side; ++px) {
            const T* window = conv.data() + 2 * py * conv_side + 2 * px;
            const std::array<T, 4> v{window[0], window[1], window[conv_side],
                                          window[conv_side + 1]};
            std::int8_t best = 0;
            for (std::int8_t k = 1; k < 4; ++k)
              if (v[std::size_t(k)] > v[std::size_t(best)]) best = k;
            const std::size_t at = (ch * pooled_side + py) * pooled_side + px;
            const bool active = v[std::size_t(best)] > T(0);
            pooled[at] = active ? v[std::size_t(best)] : T(0);
            argmax[at] = active ? best : std::int8_t{-1};
          }
      }
      for (std::size_t k = 0; k < classes; ++k)
        logits[s * classes + k] = dense_b[k] + dot<features>(pooled, dense_w + k * features);
    }
  });
}

template <class T>
void basic_cnn<T>::backward(const T* images, const T* grad_logits, std::size_t n,
                            std::size_t threads) {
  const T* dense_w = params_.data() + dense_weight_at;
  const std::size_t chunks = (n + chunk - 1) / chunk;
  parallel_for(chunks, threads, [&](std::size_t c) {
    T* g = grads_.data() + c * parameter_count;
    std::fill_n(g, parameter_count, T(0));
    T* g_conv_w = g + conv_weight_at;
    T* g_conv_b = g + conv_bias_at;
    T* g_dense_w = g + dense_weight_at;
    T* g_dense_b = g + dense_bias_at;
    padded_image<T> padded;
    std::vector<T> g_pooled(features);
    for (std::size_t s = c * chunk, end = std::min(n, s + chunk); s < end; ++s) {
      const T* gl = grad_logits + s * classes;
      const T* pooled = pooled_.data() + s * features;
      const std::int8_t* argmax = argmax_.data() + s * features;
      // dense layer: weight and bias gradients, and the gradient of its input
      std::fill(g_pooled.begin(), g_pooled.end(), T(0));
      for (std::size_t k = 0; k < classes; ++k) {
        g_dense_b[k] += gl[k];
        axpy(gl[k], pooled, g_dense_w + k * features, features);
        axpy(gl[k], dense_w + k * features, g_pooled.data(), features);
      }
      // through the pooling and the ReLU to the one active input of each window, and on to
      // the convolution's weights and bias (the input needs no gradient)
      pad(images + s * image_pixels, padded);
      for (std::size_t ch = 0; ch < channels; ++ch)
        for (std::size_t py = 0; py < pooled_side; ++py)
          for (std::size_t px = 0; px < pooled_side; ++px) {
            const std::size_t at = (ch * pooled_side + py) * pooled_side + px;
            if (argmax[at] < 0) continue;
            const T gv = g_pooled[at];
            const auto a = static_cast<std::size_t>(argmax[at]);
            const std::size_t y = 2 * py + a / 2, x = 2 * px + a % 2;
            g_conv_b[ch] += gv;
            for (std::size_t ky = 0; ky < kernel; ++ky)
              for (std::size_t kx = 0; kx < kernel; ++kx)
                g_conv_w[(ch * kernel + ky) * kernel + kx] +=
                    gv * padded[(y + ky) * padded_side + x + kx];
          }
    }
  });
  // the chunks' sums, in chunk order
  for (std::size_t c = 1; c < chunks; ++c)
    axpy(T(1), grads_.data() + c * parameter_count, grads_.data(), parameter_count);
}

template <class T>
void basic_cnn<T>::adam_step(double lr, const adam_options& o) {
  ++adam_t_;
  const double bias1 = 1.0 - std::pow(o.beta1, double(adam_t_));
  const double bias2 = 1.0 - std::pow(o.beta2, double(adam_t_));
  const auto step = static_cast<T>(lr / bias1);
  const auto bias2_sqrt = static_cast<T>(std::sqrt(bias2));
  const auto b1 = static_cast<T>(o.beta1), b2 = static_cast<T>(o.beta2);
  const auto one_minus_b1 = static_cast<T>(1.0 - o.beta1);
  const auto one_minus_b2 = static_cast<T>(1.0 - o.beta2);
  const auto eps = static_cast<T>(o.eps);
  for (std::size_t i = 0; i < parameter_count; ++i) {
    const T g = grads_[i];
    adam_m_[i] = adam_m_[i] * b1 + g * one_minus_b1;
    adam_v_[i] = adam_v_[i] * b2 + g * g * one_minus_b2;
    const T denom = std::sqrt(adam_v_[i]) / bias2_sqrt + eps;
    params_[i] -= step * (adam_m_[i] / denom);
  }
}

template class basic_cnn<float>;
template class basic_cnn<double>;

}  // namespace fashion_mnist
