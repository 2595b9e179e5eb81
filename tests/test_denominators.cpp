// The mean's denominator: the call's own (sg::mean_denominator), and a caller's
// (ce_options::denominator, bce_options::denominator) for gradient accumulation and data
// parallelism, where the mean of a step is over every micro-batch and process.
#include <shapeguard/shapeguard.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace sg = shapeguard;

namespace {
constexpr std::size_t C = 7;
using matrix = sg::tensor_view<const float, sg::extents<sg::dyn, C>>;
using mutable_matrix = sg::tensor_view<float, sg::extents<sg::dyn, C>>;
using index_view = sg::tensor_view<const std::int64_t, sg::extents<sg::dyn>>;

auto random_logits(std::size_t rows, unsigned seed) -> std::vector<float> {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> x(rows * C);
  for (auto& v : x) v = normal(rng);
  return x;
}
}  // namespace

TEST_CASE("the call's own denominator is what the mean divides by", "[denominator]") {
  const std::vector<float> x = random_logits(5, 1);
  const std::vector<std::int64_t> y = {0, -100, 2, 1, -100};
  const std::vector<float> w = {0.5f, 2.0f, 4.0f, 1.0f, 1.0f, 1.0f, 1.0f};
  const matrix logits(x.data(), 5);
  const index_view labels(y.data(), 5);

  // rows not ignored; with class weights, their target weights 0.5 + 4 + 2
  CHECK(sg::mean_denominator(logits, labels) == 3.0);
  CHECK(sg::mean_denominator(logits, labels, {.class_weights = w}) == 6.5);
  // the mean is the sum over that denominator
  const float sum = sg::softmax_cross_entropy(logits, labels,
                                              {.reduction = sg::reduction::sum, .class_weights = w});
  CHECK(sg::softmax_cross_entropy(logits, labels, {.class_weights = w}) ==
        Approx(sum / 6.5).epsilon(1e-6));

  // per-class targets: every row counts
  std::vector<float> t(5 * C, 0.0f);
  for (std::size_t i = 0; i < 5; ++i) t[i * C + i] = 1.0f;
  CHECK(sg::mean_denominator(logits, sg::probabilities(matrix(t.data(), 5))) == 5.0);
  CHECK(sg::mean_denominator(logits, sg::one_hot(matrix(t.data(), 5))) == 5.0);

  // the sigmoid loss: every element
  const std::vector<float> targets(5 * C, 0.25f);
  CHECK(sg::mean_denominator(logits, matrix(targets.data(), 5), sg::bce_options{}) == 35.0);
}

TEST_CASE("mean_denominator runs the call's checks", "[denominator]") {
  const std::vector<float> x = random_logits(3, 2);
  const std::vector<std::int64_t> y = {0, 9, 1};
  try {
    (void)sg::mean_denominator(matrix(x.data(), 3), index_view(y.data(), 3));
    FAIL("a label outside [0, 7) was accepted");
  } catch (const sg::shape_error& e) {
    CHECK(e.kind() == sg::error_kind::label_out_of_range);
  }
  const std::vector<float> targets(3 * C, 2.0f);
  CHECK_THROWS_AS(
      sg::mean_denominator(matrix(x.data(), 3), matrix(targets.data(), 3), sg::bce_options{}),
      sg::shape_error);
}

TEST_CASE("micro-batches with the step's denominator add up to the one-call mean",
          "[denominator]") {
  // 12 rows as two micro-batches of 4 and 8 rows; the first holds 3 ignored rows, the second
  // none, so the average of the two local means is not the mean over the step
  constexpr std::size_t N = 12, split = 4;
  const std::vector<float> x = random_logits(N, 3);
  const std::vector<std::int64_t> y = {3, -100, -100, -100, 0, 1, 2, 3, 4, 5, 6, 0};
  const std::vector<float> w = {1.0f, 0.5f, 2.0f, 1.5f, 0.25f, 3.0f, 1.0f};

  struct variant {
    const char* name;
    sg::ce_options options;
  };
  const variant variants[] = {
      {"plain", {}},
      {"class weights", {.class_weights = w}},
      {"smoothing and class weights", {.label_smoothing = 0.2f, .class_weights = w}},
      {"class weights and z-loss", {.class_weights = w, .z_loss = 0.01}},
  };
  for (const variant& v : variants) {
    SECTION(v.name) {
      std::vector<float> g_all(N * C), g_parts(N * C);
      const float whole = sg::softmax_cross_entropy(matrix(x.data(), N), index_view(y.data(), N),
                                                    mutable_matrix(g_all.data(), N), v.options);

      const matrix first(x.data(), split), second(x.data() + split * C, N - split);
      const index_view y_first(y.data(), split), y_second(y.data() + split, N - split);
      const double d = sg::mean_denominator(first, y_first, v.options) +
                       sg::mean_denominator(second, y_second, v.options);
      sg::ce_options step = v.options;
      step.denominator = d;
      const float a = sg::softmax_cross_entropy(first, y_first,
                                                mutable_matrix(g_parts.data(), split), step);
      const float b = sg::softmax_cross_entropy(
          second, y_second, mutable_matrix(g_parts.data() + split * C, N - split), step);
      CHECK(double(a) + double(b) == Approx(whole).epsilon(2e-6));
      for (std::size_t k = 0; k < N * C; ++k) CHECK(g_parts[k] == Approx(g_all[k]).margin(1e-7));

      // what the denominators prevent: the average of local means is another number
      const float local_a = sg::softmax_cross_entropy(first, y_first, v.options);
      const float local_b = sg::softmax_cross_entropy(second, y_second, v.options);
      CHECK(std::abs((double(local_a) + double(local_b)) / 2 - double(whole)) >
            0.05 * std::abs(double(whole)));
    }
  }
}

