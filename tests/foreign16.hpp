#pragma once
// The checks shared by the adapters' tests of another library's 16-bit scalars (test_eigen.cpp,
// test_torch.cpp): its buffers go through the loss in place, with the same bits out as the
// library's own bfloat16 and float16.
#include <shapeguard/shapeguard.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

namespace shapeguard_test {

/// The loss, gradient and per-sample losses of the same bits as Foreign and as Own.
template <class Foreign, class Own>
void same_bits_as_own(std::size_t rows, std::size_t classes) {
  namespace sg = shapeguard;
  std::mt19937 rng(unsigned(rows * 131 + classes));
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<Own> x(rows * classes), g(rows * classes), l(rows);
  for (auto& v : x) v = Own(normal(rng));
  std::vector<Foreign> fx(x.size()), fg(x.size()), fl(rows);
  std::memcpy(static_cast<void*>(fx.data()), x.data(), x.size() * 2);
  std::vector<std::int64_t> y(rows);
  for (std::size_t i = 0; i < rows; ++i) y[i] = std::int64_t((i * 7) % classes);
  using E = sg::extents<sg::dyn, sg::dyn>;
  const sg::tensor_view<const Own, E> xv(x.data(), rows, classes);
  const sg::tensor_view<const Foreign, E> fxv(fx.data(), rows, classes);
  const float loss = sg::softmax_cross_entropy(xv, y, sg::tensor_view<Own, E>(g.data(), rows, classes));
  const float floss =
      sg::softmax_cross_entropy(fxv, y, sg::tensor_view<Foreign, E>(fg.data(), rows, classes));
  static_assert(std::is_same_v<decltype(floss), const float>);
  CHECK(std::memcmp(&loss, &floss, sizeof loss) == 0);
  CHECK(std::memcmp(g.data(), fg.data(), g.size() * 2) == 0);
  sg::softmax_cross_entropy(xv, y, sg::per_sample(l));
  sg::softmax_cross_entropy(fxv, y, sg::per_sample(fl));
  CHECK(std::memcmp(l.data(), fl.data(), l.size() * 2) == 0);
  // the loss is not constant: a gradient entry of the target class is negative
  CHECK(float(g[std::size_t(y[0])]) < 0);
}

/// Both 16-bit types of a library, every tail of the vector kernels.
template <class ForeignBfloat16, class ForeignHalf>
void same_bits_for_every_class_count() {
  for (std::size_t classes : {2u, 7u, 8u, 9u, 33u, 1000u}) {
    same_bits_as_own<ForeignBfloat16, shapeguard::bfloat16>(5, classes);
    same_bits_as_own<ForeignHalf, shapeguard::float16>(5, classes);
  }
}

/// A bfloat16 type's buffers as logits and as probability targets.
template <class B>
void floating_targets() {
  namespace sg = shapeguard;
  std::vector<B> x = {B(1.0f), B(2.0f), B(3.0f)};
  std::vector<B> t = {B(0.25f), B(0.25f), B(0.5f)};
  const sg::tensor_view<const B, sg::extents<1, 3>> xv(x.data());
  const sg::tensor_view<const B, sg::extents<1, 3>> tv(t.data());
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  CHECK(sg::softmax_cross_entropy(xv, tv) ==
        Approx(lse - (0.25 * 1 + 0.25 * 2 + 0.5 * 3)).epsilon(1e-6));
}

}  // namespace shapeguard_test
