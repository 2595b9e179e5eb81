// Run-time checks: every error_kind, its message (operation, both shapes, the axis or position
// with both numbers, a hint), and that no output is written when a check fails.
#include <shapeguard/shapeguard.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace sg = shapeguard;
using Catch::Matchers::Contains;

namespace {

using matrix = sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>>;
using mutable_matrix = sg::tensor_view<float, sg::extents<sg::dyn, sg::dyn>>;

constexpr float sentinel = 12345.0f;

/// Logits, a gradient buffer and a per-sample buffer, the outputs pre-filled with a sentinel.
struct buffers {
  std::size_t n, c;
  std::vector<float> logits, grad, losses;
  buffers(std::size_t rows, std::size_t classes)
      : n(rows), c(classes), logits(rows * classes), grad(rows * classes, sentinel),
        losses(rows, sentinel) {
    for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = float(i % 7) * 0.25f - 0.5f;
  }
  auto x() const -> matrix { return matrix(logits.data(), n, c); }
  auto g() -> mutable_matrix { return mutable_matrix(grad.data(), n, c); }
  auto untouched() const -> bool {
    for (float v : grad)
      if (std::memcmp(&v, &sentinel, sizeof v) != 0) return false;
    for (float v : losses)
      if (std::memcmp(&v, &sentinel, sizeof v) != 0) return false;
    return true;
  }
};

/// Runs every checked entry point on the same inputs; each must fail with `kind`, say the
/// same thing, and leave every output byte as it was.
template <class Labels>
auto expect_failure(buffers& b, const Labels& labels, sg::error_kind kind,
                    sg::ce_options o = {}) -> std::string {
  const sg::check_result r = sg::try_check(b.x(), labels, o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.kind() == kind);
  CHECK_THAT(r.message(), Contains("softmax_cross_entropy: "));
  CHECK_THAT(r.message(), Contains("hint: ") || Contains("re-indexing"));

  try {
    sg::check(b.x(), labels, o);
    FAIL("check did not throw");
  } catch (const sg::shape_error& e) {
    CHECK(e.kind() == kind);
    CHECK(std::string(e.what()) == r.message());
  }
  try {
    (void)sg::softmax_cross_entropy(b.x(), labels, b.g(), o);
    FAIL("softmax_cross_entropy did not throw");
  } catch (const sg::shape_error& e) {
    CHECK(e.kind() == kind);
  }
  sg::ce_options none = o;
  if (none.reduction == sg::reduction::mean) none.reduction = sg::reduction::none;
  try {
    sg::softmax_cross_entropy(b.x(), labels, sg::per_sample(b.losses), b.g(), none);
    FAIL("softmax_cross_entropy (per sample) did not throw");
  } catch (const sg::shape_error& e) {
    CHECK(e.kind() == kind);
  }
  CHECK(b.untouched());
  return r.message();
}

}  // namespace

TEST_CASE("a batch of 10 logits rows with 15 labels", "[check][batch_mismatch]") {
  buffers b(10, 3);
  std::vector<std::int64_t> labels(15, 0);
  const auto m = expect_failure(b, labels, sg::error_kind::batch_mismatch);
  CHECK_THAT(m, Contains("batch size mismatch: logits [10, 3] have 10 rows but labels [15] have 15"));
  CHECK_THAT(m, Contains("axis 0"));
  CHECK_THAT(m, Contains("same batch"));
}

TEST_CASE("an inner batch axis that differs is named", "[check][batch_mismatch]") {
  std::vector<float> x(2 * 4 * 3);
  std::vector<std::int32_t> y(2 * 5);
  sg::tensor_view<const float, sg::dims<3>> logits(x.data(), 2, 4, 3);
  sg::tensor_view<const std::int32_t, sg::dims<2>> labels(y.data(), 2, 5);
  const auto r = sg::try_check(logits, labels);
  CHECK(r.kind() == sg::error_kind::batch_mismatch);
  CHECK_THAT(r.message(), Contains("on axis 1: logits [2, 4, 3] have 4 but labels [2, 5] have 5"));
}

TEST_CASE("static extents that differ are reported by try_check", "[check][batch_mismatch]") {
  std::vector<float> x(10 * 5);
  std::vector<std::int64_t> y(15);
  sg::tensor_view<const float, sg::extents<10, 5>> logits(x.data());
  sg::tensor_view<const std::int64_t, sg::extents<15>> labels(y.data());
  const auto r = sg::try_check(logits, labels);
  CHECK(r.kind() == sg::error_kind::batch_mismatch);
  CHECK_THAT(r.message(), Contains("logits [10, 5] have 10 rows but labels [15] have 15"));
}

