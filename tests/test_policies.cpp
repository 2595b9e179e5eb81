// The robustness policies of README's "Robustness" section: non-finite logits, empty batches,
// shapes whose counts do not fit std::size_t, outputs that share memory with an input, and the
// instruction set a build runs. Each test states the policy it holds the library to.
#include <shapeguard/shapeguard.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace sg = shapeguard;

namespace {
using matrix = sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>>;
using mutable_matrix = sg::tensor_view<float, sg::extents<sg::dyn, sg::dyn>>;
using vec = sg::tensor_view<float, sg::extents<sg::dyn>>;
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float sentinel = -7.25f;

// 4 rows of 5 classes, varied enough that every row has its own loss
std::vector<float> logits_4x5() {
  std::vector<float> x(20);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i) * 1.3f) * 3;
  return x;
}
const std::vector<std::int64_t> labels_4 = {1, 4, 0, 2};

struct per_row {
  std::vector<float> losses, grad;
};
// Per-sample losses and per-sample gradients of a [rows, 5] batch.
per_row solve_none(const std::vector<float>& x, const std::vector<std::int64_t>& y) {
  const std::size_t rows = y.size();
  per_row out{std::vector<float>(rows, sentinel), std::vector<float>(rows * 5, sentinel)};
  sg::softmax_cross_entropy(matrix(x.data(), rows, 5), y, sg::per_sample(out.losses),
                            mutable_matrix(out.grad.data(), rows, 5));
  return out;
}

bool all_equal(const std::vector<float>& v, float value) {
  for (float e : v)
    if (std::memcmp(&e, &value, sizeof e) != 0) return false;
  return true;
}
}  // namespace

// --- non-finite logits ------------------------------------------------------------------------

TEST_CASE("a NaN logit makes that row's loss and gradient NaN, and only that row's",
          "[policy][nan]") {
  const auto clean = logits_4x5();
  auto x = clean;
  x[2 * 5 + 3] = qnan;  // row 2
  const per_row a = solve_none(clean, labels_4), b = solve_none(x, labels_4);
  for (std::size_t i = 0; i < 4; ++i) {
    INFO("row " << i);
    if (i == 2) {
      CHECK(std::isnan(b.losses[i]));
      for (std::size_t c = 0; c < 5; ++c) CHECK(std::isnan(b.grad[i * 5 + c]));
    } else {
      // the other rows come out exactly as without the NaN
      CHECK(b.losses[i] == a.losses[i]);
      for (std::size_t c = 0; c < 5; ++c) CHECK(b.grad[i * 5 + c] == a.grad[i * 5 + c]);
    }
  }
  // reduced, the NaN reaches the loss; the other rows' gradient stays finite
  std::vector<float> g(20);
  CHECK(std::isnan(sg::softmax_cross_entropy(matrix(x.data(), 4, 5), labels_4,
                                             mutable_matrix(g.data(), 4, 5))));
  CHECK(std::isnan(sg::softmax_cross_entropy(matrix(x.data(), 4, 5), labels_4,
                                             {.reduction = sg::reduction::sum})));
  for (std::size_t k = 0; k < 20; ++k) CHECK(std::isnan(g[k]) == (k / 5 == 2));
}

TEST_CASE("NaN propagates with per-class targets too", "[policy][nan]") {
  auto x = logits_4x5();
  x[1 * 5] = qnan;
  std::vector<float> t(20, 0.2f);
  std::vector<float> losses(4);
  sg::softmax_cross_entropy(matrix(x.data(), 4, 5), matrix(t.data(), 4, 5),
                            sg::per_sample(losses), {.reduction = sg::reduction::none});
  CHECK(std::isfinite(losses[0]));
  CHECK(std::isnan(losses[1]));
  CHECK(std::isfinite(losses[2]));
  CHECK(std::isfinite(losses[3]));
}

TEST_CASE("infinite logits: +inf gives NaN, -inf gives +inf at a weighted class, 0 elsewhere",
          "[policy][inf]") {
  std::vector<float> x = {1, inf, 0, 2, 3,      // +inf: the softmax is undefined
                          -inf, 1, 2, 0, 1,     // -inf at the target: an infinite loss
                          -inf, 1, 2, 0, 1,     // -inf elsewhere: no contribution
                          -inf, -inf, -inf, -inf, -inf};  // no finite logit at all
  const std::vector<std::int64_t> y = {0, 0, 1, 3};
  const per_row r = solve_none(x, y);
  CHECK(std::isnan(r.losses[0]));
  CHECK(r.losses[1] == inf);
  CHECK(std::isfinite(r.grad[5]));  // d loss / d x at -inf: the softmax is 0 there
  CHECK(r.grad[5] == -1.0f);
  // row 2 equals the same row with the -inf class left out
  std::vector<float> four = {1, 2, 0, 1};
  std::vector<std::int64_t> y4 = {0};
  std::vector<float> l4(1);
  sg::softmax_cross_entropy(matrix(four.data(), 1, 4), y4, sg::per_sample(l4));
  CHECK(r.losses[2] == Approx(l4[0]).epsilon(1e-6));
  CHECK(r.grad[10] == 0.0f);
  CHECK(std::isnan(r.losses[3]));
}

