// Predictions: each row's argmax (the first maximum, as torch.argmax; -1 where the row's
// softmax is undefined and for ignored rows) written in the loss's own pass, and the count of counted rows whose
// prediction is their label. CTest runs this program once per instruction set (force_isa),
// so every kernel's argmax (tiles, one-register rows, blocked rows) is held to the reference
// below.
#include <shapeguard/shapeguard.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

namespace sg = shapeguard;

namespace {

template <class T>
using matrix = sg::tensor_view<const T, sg::extents<sg::dyn, sg::dyn>>;
template <class T>
using mutable_matrix = sg::tensor_view<T, sg::extents<sg::dyn, sg::dyn>>;

/// The reference: the first index of the largest logit; -1 when a logit is NaN or +inf or
/// every logit is -inf (the rows whose loss is NaN).
template <class T>
auto argmax(const T* x, std::size_t C) -> std::int64_t {
  bool undefined = true;
  for (std::size_t c = 0; c < C; ++c) {
    if (std::isnan(x[c]) || x[c] == std::numeric_limits<T>::infinity()) return -1;
    undefined &= x[c] == -std::numeric_limits<T>::infinity();
  }
  if (undefined) return -1;
  return std::max_element(x, x + C) - x;  // the first of equal maxima
}

/// Random rows with ties at the max in some of them.
template <class T>
auto tied_logits(std::size_t N, std::size_t C, std::uint64_t seed) -> std::vector<T> {
  std::mt19937_64 rng(seed * 7919 + C);
  std::normal_distribution<double> normal(0.0, 2.0);
  std::vector<T> x(N * C);
  for (auto& v : x) v = T(std::round(normal(rng) * 4) / 4);  // quarters: ties are common
  for (std::size_t i = 0; i < N; ++i) {
    T* row = x.data() + i * C;
    if (i % 5 == 1) row[C - 1] = row[0] = T(30);                        // a tie, first wins
    if (i % 5 == 2) std::fill(row, row + C, T(-1.5));                    // every class ties
    if (i % 5 == 3) row[rng() % C] = T(50);                              // one clear max
  }
  return x;
}

/// With `cap`, soft-capped: a cap of 100 keeps the quarters of tied_logits (all within 50)
/// distinct and their order, so the argmax is the raw logits' one.
template <class T>
void check_rows(std::size_t N, std::size_t C, double cap = 0) {
  const std::vector<T> x = tied_logits<T>(N, C, 3);
  std::vector<std::int64_t> y(N);
  std::mt19937_64 rng(C);
  std::vector<std::int64_t> want(N);
  for (std::size_t i = 0; i < N; ++i) {
    want[i] = argmax(x.data() + i * C, C);
    // labels: the prediction for every third row, something else otherwise, some ignored
    y[i] = i % 3 == 0 ? want[i]
                      : std::int64_t((std::size_t(want[i]) + 1 + rng() % (C - 1)) % C);
    if (i % 7 == 6) {
      y[i] = -100;
      want[i] = -1;  // an ignored row (padding) has no prediction
    }
  }
  std::size_t want_correct = 0;
  for (std::size_t i = 0; i < N; ++i) want_correct += y[i] != -100 && y[i] == want[i];
  REQUIRE(want_correct > 0);

  for (std::size_t threads : {std::size_t(1), std::size_t(3)}) {
    for (int form = 0; form < 3; ++form) {
      INFO("C = " << C << ", N = " << N << ", threads " << threads << ", form " << form << ", "
                  << "cap " << cap << ", " << sg::to_string(sg::active_isa()));
      std::vector<T> logits = x, g(N * C, T(-7));
      std::vector<std::int64_t> pred(N, -9);
      std::size_t correct = 12345;
      const sg::ce_options o{.threads = threads, .soft_cap = cap};
      const matrix<T> xv(logits.data(), N, C);
      if (form == 0) {  // forward only
        (void)sg::softmax_cross_entropy(xv, y, sg::predictions(pred, correct), o);
      } else if (form == 1) {  // with the gradient
        (void)sg::softmax_cross_entropy(xv, y, mutable_matrix<T>(g.data(), N, C),
                                        sg::predictions(pred, correct), o);
      } else {  // the gradient over the logits: predictions come from the logits as they were
        (void)sg::softmax_cross_entropy(xv, y, sg::predictions(pred, correct),
                                        mutable_matrix<T>(logits.data(), N, C), o);
      }
      CHECK(pred == want);
      CHECK(correct == want_correct);
    }
  }
  // the loss and gradient do not change with predictions asked for
  std::vector<T> g1(N * C), g2(N * C);
  std::vector<std::int32_t> pred32(N);
  const sg::ce_options o{.soft_cap = cap};
  const T a = sg::softmax_cross_entropy(matrix<T>(x.data(), N, C), y,
                                        mutable_matrix<T>(g1.data(), N, C), o);
  const T b = sg::softmax_cross_entropy(matrix<T>(x.data(), N, C), y,
                                        mutable_matrix<T>(g2.data(), N, C), sg::predictions(pred32),
                                        o);
  CHECK(a == b);
  CHECK(g1 == g2);
  CHECK(std::equal(pred32.begin(), pred32.end(), want.begin()));
}

}  // namespace