TEST_CASE("labels one-hot encoded with 5 columns for a 3-class model", "[check][class_mismatch]") {
  buffers b(8, 3);
  std::vector<float> y(8 * 5, 0.0f);
  for (std::size_t i = 0; i < 8; ++i) y[i * 5 + i % 5] = 1.0f;
  const matrix labels(y.data(), 8, 5);
  const auto m = expect_failure(b, sg::one_hot(labels), sg::error_kind::class_mismatch);
  CHECK_THAT(m, Contains("logits [8, 3] have 3 classes but one-hot labels [8, 5] have 5"));
  CHECK_THAT(m, Contains("axis 1"));
  CHECK_THAT(m, Contains("one-hot encode"));
}

TEST_CASE("[N, 1] floating labels: drop the trailing axis", "[check][class_mismatch]") {
  buffers b(4, 3);
  std::vector<float> y = {0, 2, 1, 1};
  const matrix labels(y.data(), 4, 1);
  const auto m = expect_failure(b, labels, sg::error_kind::class_mismatch);
  CHECK_THAT(m, Contains("logits [4, 3] have 3 classes but probability labels [4, 1] have 1"));
  CHECK_THAT(m, Contains("drop the trailing axis"));
}

TEMPLATE_TEST_CASE("a label >= C, for every integer type", "[check][label_out_of_range]",
                   std::int8_t, std::uint8_t, std::int16_t, std::uint16_t, std::int32_t,
                   std::uint32_t, std::int64_t, std::uint64_t) {
  buffers b(10, 5);
  std::vector<TestType> labels = {0, 1, 2, 3, 9, 4, 0, 1, 2, 3};
  const auto m = expect_failure(b, labels, sg::error_kind::label_out_of_range);
  CHECK_THAT(m, Contains("logits [10, 5], labels [10]: label 9 at position 4 is outside [0, 5): "
                         "logits have 5 classes; the output layer needs 10 units, or the labels "
                         "need re-indexing"));
}

TEST_CASE("the largest unsigned label is reported without overflow", "[check][label_out_of_range]") {
  buffers b(2, 5);
  std::vector<std::uint64_t> labels = {1, std::numeric_limits<std::uint64_t>::max()};
  const auto m = expect_failure(b, labels, sg::error_kind::label_out_of_range);
  CHECK_THAT(m, Contains("label 18446744073709551615 at position 1 is outside [0, 5)"));
  CHECK_THAT(m, Contains("needs 18446744073709551616 units"));
}

TEST_CASE("a negative label that is not ignore_index", "[check][label_out_of_range]") {
  buffers b(4, 5);
  std::vector<std::int64_t> labels = {0, 1, -1, 2};
  const auto m = expect_failure(b, labels, sg::error_kind::label_out_of_range);
  CHECK_THAT(m, Contains("label -1 at position 2 is outside [0, 5) and is not ignore_index (-100)"));
  CHECK_THAT(m, Contains("set ce_options::ignore_index to -1"));
}

TEST_CASE("positions in multi-axis labels show the index", "[check][label_out_of_range]") {
  std::vector<float> x(2 * 3 * 4);
  std::vector<std::int16_t> y = {0, 1, 2, 3, 7, 0};
  sg::tensor_view<const float, sg::dims<3>> logits(x.data(), 2, 3, 4);
  sg::tensor_view<const std::int16_t, sg::dims<2>> labels(y.data(), 2, 3);
  const auto r = sg::try_check(logits, labels);
  CHECK(r.kind() == sg::error_kind::label_out_of_range);
  CHECK_THAT(r.message(), Contains("label 7 at position 4 (index [1, 1]) is outside [0, 4)"));
}

TEST_CASE("ignore_index is accepted inside and outside [0, C)", "[check]") {
  buffers b(4, 5);
  std::vector<std::int64_t> labels = {0, -100, 4, -100};
  CHECK(sg::try_check(b.x(), labels).ok());
  std::vector<std::uint8_t> small = {0, 2, 4, 2};
  CHECK(sg::try_check(b.x(), small, {.ignore_index = 2}).ok());
  std::vector<std::uint8_t> big = {0, 200, 4, 200};
  CHECK(sg::try_check(b.x(), big, {.ignore_index = 200}).ok());
  // -100 does not match 156 in an unsigned byte: no wrap-around
  std::vector<std::uint8_t> wrapped = {156};
  buffers one(1, 5);
  CHECK(sg::try_check(one.x(), wrapped).kind() == sg::error_kind::label_out_of_range);
}