TEST_CASE("an ignored row contributes nothing, whatever its logits", "[policy][nan]") {
  auto x = logits_4x5();
  x[1 * 5 + 1] = qnan;
  x[1 * 5 + 2] = inf;
  const std::vector<std::int64_t> y = {1, -100, 0, 2};
  const per_row r = solve_none(x, y);
  CHECK(r.losses[1] == 0.0f);
  for (std::size_t c = 0; c < 5; ++c) CHECK(r.grad[5 + c] == 0.0f);
  CHECK(std::isfinite(sg::softmax_cross_entropy(matrix(x.data(), 4, 5), y)));
}

TEST_CASE("check_finite raises non_finite before anything is written", "[policy][non_finite]") {
  for (float bad : {qnan, inf, -inf}) {
    auto x = logits_4x5();
    x[3 * 5 + 4] = bad;
    std::vector<float> g(20, sentinel), losses(4, sentinel);
    const sg::ce_options o{.reduction = sg::reduction::none, .check_finite = true};
    try {
      sg::softmax_cross_entropy(matrix(x.data(), 4, 5), labels_4, sg::per_sample(losses),
                                mutable_matrix(g.data(), 4, 5), o);
      FAIL("no error for a non-finite logit");
    } catch (const sg::shape_error& e) {
      CHECK(e.kind() == sg::error_kind::non_finite);
      CHECK_THAT(e.what(), Catch::Contains("position 19 (index [3, 4])"));
    }
    CHECK(all_equal(g, sentinel));
    CHECK(all_equal(losses, sentinel));
    // in place: the logits themselves are left as they were
    const auto before = x;
    CHECK_THROWS_AS(sg::softmax_cross_entropy(matrix(x.data(), 4, 5), labels_4,
                                              mutable_matrix(x.data(), 4, 5),
                                              {.check_finite = true}),
                    sg::shape_error);
    CHECK(std::memcmp(x.data(), before.data(), x.size() * sizeof(float)) == 0);
  }
  // finite logits pass, with the same result as without the check
  const auto x = logits_4x5();
  CHECK(sg::softmax_cross_entropy(matrix(x.data(), 4, 5), labels_4, {.check_finite = true}) ==
        sg::softmax_cross_entropy(matrix(x.data(), 4, 5), labels_4));
}

// --- empty batches ----------------------------------------------------------------------------

TEST_CASE("an empty batch gives loss 0 and leaves zero-size outputs alone", "[policy][empty]") {
  // the views are empty but point at real memory: not one element may be written through them
  std::vector<float> x = {sentinel}, g = {sentinel}, losses = {sentinel};
  std::vector<std::int64_t> y = {3};
  for (auto r : {sg::reduction::mean, sg::reduction::sum}) {
    CHECK(sg::softmax_cross_entropy(matrix(x.data(), 0, 5),
                                    sg::tensor_view<const std::int64_t, sg::dims<1>>(y.data(), 0),
                                    mutable_matrix(g.data(), 0, 5), {.reduction = r}) == 0.0f);
  }
  sg::softmax_cross_entropy(matrix(x.data(), 0, 5),
                            sg::tensor_view<const std::int64_t, sg::dims<1>>(y.data(), 0),
                            sg::per_sample(vec(losses.data(), 0)), mutable_matrix(g.data(), 0, 5));
  CHECK(g[0] == sentinel);
  CHECK(losses[0] == sentinel);
  CHECK(x[0] == sentinel);

  // null pointers are fine when there is nothing to point at
  CHECK(sg::softmax_cross_entropy(matrix(nullptr, 0, 5),
                                  sg::tensor_view<const std::int64_t, sg::dims<1>>(nullptr, 0)) ==
        0.0f);
  // per-class targets, and an empty inner batch axis
  CHECK(sg::softmax_cross_entropy(matrix(x.data(), 0, 5), matrix(x.data(), 0, 5)) == 0.0f);
  CHECK(sg::softmax_cross_entropy(sg::tensor_view<const double, sg::dims<3>>(nullptr, 4, 0, 5),
                                  sg::tensor_view<const std::uint8_t, sg::dims<2>>(nullptr, 4, 0),
                                  {.reduction = sg::reduction::sum}) == 0.0);
}

