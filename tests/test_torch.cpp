// The libtorch adapter (shapeguard/torch.hpp). Its 16-bit scalars: a buffer of c10::BFloat16 or
// c10::Half goes through the loss in place, with the same bits out as the library's own bfloat16
// and float16 (needs libtorch's headers only). Its tensors (needs libtorch linked): contiguous,
// transposed, sliced and [N, C, H, W] tensors viewed by from_torch agree with the same problem
// in row-major buffers, and with torch's own cross_entropy; what cannot be viewed is refused.
// Each part is skipped where what it needs is not found.
#include <shapeguard/shapeguard.hpp>

// libtorch's headers come before Catch: libtorch's logging defines a CHECK macro of its own,
// which is removed here so that Catch's is the one the tests use
#if SHAPEGUARD_TEST_LIBTORCH
#include <ATen/ATen.h>
#endif
#if __has_include(<c10/util/BFloat16.h>)
#include <shapeguard/torch.hpp>
#endif
#undef CHECK

#include <catch2/catch.hpp>

#include "skip.hpp"

#if __has_include(<c10/util/BFloat16.h>)
#include "foreign16.hpp"

namespace sg = shapeguard;

static_assert(std::is_same_v<sg::storage_t<c10::BFloat16>, sg::bfloat16>);
static_assert(std::is_same_v<sg::storage_t<c10::Half>, sg::float16>);
static_assert(std::is_same_v<sg::storage_t<const c10::Half>, sg::float16>);

TEST_CASE("libtorch's 16-bit buffers give the bits of the library's own types", "[storage]") {
  shapeguard_test::same_bits_for_every_class_count<c10::BFloat16, c10::Half>();
}

TEST_CASE("libtorch's 16-bit targets are read as floating targets", "[storage]") {
  shapeguard_test::floating_targets<c10::BFloat16>();
}

#if SHAPEGUARD_TEST_LIBTORCH
#include <cstdint>
#include <string>
#include <vector>