TEST_CASE("a bad label is found at every position, and ignored rows leave the mean", "[check]") {
  // every length up to 13 and every position: the scan runs four labels at a time
  for (std::size_t n = 1; n <= 13; ++n) {
    for (std::size_t at = 0; at < n; ++at) {
      buffers b(n, 5);
      std::vector<std::int64_t> labels(n, 3);
      for (std::int64_t bad : {std::int64_t{5}, std::int64_t{-1}}) {
        labels[at] = bad;
        const auto r = sg::try_check(b.x(), labels);
        INFO("n " << n << " at " << at << " label " << bad);
        CHECK(r.kind() == sg::error_kind::label_out_of_range);
        CHECK_THAT(r.message(), Contains("at position " + std::to_string(at) + " "));
      }
      // ignored rows at every position: the mean divides by the rows that count
      for (std::size_t i = 0; i < n; ++i) labels[i] = i % 3 == at % 3 ? -100 : 1;
      std::size_t counted = 0;
      for (auto v : labels) counted += v != -100;
      const float mean = sg::softmax_cross_entropy(b.x(), labels);
      const float sum = sg::softmax_cross_entropy(b.x(), labels, {.reduction = sg::reduction::sum});
      INFO("n " << n << " at " << at);
      CHECK(mean == Approx(counted ? sum / float(counted) : 0.0f));
    }
  }
}

TEST_CASE("one-hot rows hold exactly one 1", "[check][invalid_one_hot]") {
  buffers b(3, 3);
  SECTION("two ones") {
    std::vector<float> y = {1, 0, 0, 0, 1, 1, 0, 0, 1};
    const auto m = expect_failure(b, sg::one_hot(matrix(y.data(), 3, 3)),
                                  sg::error_kind::invalid_one_hot);
    CHECK_THAT(m, Contains("one-hot labels [3, 3]: row 1 holds 2 ones"));
  }
  SECTION("a soft value") {
    std::vector<float> y = {1, 0, 0, 0, 0.5f, 0.5f, 0, 0, 1};
    const auto m = expect_failure(b, sg::one_hot(matrix(y.data(), 3, 3)),
                                  sg::error_kind::invalid_one_hot);
    CHECK_THAT(m, Contains("row 1 holds 0.5 at position 4 (index [1, 1])"));
    CHECK_THAT(m, Contains("sg::probabilities"));
  }
  SECTION("no one, integer labels") {
    std::vector<std::int32_t> y = {1, 0, 0, 0, 0, 0, 0, 0, 1};
    sg::tensor_view<const std::int32_t, sg::dims<2>> labels(y.data(), 3, 3);
    const auto m = expect_failure(b, sg::one_hot(labels), sg::error_kind::invalid_one_hot);
    CHECK_THAT(m, Contains("row 1 holds 0 ones"));
  }
  SECTION("an integer 2") {
    std::vector<std::uint8_t> y = {1, 0, 0, 0, 2, 0, 0, 0, 1};
    sg::tensor_view<const std::uint8_t, sg::dims<2>> labels(y.data(), 3, 3);
    const auto m = expect_failure(b, sg::one_hot(labels), sg::error_kind::invalid_one_hot);
    CHECK_THAT(m, Contains("row 1 holds 2 at position 4"));
  }
}

TEST_CASE("probability rows are non-negative and sum to 1", "[check][invalid_probabilities]") {
  buffers b(2, 3);
  SECTION("negative entry") {
    std::vector<float> y = {0.5f, 0.5f, 0, 1.2f, -0.2f, 0};
    const auto m = expect_failure(b, matrix(y.data(), 2, 3), sg::error_kind::invalid_probabilities);
    CHECK_THAT(m, Contains("probability labels [2, 3]: row 1 holds -0.2 at position 4"));
  }
  SECTION("NaN entry") {
    std::vector<float> y = {0.5f, 0.5f, 0, std::nanf(""), 0.5f, 0.5f};
    expect_failure(b, matrix(y.data(), 2, 3), sg::error_kind::invalid_probabilities);
  }
  SECTION("row sum 0.9") {
    std::vector<float> y = {0.5f, 0.5f, 0, 0.3f, 0.3f, 0.3f};
    const auto m = expect_failure(b, sg::probabilities(matrix(y.data(), 2, 3)),
                                  sg::error_kind::invalid_probabilities);
    CHECK_THAT(m, Contains("row 1 sums to 0.9"));
  }
  SECTION("rounding in a float row is accepted") {
    std::vector<float> y = {0.1f, 0.2f, 0.7f, 1.0f / 3, 1.0f / 3, 1.0f / 3};
    CHECK(sg::try_check(b.x(), matrix(y.data(), 2, 3)).ok());
  }
}

