// Checks the trainer's hand-written backward pass against central finite differences of its
// forward pass, run in double precision (the same code as the trainer's float network), and
// that the float network's gradients do not depend on the thread count. Needs no data files.
//
// For each parameter tensor (conv weight, conv bias, dense weight, dense bias) and a few random
// directions d of +-1 entries, the analytic directional derivative g . d must match
// (L(p + h d) - L(p - h d)) / 2h. A missing, misrouted or transposed gradient fails.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <shapeguard/shapeguard.hpp>

#include "model.hpp"
#include "rng.hpp"

namespace sg = shapeguard;
namespace fm = fashion_mnist;

namespace {

constexpr std::size_t batch = 32;
using net = fm::basic_cnn<double>;

struct problem {
  std::vector<double> images;
  std::vector<std::uint8_t> labels;
};

/// The summed, label-smoothed loss of the batch; with `grad`, also d loss / d logits.
template <class T>
auto loss(fm::basic_cnn<T>& model, const problem& p, std::vector<T>* grad = nullptr) -> T {
  using logits_view = sg::tensor_view<const T, sg::extents<batch, fm::classes>>;
  using grad_view = sg::tensor_view<T, sg::extents<batch, fm::classes>>;
  using labels_view = sg::tensor_view<const std::uint8_t, sg::extents<batch>>;
  static_assert(sg::compatible<logits_view, labels_view>);
  constexpr sg::ce_options options{.reduction = sg::reduction::sum, .label_smoothing = 0.1f};

  const std::vector<T> images(p.images.begin(), p.images.end());
  std::vector<T> logits(batch * fm::classes);
  model.forward(images.data(), batch, logits.data(), 1);
  if (!grad) return sg::softmax_cross_entropy(logits_view(logits.data()),
                                              labels_view(p.labels.data()), options);
  grad->resize(logits.size());
  return sg::softmax_cross_entropy(logits_view(logits.data()), labels_view(p.labels.data()),
                                   grad_view(grad->data()), options);
}

/// Backward on the float network with 1 and with 3 threads: the same bits.
auto same_gradients_for_any_thread_count(const problem& p) -> bool {
  fm::splitmix64 rng(7);
  fm::cnn model(rng, batch);
  std::vector<float> grad_logits;
  loss(model, p, &grad_logits);
  const std::vector<float> images(p.images.begin(), p.images.end());
  model.backward(images.data(), grad_logits.data(), batch, 1);
  const std::vector<float> one(model.gradients().begin(), model.gradients().end());
  model.backward(images.data(), grad_logits.data(), batch, 3);
  return std::equal(one.begin(), one.end(), model.gradients().begin());
}

}  // namespace

auto main() -> int {
  fm::splitmix64 rng(2024);
  problem p;
  p.images.resize(batch * fm::image_pixels);
  for (double& v : p.images) v = (rng.uniform() - 0.286) / 0.353;
  for (std::size_t i = 0; i < batch; ++i) p.labels.push_back(std::uint8_t(rng.next() % 10));

  int failures = 0;
  if (!same_gradients_for_any_thread_count(p)) {
    fmt::print("FAIL: gradients with 3 threads differ from those with 1\n");
    ++failures;
  }

  net model(rng, batch);
  std::vector<double> grad_logits;
  loss(model, p, &grad_logits);
  const std::vector<double> images(p.images.begin(), p.images.end());
  model.backward(images.data(), grad_logits.data(), batch, 1);
  const std::vector<double> gradient(model.gradients().begin(), model.gradients().end());

  struct tensor {
    std::string_view name;
    std::size_t at, count;
  };
  const tensor tensors[] = {
      {"conv weight", net::conv_weight_at, net::conv_weights},
      {"conv bias", net::conv_bias_at, net::channels},
      {"dense weight", net::dense_weight_at, net::dense_weights},
      {"dense bias", net::dense_bias_at, fm::classes},
  };
  constexpr double h = 1e-7;
  const std::span<double> params = model.parameters();
  for (const tensor& t : tensors) {
    const std::vector<double> saved(params.begin() + std::ptrdiff_t(t.at),
                                    params.begin() + std::ptrdiff_t(t.at + t.count));
    for (int direction = 0; direction < 3; ++direction) {
      std::vector<double> d(t.count);
      double analytic = 0;
      for (std::size_t i = 0; i < t.count; ++i) {
        d[i] = rng.next() % 2 ? 1.0 : -1.0;
        analytic += gradient[t.at + i] * d[i];
      }
      auto shifted_loss = [&](double step) {
        for (std::size_t i = 0; i < t.count; ++i) params[t.at + i] = saved[i] + step * d[i];
        return loss(model, p);
      };
      const double numeric = (shifted_loss(h) - shifted_loss(-h)) / (2 * h);
      std::copy(saved.begin(), saved.end(), params.begin() + std::ptrdiff_t(t.at));
      const double error = std::abs(analytic - numeric) / std::max(std::abs(numeric), 1.0);
      const bool ok = error < 1e-6;
      failures += !ok;
      fmt::print("{} {:12} direction {}: analytic {:12.6f}, finite difference {:12.6f}, "
                 "relative error {:.1e}\n",
                 ok ? "ok  " : "FAIL", t.name, direction, analytic, numeric, error);
    }
  }
  fmt::print("{}\n", failures ? "gradient check FAILED" : "gradient check passed");
  return failures ? 1 : 0;
}
