// The loss through its public call forms, on cases small enough to work out by hand.
// (tests/test_conformance.cpp compares against PyTorch; tests/test_kernels.cpp compares the
// SIMD paths against the scalar reference.)
#include <shapeguard/shapeguard.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

namespace sg = shapeguard;

namespace {
using matrix = sg::tensor_view<const float, sg::extents<sg::dyn, 3>>;
using mutable_matrix = sg::tensor_view<float, sg::extents<sg::dyn, 3>>;

// Row (2, 0, 0) with target 0: loss log(e^2 + 2) - 2; gradient softmax - one-hot.
const double lse = std::log(std::exp(2.0) + 2.0);
const double p_hi = std::exp(2.0 - lse), p_lo = std::exp(-lse);
}  // namespace

TEST_CASE("mean, sum and the gradient of a hand-worked batch", "[loss]") {
  std::vector<float> x = {2, 0, 0, 0, 2, 0};
  std::vector<std::int64_t> y = {0, 1};
  std::vector<float> g(6);
  const matrix logits(x.data(), 2);

  CHECK(sg::softmax_cross_entropy(logits, y) == Approx(lse - 2.0).epsilon(1e-6));
  CHECK(sg::softmax_cross_entropy(logits, y, {.reduction = sg::reduction::sum}) ==
        Approx(2 * (lse - 2.0)).epsilon(1e-6));

  const float loss = sg::softmax_cross_entropy(logits, y, mutable_matrix(g.data(), 2));
  CHECK(loss == Approx(lse - 2.0).epsilon(1e-6));
  // mean over 2 rows: each gradient row is halved
  CHECK(g[0] == Approx((p_hi - 1) / 2).epsilon(1e-6));
  CHECK(g[1] == Approx(p_lo / 2).epsilon(1e-6));
  CHECK(g[4] == Approx((p_hi - 1) / 2).epsilon(1e-6));
  CHECK(g[5] == Approx(p_lo / 2).epsilon(1e-6));
}

TEST_CASE("per-sample losses and per-sample gradients", "[loss][none]") {
  std::vector<float> x = {2, 0, 0, 0, 0, 2};
  std::vector<std::int32_t> y = {0, 1};
  std::vector<float> losses(2), g(6);
  sg::softmax_cross_entropy(matrix(x.data(), 2), y, sg::per_sample(losses),
                            mutable_matrix(g.data(), 2), {.reduction = sg::reduction::none});
  CHECK(losses[0] == Approx(lse - 2.0).epsilon(1e-6));
  CHECK(losses[1] == Approx(lse).epsilon(1e-6));  // target logit 0, the 2 is elsewhere
  CHECK(g[0] == Approx(p_hi - 1).epsilon(1e-6));  // not divided by the batch
  CHECK(g[4] == Approx(p_lo - 1).epsilon(1e-6));
  // the outputs in the other order, and without options (reduction::none by default): the same
  std::vector<float> losses2(2, -1.0f), g2(6, -1.0f);
  sg::softmax_cross_entropy(matrix(x.data(), 2), y, mutable_matrix(g2.data(), 2),
                            sg::per_sample(losses2));
  CHECK(losses2 == losses);
  CHECK(g2 == g);
  CHECK(sg::try_check(matrix(x.data(), 2), y, mutable_matrix(g2.data(), 2),
                      sg::per_sample(losses2))
            .ok());
  // an explicit reduction other than none with per-sample losses is refused, unwritten
  std::vector<float> losses3(2, -1.0f);
  CHECK_THROWS_AS(sg::softmax_cross_entropy(matrix(x.data(), 2), y, sg::per_sample(losses3),
                                            {.reduction = sg::reduction::sum}),
                  sg::shape_error);
  CHECK(losses3 == std::vector<float>(2, -1.0f));
}