TEST_CASE("probability rows: the fast paths accept exactly what the named check accepts",
          "[check][invalid_probabilities]") {
  // rows of 1000 classes (the sum in sixteen lanes) beside rows of 10 and 40 (four rows at a
  // time, their chains interleaved): the same verdicts at the edge of the tolerance, and each
  // bad entry named at its position, in the first group of four rows, the second, and the tail
  constexpr std::size_t R = 9;
  for (const std::size_t C : {std::size_t(10), std::size_t(40), std::size_t(1000)}) {
    for (const std::size_t bad_row : {std::size_t(2), std::size_t(5), std::size_t(8)}) {
      CAPTURE(C, bad_row);
      buffers b(R, C);
      const double tol = 1e-4 + double(C) * double(std::numeric_limits<float>::epsilon());
      // rows of equal entries, row bad_row's float sum 1 + d: inside the tolerance or outside
      auto rows = [&](double d) {
        std::vector<float> y(R * C, 1.0f / float(C));
        for (std::size_t c = 0; c < C; ++c) y[bad_row * C + c] = float((1.0 + d) / double(C));
        return y;
      };
      auto y = rows(0.5 * tol);
      CHECK(sg::try_check(b.x(), matrix(y.data(), R, C)).ok());
      y = rows(-0.5 * tol);
      CHECK(sg::try_check(b.x(), matrix(y.data(), R, C)).ok());
      y = rows(2 * tol);
      auto m = expect_failure(b, matrix(y.data(), R, C), sg::error_kind::invalid_probabilities);
      CHECK_THAT(m, Contains("row " + std::to_string(bad_row) + " sums to"));
      y = rows(-2 * tol);
      expect_failure(b, matrix(y.data(), R, C), sg::error_kind::invalid_probabilities);
      // sums at the edge of the tolerance, where the fast paths' own rounding matters: the
      // verdict is the one of the row's sum in double, as the named check adds it
      for (const double f : {-0.05, -0.01, -1e-3, -1e-4, 1e-4, 1e-3, 0.01, 0.05}) {
        for (const double sign : {1.0, -1.0}) {
          y = rows(sign * tol * (1 + f));
          double sum = 0;
          for (std::size_t c = 0; c < C; ++c) sum += double(y[bad_row * C + c]);
          CAPTURE(f, sign, sum - 1);
          CHECK(sg::try_check(b.x(), matrix(y.data(), R, C)).ok() == (std::fabs(sum - 1) <= tol));
        }
      }
      // -0 is >= 0: a one-hot row written with -0 for its zeros is valid
      y = rows(0);
      for (std::size_t c = 0; c < C; ++c) y[bad_row * C + c] = c == 1 ? 1.0f : -0.0f;
      CHECK(sg::try_check(b.x(), matrix(y.data(), R, C)).ok());
      // a bad entry in a row whose sum is 1: negative, NaN, +inf
      for (const float bad : {-1e-6f, std::nanf(""), std::numeric_limits<float>::infinity()}) {
        y = rows(0);
        const std::size_t at = bad_row * C + C / 2;
        y[at] = bad;
        m = expect_failure(b, matrix(y.data(), R, C), sg::error_kind::invalid_probabilities);
        CHECK_THAT(m, Contains("row " + std::to_string(bad_row) + " holds") &&
                          Contains("position " + std::to_string(at)));
      }
    }
  }
}