TEST_CASE("rows without classes: only ignored class indices pass", "[policy][empty]") {
  std::vector<float> x = {sentinel};
  std::vector<std::int64_t> ignored = {-100, -100}, counted = {-100, 0};
  CHECK(sg::softmax_cross_entropy(matrix(x.data(), 2, 0), ignored) == 0.0f);
  CHECK(sg::try_check(matrix(x.data(), 2, 0), counted).kind() ==
        sg::error_kind::label_out_of_range);
  // a per-class row without classes sums to 0, not 1; a one-hot row holds no 1
  const auto p = sg::try_check(matrix(x.data(), 2, 0), matrix(x.data(), 2, 0));
  CHECK(p.kind() == sg::error_kind::invalid_probabilities);
  CHECK_THAT(p.message(), Catch::Contains("row 0 sums to 0"));
  CHECK(sg::try_check(matrix(x.data(), 2, 0), sg::one_hot(matrix(x.data(), 2, 0))).kind() ==
        sg::error_kind::invalid_one_hot);
}

// --- counts that do not fit std::size_t -------------------------------------------------------

TEST_CASE("rows * C that overflows std::size_t is rejected", "[policy][overflow]") {
  const std::size_t big = std::size_t{1} << 33;
  const float* p = nullptr;
  auto kind_of = [](auto&& make) {
    try {
      make();
    } catch (const sg::shape_error& e) {
      CHECK_THAT(e.what(), Catch::Contains("overflows std::size_t"));
      return e.kind();
    }
    FAIL("accepted");
    return sg::error_kind::rank_mismatch;
  };
  CHECK(kind_of([&] { return matrix(p, big, big); }) == sg::error_kind::invalid_option);
  CHECK(kind_of([&] { return sg::tensor_view<const float, sg::extents<sg::dyn, 1024>>(p, std::numeric_limits<std::size_t>::max() / 1000); }) ==
        sg::error_kind::invalid_option);
  // the rows alone overflow, although a zero class axis makes the element count 0
  CHECK(kind_of([&] { return sg::tensor_view<const float, sg::dims<3>>(p, big, big, 0); }) ==
        sg::error_kind::invalid_option);
  // the largest that fit are accepted (a zero first axis: no rows at all)
  CHECK(matrix(p, std::size_t{1} << 31, std::size_t{1} << 32).size() == std::size_t{1} << 63);
  CHECK(sg::tensor_view<const float, sg::dims<3>>(p, 0, big, big).size() == 0);
}

TEST_CASE("extents that do not fit the index type are rejected", "[policy][overflow]") {
  auto message_of = [](auto&& make) -> std::string {
    try {
      make();
    } catch (const sg::shape_error& e) {
      CHECK(e.kind() == sg::error_kind::invalid_option);
      return e.what();
    }
    return "accepted";
  };
  const float* p = nullptr;
  CHECK_THAT(message_of([&] { return matrix(p, -1, 5); }),
             Catch::Contains("extent -1 of axis 0 is negative"));
  CHECK_THAT(message_of([&] { return matrix(p, std::int8_t{3}, std::int64_t{-9000000000}); }),
             Catch::Contains("extent -9000000000 of axis 1 is negative"));
  // sg::dyn itself (std::size_t's largest value) is not an extent
  CHECK_THAT(message_of([&] { return matrix(p, std::numeric_limits<unsigned long long>::max(), 1); }),
             Catch::Contains("does not fit std::size_t"));
  // a static extent contradicted at run time has its own kind (tests/test_extents.cpp)
  try {
    (void)sg::extents<3, sg::dyn>(4, 2);
    FAIL("accepted");
  } catch (const sg::shape_error& e) {
    CHECK(e.kind() == sg::error_kind::extent_mismatch);
    CHECK_THAT(e.what(), Catch::Contains("axis 0 is static 3 but 4 was given"));
  }
  // every integral type is accepted as an extent, char and bool included
  CHECK(sg::dims<2>(char(3), true).size() == 3);
  CHECK(sg::dims<2>(std::uint8_t{255}, short{2}).size() == 510);
}

// --- outputs that share memory with an input --------------------------------------------------