TEST_CASE("predictions are the first maximum, for every class count", "[predictions]") {
  // 1..40: the tiles (float rows of one and two registers), one-register rows (double) and
  // short blocked rows; 1000 and 5000: one block and several (a later block holding the max)
  for (std::size_t C = 2; C <= 40; ++C) {
    check_rows<float>(37, C);
    check_rows<double>(37, C);
  }
  for (std::size_t C : {std::size_t(1000), std::size_t(5000)}) {
    check_rows<float>(11, C);
    check_rows<double>(11, C);
  }
}

TEST_CASE("soft-capped predictions are the argmax of the capped logits", "[predictions]") {
  // groups of capped rows: 409 rows of 10 classes, 4 rows of 1000, one row of 5000
  for (std::size_t C : {std::size_t(3), std::size_t(10), std::size_t(17), std::size_t(40)}) {
    check_rows<float>(1000, C, 100);
    check_rows<double>(1000, C, 100);
  }
  for (std::size_t C : {std::size_t(1000), std::size_t(5000)}) {
    check_rows<float>(11, C, 100);
    check_rows<double>(11, C, 100);
  }
  // capped to 1, 30 and 50 both become 1.0f: a tie, and the first of them is the prediction;
  // an infinite logit is capped like any other
  constexpr float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {30, 50, 0, 0, 50, 30, -inf, inf, 2, 1, 0.5f, 0.25f};
  const std::vector<std::int64_t> y = {1, 1, 1, 0};
  std::vector<std::int64_t> pred(4, -9);
  std::size_t correct = 0;
  (void)sg::softmax_cross_entropy(matrix<float>(x.data(), 4, 3), y, sg::predictions(pred, correct),
                                  sg::ce_options{.soft_cap = 1});
  CHECK(pred == std::vector<std::int64_t>{0, 1, 1, 0});
  CHECK(correct == 3);
}

TEST_CASE("rows whose softmax is undefined predict -1 and are never correct", "[predictions]") {
  constexpr float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (std::size_t C : {std::size_t(3), std::size_t(12), std::size_t(40), std::size_t(5000)}) {
    INFO("C = " << C << ", " << sg::to_string(sg::active_isa()));
    std::vector<float> x(4 * C, 0.0f);
    x[0 * C + C - 1] = nan;                                   // a NaN after the max
    x[0 * C] = 5;
    x[1 * C + 1] = inf;                                       // +inf
    std::fill(x.data() + 2 * C, x.data() + 3 * C, -inf);      // no number above -inf
    x[3 * C + C / 2] = 2;                                     // a normal row
    const std::vector<std::int64_t> y = {0, 1, 0, std::int64_t(C / 2)};
    std::vector<std::int64_t> pred(4, 9);
    std::size_t correct = 0;
    std::vector<float> g(4 * C);
    (void)sg::softmax_cross_entropy(matrix<float>(x.data(), 4, C), y,
                                    mutable_matrix<float>(g.data(), 4, C),
                                    sg::predictions(pred, correct));
    CHECK(pred == std::vector<std::int64_t>{-1, -1, -1, std::int64_t(C / 2)});
    CHECK(correct == 1);
  }
}