TEST_CASE("option values are checked", "[check][invalid_option]") {
  buffers b(4, 3);
  std::vector<std::int64_t> labels = {0, 1, 2, 0};
  const std::vector<float> three = {1, 2, 3}, four = {1, 2, 3, 4}, negative = {1, -1, 1},
                           inf = {1, std::numeric_limits<float>::infinity(), 1},
                           nan = {1, std::nanf(""), 1};
  using K = sg::error_kind;
  CHECK_THAT(expect_failure(b, labels, K::invalid_option, {.label_smoothing = 1.5f}),
             Contains("label_smoothing is 1.5 but must be in [0, 1]"));
  expect_failure(b, labels, K::invalid_option, {.label_smoothing = -0.1f});
  expect_failure(b, labels, K::invalid_option, {.label_smoothing = std::nanf("")});
  CHECK_THAT(expect_failure(b, labels, K::invalid_option, {.class_weights = four}),
             Contains("class_weights has 4 entries but logits [4, 3] have 3 classes"));
  CHECK_THAT(expect_failure(b, labels, K::invalid_option, {.class_weights = negative}),
             Contains("class_weights[1] is -1"));
  expect_failure(b, labels, K::invalid_option, {.class_weights = inf});
  expect_failure(b, labels, K::invalid_option, {.class_weights = nan});
  CHECK_THAT(expect_failure(b, labels, K::invalid_option, {.threads = 0}),
             Contains("threads is 0"));
  sg::ce_options bad_reduction;
  bad_reduction.reduction = static_cast<sg::reduction>(7);
  expect_failure(b, labels, K::invalid_option, bad_reduction);
  CHECK(sg::try_check(b.x(), labels, {.class_weights = three}).ok());
}

TEST_CASE("ignore_index applies to class indices only", "[check][invalid_option]") {
  buffers b(2, 3);
  std::vector<float> y = {1, 0, 0, 0, 0, 1};
  const auto m = expect_failure(b, matrix(y.data(), 2, 3), sg::error_kind::invalid_option,
                                {.ignore_index = -1});
  CHECK_THAT(m, Contains("ignore_index is -1 but applies to class indices only"));
  CHECK(sg::try_check(b.x(), matrix(y.data(), 2, 3)).ok());
}

TEST_CASE("reduction none and per-sample buffers go together", "[check][invalid_option]") {
  buffers b(2, 3);
  std::vector<std::int64_t> labels = {0, 1};
  CHECK_THROWS_AS(sg::softmax_cross_entropy(b.x(), labels, {.reduction = sg::reduction::none}),
                  sg::shape_error);
  try {
    (void)sg::softmax_cross_entropy(b.x(), labels, b.g(), {.reduction = sg::reduction::none});
    FAIL("no error");
  } catch (const sg::shape_error& e) {
    CHECK(e.kind() == sg::error_kind::invalid_option);
    CHECK_THAT(e.what(), Contains("sg::per_sample(losses) with the logits' batch shape [2]"));
  }
  const auto r = sg::try_check(b.x(), labels, sg::per_sample(b.losses),
                               sg::ce_options{.reduction = sg::reduction::mean});
  CHECK(r.kind() == sg::error_kind::invalid_option);
  CHECK(b.untouched());
}

TEST_CASE("output buffers must fit", "[check][output_mismatch]") {
  buffers b(4, 3);
  std::vector<std::int64_t> labels = {0, 1, 2, 0};
  std::vector<float> wrong(4 * 4, sentinel), losses(3, sentinel);
  SECTION("grad of another shape") {
    const auto r = sg::try_check(b.x(), labels, mutable_matrix(wrong.data(), 4, 4));
    CHECK(r.kind() == sg::error_kind::output_mismatch);
    CHECK_THAT(r.message(), Contains("grad [4, 4] must have the logits' shape [4, 3], but axis 1 has 4, not 3"));
    CHECK_THROWS_AS(sg::softmax_cross_entropy(b.x(), labels, mutable_matrix(wrong.data(), 4, 4)),
                    sg::shape_error);
    CHECK(std::all_of(wrong.begin(), wrong.end(), [](float v) { return v == sentinel; }));
  }
  SECTION("per-sample losses of another shape") {
    const auto r = sg::try_check(b.x(), labels, sg::per_sample(losses));
    CHECK(r.kind() == sg::error_kind::output_mismatch);
    CHECK_THAT(r.message(), Contains("per-sample losses [3] must have the batch shape of logits [4, 3]"));
    CHECK_THROWS_AS(sg::softmax_cross_entropy(b.x(), labels, sg::per_sample(losses),
                                              {.reduction = sg::reduction::none}),
                    sg::shape_error);
    CHECK(std::all_of(losses.begin(), losses.end(), [](float v) { return v == sentinel; }));
  }
  SECTION("grad overlapping the logits without being them") {
    std::vector<float> storage(4 * 3 + 1, 0.5f);
    const matrix x(storage.data(), 4, 3);
    const auto r = sg::try_check(x, labels, mutable_matrix(storage.data() + 1, 4, 3));
    CHECK(r.kind() == sg::error_kind::output_mismatch);
    CHECK_THAT(r.message(), Contains("overlaps logits"));
    CHECK(sg::try_check(x, labels, mutable_matrix(storage.data(), 4, 3)).ok());  // in place
  }
  SECTION("per-sample losses overlapping the gradient") {
    const auto r = sg::try_check(b.x(), labels, sg::per_sample(std::span(b.grad).first(4)),
                                 b.g(), {.reduction = sg::reduction::none});
    CHECK(r.kind() == sg::error_kind::output_mismatch);
    CHECK_THAT(r.message(), Contains("overlap grad"));
  }
}