TEST_CASE("the gradient may overwrite the logits", "[loss][in-place]") {
  std::vector<float> x = {0.5f, -1, 3, 2, 2, 2, -4, 0, 1};
  std::vector<std::int64_t> y = {2, 0, 1};
  std::vector<float> separate(9);
  const float a = sg::softmax_cross_entropy(matrix(x.data(), 3), y, mutable_matrix(separate.data(), 3));
  const float b = sg::softmax_cross_entropy(matrix(x.data(), 3), y, mutable_matrix(x.data(), 3));
  CHECK(a == b);
  CHECK(x == separate);
}

TEST_CASE("empty and all-ignored batches give 0 and a zero gradient", "[loss]") {
  std::vector<float> none;
  std::vector<std::int64_t> no_labels;
  CHECK(sg::softmax_cross_entropy(matrix(none.data(), 0), no_labels) == 0.0f);

  std::vector<float> x = {1, 2, 3, 4, 5, 6};
  std::vector<std::int64_t> ignored = {-100, -100};
  std::vector<float> g(6, 9.0f);
  CHECK(sg::softmax_cross_entropy(matrix(x.data(), 2), ignored, mutable_matrix(g.data(), 2)) == 0.0f);
  for (float v : g) CHECK(v == 0.0f);
}

TEST_CASE("ignored rows leave the mean's denominator", "[loss]") {
  std::vector<float> x = {2, 0, 0, 7, -3, 1};
  std::vector<std::int64_t> y = {0, 5};
  std::vector<float> g(6, 9.0f);
  const float loss = sg::softmax_cross_entropy(matrix(x.data(), 2), y, mutable_matrix(g.data(), 2),
                                               {.ignore_index = 5});
  CHECK(loss == Approx(lse - 2.0).epsilon(1e-6));  // one counted row, not the mean of two
  CHECK(g[0] == Approx(p_hi - 1).epsilon(1e-6));
  CHECK(g[3] == 0.0f);
}

TEST_CASE("one-hot and probability rows agree with class indices", "[loss]") {
  std::vector<float> x = {0.5f, -1, 3, 2, 2, 2, -4, 0, 1};
  std::vector<std::int64_t> y = {2, 0, 1};
  std::vector<std::uint8_t> hot = {0, 0, 1, 1, 0, 0, 0, 1, 0};
  std::vector<double> soft = {0, 0, 1, 1, 0, 0, 0, 1, 0};
  const matrix logits(x.data(), 3);
  const float a = sg::softmax_cross_entropy(logits, y);
  const float b = sg::softmax_cross_entropy(logits, sg::one_hot(sg::tensor_view<const std::uint8_t, sg::extents<sg::dyn, 3>>(hot.data(), 3)));
  const float c = sg::softmax_cross_entropy(logits, sg::tensor_view<const double, sg::extents<sg::dyn, 3>>(soft.data(), 3));
  CHECK(b == Approx(a).epsilon(1e-6));
  CHECK(c == Approx(a).epsilon(1e-6));
}

TEST_CASE("leading batch axes are flattened rows", "[loss]") {
  std::vector<float> x(2 * 3 * 5);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i));
  std::vector<std::int16_t> y = {0, 4, 2, 1, 3, 3};
  sg::tensor_view<const float, sg::extents<2, 3, 5>> btc(x.data());
  sg::tensor_view<const std::int16_t, sg::extents<2, 3>> bt(y.data());
  sg::tensor_view<const float, sg::extents<6, 5>> flat(x.data());
  CHECK(sg::softmax_cross_entropy(btc, bt) == sg::softmax_cross_entropy(flat, y));
}

TEST_CASE("double logits give a double loss", "[loss]") {
  std::vector<double> x = {2, 0, 0};
  std::vector<std::int64_t> y = {0};
  sg::tensor_view<const double, sg::extents<1, 3>> logits(x.data());
  const auto loss = sg::softmax_cross_entropy(logits, y);
  STATIC_REQUIRE(std::is_same_v<decltype(loss), const double>);
  CHECK(loss == Approx(lse - 2.0).epsilon(1e-14));
}