TEST_CASE("a denominator equal to the call's own changes no bit", "[denominator]") {
  constexpr std::size_t N = 9;
  const std::vector<float> x = random_logits(N, 4);
  const std::vector<std::int64_t> y = {0, 1, -100, 3, 4, 5, 6, 0, 1};
  const std::vector<float> w = {1.0f, 0.5f, 2.0f, 1.5f, 0.25f, 3.0f, 1.0f};
  const sg::ce_options o{.class_weights = w};
  std::vector<float> g1(N * C), g2(N * C);
  const float l1 = sg::softmax_cross_entropy(matrix(x.data(), N), index_view(y.data(), N),
                                             mutable_matrix(g1.data(), N), o);
  sg::ce_options with = o;
  with.denominator = sg::mean_denominator(matrix(x.data(), N), index_view(y.data(), N), o);
  const float l2 = sg::softmax_cross_entropy(matrix(x.data(), N), index_view(y.data(), N),
                                             mutable_matrix(g2.data(), N), with);
  CHECK(l1 == l2);
  CHECK(g1 == g2);
  // and twice the denominator halves loss and gradient
  with.denominator *= 2;
  const float l3 = sg::softmax_cross_entropy(matrix(x.data(), N), index_view(y.data(), N),
                                             mutable_matrix(g2.data(), N), with);
  CHECK(l3 == Approx(l1 / 2).epsilon(1e-6));
  for (std::size_t k = 0; k < N * C; ++k) CHECK(g2[k] == Approx(g1[k] / 2).margin(1e-8));
}

TEST_CASE("a caller's denominator outside its domain is refused before any write",
          "[denominator][errors]") {
  const std::vector<float> x = random_logits(2, 5);
  const std::vector<std::int64_t> y = {0, 1};
  std::vector<float> g(2 * C, 7.0f);
  const double bad[] = {-1.0, std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity()};
  for (double d : bad) {
    try {
      (void)sg::softmax_cross_entropy(matrix(x.data(), 2), index_view(y.data(), 2),
                                      mutable_matrix(g.data(), 2), {.denominator = d});
      FAIL("denominator " << d << " was accepted");
    } catch (const sg::shape_error& e) {
      CHECK(e.kind() == sg::error_kind::invalid_option);
      CHECK_THAT(e.what(), Catch::Contains("ce_options::denominator is"));
    }
  }
  // a denominator divides the mean only
  try {
    (void)sg::softmax_cross_entropy(matrix(x.data(), 2), index_view(y.data(), 2),
                                    mutable_matrix(g.data(), 2),
                                    {.reduction = sg::reduction::sum, .denominator = 4});
    FAIL("a denominator with reduction::sum was accepted");
  } catch (const sg::shape_error& e) {
    CHECK(e.kind() == sg::error_kind::invalid_option);
    CHECK_THAT(e.what(), Catch::Contains("divides the mean only, and the reduction is sum"));
  }
  const std::vector<float> targets(2 * C, 1.0f);
  try {
    (void)sg::sigmoid_cross_entropy(matrix(x.data(), 2), matrix(targets.data(), 2),
                                    mutable_matrix(g.data(), 2), sg::bce_options{.denominator = -2});
    FAIL("a negative bce denominator was accepted");
  } catch (const sg::shape_error& e) {
    CHECK(e.kind() == sg::error_kind::invalid_option);
    CHECK_THAT(e.what(), Catch::Contains("bce_options::denominator is -2"));
  }
  for (float v : g) CHECK(v == 7.0f);
}

TEST_CASE("sigmoid micro-batches with the step's element count add up to the one-call mean",
          "[denominator][sigmoid]") {
  constexpr std::size_t N = 10, split = 3;
  const std::vector<float> x = random_logits(N, 6);
  std::vector<float> t(N * C);
  std::mt19937 rng(7);
  for (auto& v : t) v = float(rng() % 2);
  const std::vector<float> pos = {1.0f, 2.0f, 0.5f, 1.0f, 3.0f, 1.0f, 0.25f};
  const sg::bce_options o{.pos_weight = pos};
  std::vector<float> g_all(N * C), g_parts(N * C);
  const float whole = sg::sigmoid_cross_entropy(matrix(x.data(), N), matrix(t.data(), N),
                                                mutable_matrix(g_all.data(), N), o);
  const matrix first(x.data(), split), second(x.data() + split * C, N - split);
  const matrix t_first(t.data(), split), t_second(t.data() + split * C, N - split);
  sg::bce_options step = o;
  step.denominator =
      sg::mean_denominator(first, t_first, o) + sg::mean_denominator(second, t_second, o);
  CHECK(step.denominator == double(N * C));
  const float a = sg::sigmoid_cross_entropy(first, t_first, mutable_matrix(g_parts.data(), split),
                                            step);
  const float b = sg::sigmoid_cross_entropy(
      second, t_second, mutable_matrix(g_parts.data() + split * C, N - split), step);
  CHECK(double(a) + double(b) == Approx(whole).epsilon(2e-6));
  for (std::size_t k = 0; k < N * C; ++k) CHECK(g_parts[k] == Approx(g_all[k]).margin(1e-8));
}