namespace {

using sg::dyn;

auto to_vector(const at::Tensor& t) -> std::vector<float> {
  const at::Tensor c = t.contiguous();
  const float* p = c.data_ptr<float>();
  return std::vector<float>(p, p + c.numel());
}

auto indices_to_vector(const at::Tensor& t) -> std::vector<std::int64_t> {
  const at::Tensor c = t.contiguous();
  const std::int64_t* p = c.data_ptr<std::int64_t>();
  return std::vector<std::int64_t>(p, p + c.numel());
}

/// The loss and gradient of [N, C] logits given as a tensor of any strides, against the same
/// values in a row-major buffer.
void agrees_with_plain(const at::Tensor& logits, const at::Tensor& labels) {
  const auto N = std::size_t(logits.size(0)), C = std::size_t(logits.size(1));
  const auto x = to_vector(logits);
  const auto y = indices_to_vector(labels);
  std::vector<float> g_plain(x.size());
  const float want = sg::softmax_cross_entropy(
      sg::tensor_view<const float, sg::dims<2>>(x.data(), N, C), y,
      sg::tensor_view<float, sg::dims<2>>(g_plain.data(), N, C));
  at::Tensor g = at::full_like(logits, -5.0f);
  const float got = sg::softmax_cross_entropy(sg::from_torch<const float, 2>(logits),
                                              sg::from_torch<const std::int64_t, 1>(labels),
                                              sg::from_torch<float, 2>(g));
  CHECK(got == want);
  CHECK(to_vector(g) == g_plain);
}

TEST_CASE("contiguous, transposed and sliced tensors agree with row-major buffers", "[torch]") {
  at::manual_seed(7);
  const std::int64_t N = 37, C = 10;
  const at::Tensor y = at::randint(C, {N}, at::kLong);
  agrees_with_plain(at::randn({N, C}), y);
  agrees_with_plain(at::randn({C, N}).t(), y);                    // strides (1, N)
  agrees_with_plain(at::randn({N, C + 6}).narrow(1, 3, C), y);    // padded rows
  agrees_with_plain(at::randn({2 * N, C}).slice(0, 0, 2 * N, 2), y);  // every other row
  agrees_with_plain(at::randn({N, C}), at::randint(C, {2 * N}, at::kLong).slice(0, 1, 2 * N, 2));
}

TEST_CASE("[N, C, H, W] logits through class_axis<1> agree with torch's cross_entropy",
          "[torch]") {
  at::manual_seed(3);
  const std::int64_t N = 2, C = 21, H = 9, W = 11;
  for (const bool weighted : {false, true}) {
    INFO("weighted " << weighted);
    const at::Tensor x = at::randn({N, C, H, W}, at::kDouble).mul_(3).to(at::kFloat);
    at::Tensor y = at::randint(C, {N, H, W}, at::kLong);
    y.index_put_({0, 0}, -100);  // a row of ignored pixels
    const at::Tensor w = at::rand({C}).add_(0.5);
    const std::vector<float> weights = to_vector(w);

    // torch, in float64 from the same float logits
    at::Tensor xd = x.to(at::kDouble).set_requires_grad(true);
    const at::Tensor loss = at::cross_entropy_loss(
        xd, y, weighted ? c10::optional<at::Tensor>(w.to(at::kDouble)) : c10::nullopt,
        at::Reduction::Mean, -100, 0.1);
    loss.backward();
    const at::Tensor want_grad = xd.grad().to(at::kFloat);

    sg::ce_options o;
    o.label_smoothing = 0.1f;
    if (weighted) o.class_weights = weights;
    at::Tensor g = at::empty_like(x);
    const float got = sg::softmax_cross_entropy(
        sg::class_axis<1>(sg::from_torch<const float, sg::extents<dyn, 21, dyn, dyn>>(x)),
        sg::from_torch<const std::int64_t, 3>(y),
        sg::class_axis<1>(sg::from_torch<float, sg::extents<dyn, 21, dyn, dyn>>(g)), o);
    CHECK(got == Approx(loss.item<double>()).epsilon(1e-5));
    CHECK(at::allclose(g, want_grad, 1e-5, 1e-7));
    CHECK(g.sub(want_grad).abs().max().item<float>() < 1e-6f);
  }
}

template <class F>
auto error_of(const F& f) -> std::pair<sg::error_kind, std::string> {
  try {
    f();
  } catch (const sg::shape_error& e) {
    return {e.kind(), e.what()};
  }
  return {sg::error_kind::invalid_option, "no error"};
}

TEST_CASE("tensors that cannot be viewed as asked are refused with what is wrong", "[torch]") {
  const at::Tensor d = at::zeros({4, 3}, at::kDouble);
  auto [kind, what] = error_of([&] { (void)sg::from_torch<const float, 2>(d); });
  CHECK(kind == sg::error_kind::invalid_option);
  CHECK_THAT(what, Catch::Contains("tensor [4, 3] has dtype Double, not Float"));

  std::tie(kind, what) = error_of([&] { (void)sg::from_torch<const double, 3>(d); });
  CHECK(kind == sg::error_kind::rank_mismatch);
  CHECK_THAT(what, Catch::Contains("has rank 2, not 3"));

  std::tie(kind, what) =
      error_of([&] { (void)sg::from_torch<const double, sg::extents<4, 10>>(d); });
  CHECK(kind == sg::error_kind::extent_mismatch);

  std::tie(kind, what) = error_of([&] { (void)sg::from_torch<const float, 1>(at::Tensor()); });
  CHECK_THAT(what, Catch::Contains("undefined"));

  const at::Tensor sparse = at::zeros({4, 3}).to_sparse();
  std::tie(kind, what) = error_of([&] { (void)sg::from_torch<const float, 2>(sparse); });
  CHECK_THAT(what, Catch::Contains("not strided"));

  // an expanded (broadcast) gradient would write one element for several
  const at::Tensor x = at::randn({4, 3});
  const at::Tensor y = at::zeros({4}, at::kLong);
  at::Tensor row = at::zeros({1, 3});
  const at::Tensor expanded = row.expand({4, 3});
  std::tie(kind, what) = error_of([&] {
    (void)sg::softmax_cross_entropy(sg::from_torch<const float, 2>(x),
                                    sg::from_torch<const std::int64_t, 1>(y),
                                    sg::from_torch<float, 2>(expanded));
  });
  CHECK(kind == sg::error_kind::output_mismatch);
  CHECK(row.abs().sum().item<float>() == 0.0f);
  // while expanded labels are only read
  const at::Tensor one = at::full({1}, 2, at::kLong).expand({4});
  CHECK(sg::softmax_cross_entropy(sg::from_torch<const float, 2>(x),
                                  sg::from_torch<const std::int64_t, 1>(one)) ==
        sg::softmax_cross_entropy(sg::from_torch<const float, 2>(x),
                                  sg::from_torch<const std::int64_t, 1>(one.contiguous())));
}

}  // namespace
#else
TEST_CASE("libtorch's tensors", "[torch]") {
  shapeguard_test::skip("libtorch is not linked (SHAPEGUARD_TEST_TORCH off, or libtorch-dev "
                        "not found): from_torch is not tested");
}
#endif
#else
TEST_CASE("libtorch's 16-bit scalars", "[storage]") {
  shapeguard_test::skip("libtorch's headers (<c10/util/BFloat16.h>) are not found: nothing to test");
}
#endif