TEST_CASE("z-loss: z lse^2 per counted row, unweighted, and its gradient", "[loss][z-loss]") {
  // rows (2, 0, 0) target 0 weight 2, (0, 2, 0) ignored, (0, 0, 2) target 1 weight 0.5; z = 0.25.
  // Each counted row's lse is `lse`; its loss w_y (lse - x_y) + z lse^2, the z term not weighted;
  // the mean divides by sum w_y = 2.5. Gradient: (w_y + 2 z lse) p_c - w_y [c == y], over 2.5.
  std::vector<float> x = {2, 0, 0, 0, 2, 0, 0, 0, 2};
  std::vector<std::int64_t> y = {0, -100, 1};
  const std::vector<float> w = {2.0f, 0.5f, 1.0f};
  const double z = 0.25, zl = z * lse * lse;
  const double row0 = 2 * (lse - 2) + zl, row2 = 0.5 * lse + zl;
  const sg::ce_options o{.class_weights = w, .z_loss = z};
  std::vector<float> g(9, 9.0f);
  const float loss =
      sg::softmax_cross_entropy(matrix(x.data(), 3), y, mutable_matrix(g.data(), 3), o);
  CHECK(loss == Approx((row0 + row2) / 2.5).epsilon(1e-6));
  const double k0 = 2 + 2 * z * lse, k2 = 0.5 + 2 * z * lse;
  CHECK(g[0] == Approx((k0 * p_hi - 2) / 2.5).epsilon(1e-6));
  CHECK(g[1] == Approx(k0 * p_lo / 2.5).epsilon(1e-6));
  for (std::size_t c = 3; c < 6; ++c) CHECK(g[c] == 0.0f);  // the ignored row
  CHECK(g[6] == Approx(k2 * p_lo / 2.5).epsilon(1e-6));
  CHECK(g[7] == Approx((k2 * p_lo - 0.5) / 2.5).epsilon(1e-6));
  CHECK(g[8] == Approx(k2 * p_hi / 2.5).epsilon(1e-6));

  // per sample: the ignored row's loss stays 0, the others carry their z term
  std::vector<float> losses(3, -1.0f);
  sg::ce_options none = o;
  none.reduction = sg::reduction::none;
  sg::softmax_cross_entropy(matrix(x.data(), 3), y, sg::per_sample(losses), none);
  CHECK(losses[0] == Approx(row0).epsilon(1e-6));
  CHECK(losses[1] == 0.0f);
  CHECK(losses[2] == Approx(row2).epsilon(1e-6));

  // per-class targets count every row: the same rows as probabilities, row 1 included
  std::vector<float> t = {1, 0, 0, 0, 1, 0, 0, 1, 0};
  const float dense = sg::softmax_cross_entropy(
      matrix(x.data(), 3), sg::probabilities(matrix(t.data(), 3)), {.z_loss = z});
  CHECK(dense == Approx(((lse - 2) + (lse - 2) + lse + 3 * zl) / 3).epsilon(1e-6));
}

TEST_CASE("z-loss outside [0, inf) is refused before any write", "[loss][z-loss][errors]") {
  std::vector<float> x = {2, 0, 0, 0, 2, 0};
  std::vector<std::int64_t> y = {0, 1};
  std::vector<float> g(6, 7.0f);
  for (double z : {-1e-4, std::nan(""), double(INFINITY)}) {
    try {
      (void)sg::softmax_cross_entropy(matrix(x.data(), 2), y, mutable_matrix(g.data(), 2),
                                      {.z_loss = z});
      FAIL("z_loss " << z << " was accepted");
    } catch (const sg::shape_error& e) {
      CHECK(e.kind() == sg::error_kind::invalid_option);
      CHECK_THAT(e.what(), Catch::Contains("ce_options::z_loss is"));
    }
  }
  CHECK(g == std::vector<float>(6, 7.0f));
}