TEST_CASE("one-hot labels count their hot column; probabilities take predictions alone",
          "[predictions]") {
  const std::vector<float> x = {0.5f, 3, -1, 2, 2, 1, -4, 0, 1};
  const std::vector<std::uint8_t> hot = {0, 1, 0, 0, 0, 1, 1, 0, 0};
  std::vector<std::int16_t> pred(3, -9);
  std::size_t correct = 0;
  (void)sg::softmax_cross_entropy(
      matrix<float>(x.data(), 3, 3),
      sg::one_hot(sg::tensor_view<const std::uint8_t, sg::extents<sg::dyn, 3>>(hot.data(), 3)),
      sg::predictions(pred, correct));
  CHECK(pred == std::vector<std::int16_t>{1, 0, 2});
  CHECK(correct == 1);  // row 0 (class 1); row 1 ties 0 and 1 and predicts 0, row 2 predicts 2

  const std::vector<float> t = {0.2f, 0.8f, 0, 0.5f, 0.5f, 0, 0, 0, 1};
  std::vector<std::int64_t> p(3, -9);
  (void)sg::softmax_cross_entropy(matrix<float>(x.data(), 3, 3),
                                  sg::probabilities(matrix<float>(t.data(), 3, 3)),
                                  sg::predictions(p));
  CHECK(p == std::vector<std::int64_t>{1, 0, 2});
}

TEST_CASE("a predictions buffer that does not fit is refused before any write",
          "[predictions][errors]") {
  constexpr std::size_t C = 200;
  const std::vector<float> x(3 * C, 0.25f);
  const std::vector<std::int64_t> y = {0, 1, 2};
  std::vector<float> g(3 * C, 7.0f);
  auto refused = [&](auto&& output, const char* text) {
    try {
      (void)sg::softmax_cross_entropy(matrix<float>(x.data(), 3, C), y,
                                      mutable_matrix<float>(g.data(), 3, C), output);
      FAIL("accepted: " << text);
    } catch (const sg::shape_error& e) {
      CHECK(e.kind() == sg::error_kind::output_mismatch);
      CHECK_THAT(e.what(), Catch::Contains(text));
    }
  };
  std::vector<std::int64_t> short_buffer(2, -9);
  refused(sg::predictions(short_buffer), "predictions [2] must have the batch shape");
  // counting right predictions needs a class per row
  std::vector<std::int64_t> p(3, -9);
  std::size_t correct = 77;
  const std::vector<float> t(3 * C, 1.0f / C);
  try {
    (void)sg::softmax_cross_entropy(matrix<float>(x.data(), 3, C),
                                    sg::probabilities(matrix<float>(t.data(), 3, C)),
                                    sg::predictions(p, correct));
    FAIL("a count of right predictions against probabilities was accepted");
  } catch (const sg::shape_error& e) {
    CHECK(e.kind() == sg::error_kind::invalid_option);
  }
  CHECK(p == std::vector<std::int64_t>(3, -9));
  CHECK(correct == 77);
  CHECK(short_buffer == std::vector<std::int64_t>(2, -9));
  std::vector<std::int8_t> narrow(3, -9);  // 199 does not fit in int8
  refused(sg::predictions(narrow), "cannot hold class 199");
  CHECK(narrow == std::vector<std::int8_t>(3, -9));
  // over the gradient's bytes
  refused(sg::predictions(std::span<std::int64_t>(reinterpret_cast<std::int64_t*>(g.data()), 3)),
          "share memory");
  CHECK(g == std::vector<float>(3 * C, 7.0f));
  // try_check sees the same
  std::vector<std::int64_t> ok(3);
  CHECK(sg::try_check(matrix<float>(x.data(), 3, C), y, sg::predictions(ok)).ok());
  CHECK(sg::try_check(matrix<float>(x.data(), 3, C), y, sg::predictions(narrow)).kind() ==
        sg::error_kind::output_mismatch);
}