TEST_CASE("an output that overlaps the labels or the class weights is refused, unwritten",
          "[policy][overlap]") {
  auto x = logits_4x5();
  std::vector<float> t(20, 0.2f);  // probability rows, the same element type as the gradient
  const auto t_before = t;
  CHECK(sg::try_check(matrix(x.data(), 4, 5), matrix(t.data(), 4, 5),
                      mutable_matrix(t.data(), 4, 5))
            .kind() == sg::error_kind::output_mismatch);
  CHECK_THROWS_WITH(sg::softmax_cross_entropy(matrix(x.data(), 4, 5), matrix(t.data(), 4, 5),
                                              mutable_matrix(t.data(), 4, 5)),
                    Catch::Contains("grad [4, 5] and probability labels [4, 5] share memory"));
  CHECK(t == t_before);

  std::vector<float> w = {1, 2, 3, 4, 5};
  const auto w_before = w;
  const sg::ce_options o{.reduction = sg::reduction::none, .class_weights = w};
  CHECK_THROWS_WITH(sg::softmax_cross_entropy(matrix(x.data(), 4, 5), labels_4,
                                              sg::per_sample(vec(w.data() + 1, 4)), o),
                    Catch::Contains("per-sample losses [4] and ce_options::class_weights share memory"));
  CHECK(w == w_before);
  // the gradient over the logits stays allowed (in place)
  CHECK_NOTHROW(sg::softmax_cross_entropy(matrix(x.data(), 4, 5), labels_4,
                                          mutable_matrix(x.data(), 4, 5)));
}

// --- float's range ----------------------------------------------------------------------------

TEST_CASE("class weights at the edges of float's range give what double gives",
          "[policy][range]") {
  // Weights summing past ~1e38, or a mean over target weights below float's normal range
  // (which makes the gradient's scale ~1e44), do not fit the float lanes of the vector
  // kernels: such problems are solved by the scalar reference, in double.
  using dmatrix = sg::tensor_view<const double, sg::extents<sg::dyn, sg::dyn>>;
  using mutable_dmatrix = sg::tensor_view<double, sg::extents<sg::dyn, sg::dyn>>;
  const auto xf = logits_4x5();
  const std::vector<double> xd(xf.begin(), xf.end());
  const std::vector<std::vector<float>> weight_sets = {
      {3e38f, 3e38f, 1, 2, 3}, std::vector<float>(5, std::numeric_limits<float>::denorm_min())};
  for (const auto& w : weight_sets) {
    for (float eps : {0.0f, 0.1f}) {
      INFO("weights[0] " << w[0] << ", smoothing " << eps);
      std::vector<float> gf(20);
      std::vector<double> gd(20);
      const sg::ce_options o{.label_smoothing = eps, .class_weights = w};
      const float lf = sg::softmax_cross_entropy(matrix(xf.data(), 4, 5), labels_4,
                                                 mutable_matrix(gf.data(), 4, 5), o);
      const double ld = sg::softmax_cross_entropy(dmatrix(xd.data(), 4, 5), labels_4,
                                                  mutable_dmatrix(gd.data(), 4, 5), o);
      CHECK(std::isfinite(lf));
      CHECK(lf == Approx(ld).epsilon(1e-5));
      for (std::size_t k = 0; k < 20; ++k) CHECK(gf[k] == Approx(gd[k]).epsilon(1e-5).margin(1e-7));
    }
  }
}

// --- instruction sets -------------------------------------------------------------------------

#if __has_include(<shapeguard/isa.hpp>)
TEST_CASE("SHAPEGUARD_FORCE_ISA, when this CPU can run the set, selects it", "[policy][isa]") {
  const char* forced = std::getenv("SHAPEGUARD_FORCE_ISA");
  if (forced == nullptr || *forced == '\0') {
    // unforced: the best set this build and CPU support, which is the last one listed
    CHECK(sg::active_isa() == sg::supported_isas().back());
#if defined(__aarch64__)
    CHECK(sg::active_isa() == sg::isa::neon);
#endif
  } else {
    bool known = false;
    for (sg::isa a : sg::supported_isas())
      if (sg::to_string(a) == forced) {
        known = true;
        CHECK(sg::active_isa() == a);
      }
    if (!known) WARN("SHAPEGUARD_FORCE_ISA=" << forced << " cannot run here");
  }
}
#endif

TEST_CASE("the tests are built for the baseline instruction set", "[policy][isa]") {
  // No -march: the vector paths are chosen at run time, so one binary runs on any x86-64
  // (or AArch64) CPU. A build with AVX enabled globally would test something else.
#if defined(__x86_64__) && (defined(__AVX__) || defined(__AVX2__) || defined(__AVX512F__))
  FAIL("compiled with AVX enabled globally (a -march or -mavx flag)");
#else
  SUCCEED();
#endif
}