TEST_CASE("non-finite logits are reported when asked for", "[check][non_finite]") {
  buffers b(3, 4);
  std::vector<std::int64_t> labels = {0, 1, 2};
  b.logits[6] = std::numeric_limits<float>::quiet_NaN();
  const auto m = expect_failure(b, labels, sg::error_kind::non_finite, {.check_finite = true});
  CHECK_THAT(m, Contains("logits [3, 4]: nan at position 6 (index [1, 2]) is not finite"));
  b.logits[6] = -std::numeric_limits<float>::infinity();
  expect_failure(b, labels, sg::error_kind::non_finite, {.check_finite = true});
  CHECK(sg::try_check(b.x(), labels).ok());  // not asked for: -inf is a valid mask
}

TEST_CASE("ranks that fit neither encoding are rank mismatches", "[check][rank_mismatch]") {
  std::vector<float> x(6);
  std::vector<std::int32_t> yi(6);
  std::vector<float> yf(2);
  const matrix logits(x.data(), 2, 3);
  const auto looks_one_hot = sg::try_check(logits, sg::tensor_view<const std::int32_t, sg::dims<2>>(yi.data(), 2, 3));
  CHECK(looks_one_hot.kind() == sg::error_kind::rank_mismatch);
  CHECK_THAT(looks_one_hot.message(), Contains("logits [2, 3] have rank 2 but labels [2, 3] have rank 2, not 1"));
  CHECK_THAT(looks_one_hot.message(), Contains("wrap them with sg::one_hot"));
  const auto no_class_axis = sg::try_check(logits, yf);
  CHECK(no_class_axis.kind() == sg::error_kind::rank_mismatch);
  CHECK_THAT(no_class_axis.message(), Contains("probability labels [2] have rank 1, not 2"));
  CHECK_THAT(no_class_axis.message(), Contains("pass integer class indices"));
}

TEST_CASE("integer [N, 1] labels: drop the trailing axis", "[check][rank_mismatch]") {
  std::vector<float> x(4 * 3);
  std::vector<std::int64_t> y = {0, 2, 1, 1};
  const auto r = sg::try_check(matrix(x.data(), 4, 3),
                               sg::tensor_view<const std::int64_t, sg::dims<2>>(y.data(), 4, 1));
  CHECK(r.kind() == sg::error_kind::rank_mismatch);
  CHECK_THAT(r.message(), Contains("labels [4, 1] have rank 2, not 1"));
  CHECK_THAT(r.message(), Contains("drop the trailing axis"));
}

TEST_CASE("null data with elements is refused", "[check][invalid_option]") {
  std::vector<std::int64_t> labels = {0, 1};
  const matrix logits(nullptr, 2, 3);
  CHECK(sg::try_check(logits, labels).kind() == sg::error_kind::invalid_option);
  const matrix empty(nullptr, 0, 3);
  CHECK(sg::try_check(empty, std::vector<std::int64_t>{}).ok());
}

TEST_CASE("check passes what fits and returns normally", "[check]") {
  buffers b(4, 3);
  std::vector<std::int64_t> labels = {0, 1, 2, -100};
  CHECK_NOTHROW(sg::check(b.x(), labels));
  CHECK_NOTHROW(sg::check(b.x(), labels, b.g()));
  CHECK_NOTHROW(sg::check(b.x(), labels, sg::per_sample(b.losses), b.g()));
  CHECK(b.untouched());  // checks never write
}
