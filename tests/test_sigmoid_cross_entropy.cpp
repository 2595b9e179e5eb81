// sg::sigmoid_cross_entropy through its public calls: torch's values, every call form, integer
// and bool multi-hot labels, the gradient against finite differences, threads, and every mistake
// of the binary and multi-label losses with its error kind, its hint and no output written.
// (The torch goldens of every option and shape are in test_sigmoid_conformance.)
#include <shapeguard/shapeguard.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace sg = shapeguard;
using Catch::Contains;
using sg::dyn;

namespace {

template <class T, std::size_t... E>
using view = sg::tensor_view<T, sg::extents<E...>>;

// x and t of the examples below, [2, 3]
const std::vector<float> logits = {-1e4f, 0.f, 2.f, -3.f, 1.f, 0.5f};
const std::vector<float> targets = {1, 0, 1, 0.5f, 0, 1};

template <class F>
auto kind_of(F&& call) -> sg::error_kind {
  try {
    call();
  } catch (const sg::shape_error& e) {
    return e.kind();
  }
  FAIL("no shape_error");
  return sg::error_kind::rank_mismatch;
}

template <class F>
auto message_of(F&& call) -> std::string {
  try {
    call();
  } catch (const sg::shape_error& e) {
    return e.what();
  }
  FAIL("no shape_error");
  return {};
}

// -w [p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], in long double, the textbook way with
// log1p (exact enough for |x| <= 30 here)
auto reference_loss(long double x, long double t, long double w, long double p) -> long double {
  const long double log_sig = -std::log1p(std::exp(-x));
  const long double log_one_minus = -std::log1p(std::exp(x));
  return -w * (p * t * log_sig + (1 - t) * log_one_minus);
}

}  // namespace

TEST_CASE("sigmoid: torch's values for a [2, 3] example", "[sigmoid]") {
  // torch.nn.functional.binary_cross_entropy_with_logits in float64 (python3-torch 1.13):
  // mean 1667.3593335358125, grad row 0 [-1/6, 1/12, -0.01986715367035295];
  // pos_weight [2, 1, 1]: 3334.2800491484436; hard targets {1,0,1,0,0,1}, sum: 10002.656001214875
  const view<const float, dyn, 3> x(logits.data(), 2);
  const view<const float, dyn, 3> t(targets.data(), 2);
  std::vector<float> g(6, -7.f);
  const view<float, dyn, 3> grad(g.data(), 2);
  CHECK(sg::sigmoid_cross_entropy(x, t, grad) == Approx(1667.3593335358125).epsilon(1e-6));
  CHECK(g[0] == Approx(-1.0 / 6).epsilon(1e-6));
  CHECK(g[1] == Approx(1.0 / 12).epsilon(1e-6));
  CHECK(g[2] == Approx(-0.01986715367035295).epsilon(1e-5));
  const std::vector<float> pw = {2, 1, 1};
  CHECK(sg::sigmoid_cross_entropy(x, t, sg::bce_options{.pos_weight = pw}) ==
        Approx(3334.2800491484436).epsilon(1e-6));
  const std::vector<std::uint8_t> hard = {1, 0, 1, 0, 0, 1};
  const view<const std::uint8_t, dyn, 3> h(hard.data(), 2);
  CHECK(sg::sigmoid_cross_entropy(x, h, {.reduction = sg::reduction::sum}) ==
        Approx(10002.656001214875).epsilon(1e-6));
  // x = -1e4 with target 1: 1e4, not inf; x = 0: log 2
  std::vector<float> l(6);
  sg::sigmoid_cross_entropy(x, t, sg::per_sample(view<float, dyn, 3>(l.data(), 2)));
  CHECK(l[0] == 1e4f);
  CHECK(l[1] == Approx(std::log(2.0)).epsilon(1e-6));
}

TEMPLATE_TEST_CASE("sigmoid: every option against the textbook formula", "[sigmoid]", float,
                   double) {
  using T = TestType;
  std::mt19937 rng(3);
  std::normal_distribution<double> normal(0, 3);
  std::uniform_real_distribution<double> unit(0, 1);
  const std::size_t B = 3, S = 5, C = 7;
  std::vector<T> x(B * S * C), t(B * S * C);
  for (auto& v : x) v = T(normal(rng));
  for (auto& v : t) v = T(unit(rng));
  std::vector<float> w(C), pw(C);
  for (auto& v : w) v = float(0.5 + unit(rng));
  for (auto& v : pw) v = float(0.5 + 3 * unit(rng));
  const view<const T, dyn, dyn, C> X(x.data(), B, S);
  const view<const T, dyn, dyn, C> Y(t.data(), B, S);
  for (float eps : {0.0f, 0.2f}) {
    for (bool weighted : {false, true}) {
      sg::bce_options o;
      o.label_smoothing = eps;
      if (weighted) {
        o.class_weights = w;
        o.pos_weight = pw;
      }
      long double sum = 0;
      std::vector<long double> each(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) {
        const std::size_t c = i % C;
        const long double tt = (long double)t[i] * (1 - (long double)eps) + (long double)eps / 2;
        each[i] = reference_loss(x[i], tt, weighted ? w[c] : 1.0L, weighted ? pw[c] : 1.0L);
        sum += each[i];
      }
      INFO("eps " << eps << ", weighted " << weighted);
      const double rel = std::is_same_v<T, float> ? 1e-5 : 1e-12;
      o.reduction = sg::reduction::sum;
      CHECK(double(sg::sigmoid_cross_entropy(X, Y, o)) == Approx(double(sum)).epsilon(rel));
      o.reduction = sg::reduction::mean;
      CHECK(double(sg::sigmoid_cross_entropy(X, Y, o)) ==
            Approx(double(sum / x.size())).epsilon(rel));
      o.reduction = sg::reduction::none;
      std::vector<T> l(x.size());
      sg::sigmoid_cross_entropy(X, Y, sg::per_sample(view<T, dyn, dyn, C>(l.data(), B, S)), o);
      for (std::size_t i = 0; i < x.size(); ++i)
        CHECK(double(l[i]) == Approx(double(each[i])).epsilon(rel));
    }
  }
}

TEST_CASE("sigmoid: the gradient is the derivative of the loss (central differences)",
          "[sigmoid]") {
  std::mt19937 rng(5);
  std::normal_distribution<double> normal(0, 2);
  std::uniform_real_distribution<double> unit(0, 1);
  const std::size_t N = 6, C = 5;
  std::vector<double> x(N * C), t(N * C), g(N * C);
  for (auto& v : x) v = normal(rng);
  for (auto& v : t) v = unit(rng);
  const std::vector<float> w = {1, 0.5f, 2, 0, 1.5f}, pw = {3, 1, 0.5f, 2, 1};
  const sg::bce_options o{.pos_weight = pw, .class_weights = w, .label_smoothing = 0.1f};
  auto loss = [&](const std::vector<double>& at) {
    return sg::sigmoid_cross_entropy(view<const double, dyn, C>(at.data(), N),
                                     view<const double, dyn, C>(t.data(), N), o);
  };
  sg::sigmoid_cross_entropy(view<const double, dyn, C>(x.data(), N),
                            view<const double, dyn, C>(t.data(), N),
                            view<double, dyn, C>(g.data(), N), o);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double h = 1e-5;
    auto up = x, down = x;
    up[i] += h;
    down[i] -= h;
    const double fd = (loss(up) - loss(down)) / (2 * h);
    INFO("element " << i);
    CHECK(g[i] == Approx(fd).margin(1e-9).epsilon(1e-6));
  }
}

TEST_CASE("sigmoid: call forms, in place, integer and bool labels, rank 1", "[sigmoid]") {
  const view<const float, dyn, 3> x(logits.data(), 2);
  const std::vector<float> hard_f = {1, 0, 1, 0, 0, 1};
  const std::vector<std::int64_t> hard_i = {1, 0, 1, 0, 0, 1};
  const bool hard_b[6] = {true, false, true, false, false, true};
  const view<const float, dyn, 3> tf(hard_f.data(), 2);
  const float want = sg::sigmoid_cross_entropy(x, tf);
  CHECK(sg::sigmoid_cross_entropy(x, view<const std::int64_t, dyn, 3>(hard_i.data(), 2)) == want);
  CHECK(sg::sigmoid_cross_entropy(x, view<const bool, dyn, 3>(hard_b, 2)) == want);

  std::vector<float> g1(6), g2 = logits, l1(6), l2(6);
  const float with_grad = sg::sigmoid_cross_entropy(x, tf, view<float, dyn, 3>(g1.data(), 2));
  CHECK(with_grad == want);
  // in place: the gradient over the logits' own buffer
  sg::sigmoid_cross_entropy(view<const float, dyn, 3>(g2.data(), 2), tf,
                            view<float, dyn, 3>(g2.data(), 2));
  CHECK(g2 == g1);
  // grad and per-element losses, in either order; grad then holds d loss_e / d x_e
  sg::sigmoid_cross_entropy(x, tf, sg::per_sample(view<float, dyn, 3>(l1.data(), 2)),
                            view<float, dyn, 3>(g2.data(), 2));
  sg::sigmoid_cross_entropy(x, tf, view<float, dyn, 3>(g2.data(), 2),
                            sg::per_sample(view<float, dyn, 3>(l2.data(), 2)));
  CHECK(l1 == l2);
  for (std::size_t i = 0; i < 6; ++i) CHECK(g2[i] == Approx(g1[i] * 6).epsilon(1e-6));

  // rank 1: N binary samples, one class, so one weight
  const std::vector<float> x1 = {0.5f, -2.f, 3.f}, t1 = {1, 0, 0};
  const std::vector<float> one_weight = {2.f};
  const float plain = sg::sigmoid_cross_entropy(x1, t1);
  CHECK(sg::sigmoid_cross_entropy(x1, t1, sg::bce_options{.class_weights = one_weight}) ==
        Approx(2 * plain));
  // an empty batch: mean 0, nothing written
  std::vector<float> none;
  CHECK(sg::sigmoid_cross_entropy(none, none) == 0.0f);
}

TEST_CASE("sigmoid: threads give the same bits", "[sigmoid][threads]") {
  const std::size_t N = 1024, C = 700;  // > 2^19 elements: two threads
  std::vector<float> x(N * C), t(N * C), g1(N * C), g2(N * C);
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0, 3);
  for (auto& v : x) v = normal(rng);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = float(rng() % 2);
  const view<const float, dyn, dyn> X(x.data(), N, C), Y(t.data(), N, C);
  const float one = sg::sigmoid_cross_entropy(X, Y, view<float, dyn, dyn>(g1.data(), N, C));
  const float two = sg::sigmoid_cross_entropy(X, Y, view<float, dyn, dyn>(g2.data(), N, C),
                                              sg::bce_options{.threads = 2});
  CHECK(one == two);
  CHECK(g1 == g2);
}

// --- mistakes ------------------------------------------------------------------------------

static_assert(sg::sigmoid_compatible<view<float, dyn, 10>, view<float, dyn, 10>>);
static_assert(sg::sigmoid_compatible<view<float, dyn, 10>, view<std::uint8_t, dyn, dyn>>);
static_assert(sg::sigmoid_compatible<std::vector<float>, std::vector<int>>);
static_assert(!sg::sigmoid_compatible<view<float, dyn, 10>, view<float, dyn, 1>>);
static_assert(!sg::sigmoid_compatible<view<float, dyn, 10>, view<float, dyn>>);
static_assert(!sg::sigmoid_compatible<view<float, 8, 10>, view<float, 9, 10>>);
static_assert(!sg::sigmoid_compatible<view<int, dyn>, view<float, dyn>>);
static_assert(sg::assert_sigmoid_compatible<view<float, dyn, 1>, view<float, dyn, 1>>());
// the softmax loss refuses a single class where it is static
static_assert(!sg::compatible<view<float, dyn, 1>, view<int, dyn>>);
static_assert(sg::compatible<view<float, dyn, dyn>, view<int, dyn>>);

TEST_CASE("sigmoid mistakes: each with its kind, its hint and no output written",
          "[sigmoid][errors]") {
  const std::size_t N = 4, C = 10;
  std::vector<float> x(N * C, 0.5f), t(N * C, 0.f), g(N * C, -7.f), l(N * C, -7.f);
  const view<const float, dyn, dyn> X(x.data(), N, C);
  const view<float, dyn, dyn> G(g.data(), N, C);
  auto untouched = [&] {
    CHECK(g == std::vector<float>(N * C, -7.f));
    CHECK(l == std::vector<float>(N * C, -7.f));
  };

  SECTION("a binary loss on a 10-unit head: [N, C] logits, [N, 1] labels") {
    const view<const float, dyn, dyn> Y(t.data(), N, 1);
    const auto m = message_of([&] { sg::sigmoid_cross_entropy(X, Y, G); });
    CHECK_THAT(m, Contains("sigmoid_cross_entropy: class count mismatch: logits [4, 10] have 10 "
                           "outputs on axis 1 but labels [4, 1] have 1"));
    CHECK_THAT(m, Contains("use softmax_cross_entropy with class indices, or multi-hot encode"));
    CHECK(kind_of([&] { sg::sigmoid_cross_entropy(X, Y, G); }) == sg::error_kind::class_mismatch);
  }
  SECTION("a binary loss on a 10-unit head: [N, C] logits, [N] labels") {
    const view<const float, dyn> Y(t.data(), N);
    const auto r = sg::try_check(X, Y, G, sg::bce_options{});
    CHECK(r.kind() == sg::error_kind::rank_mismatch);
    CHECK_THAT(r.message(), Contains("logits [4, 10] have rank 2 but labels [4] have rank 1"));
    CHECK_THAT(r.message(), Contains("one label per row for several outputs"));
  }
  SECTION("[N, 1] against [N]: no broadcasting") {
    const view<const float, dyn, dyn> X1(x.data(), N, 1);
    const view<const float, dyn> Y(t.data(), N);
    const auto r = sg::try_check(X1, Y, sg::bce_options{});
    CHECK(r.kind() == sg::error_kind::rank_mismatch);
    CHECK_THAT(r.message(), Contains("drop the logits' trailing axis of 1"));
    const auto back = sg::try_check(Y, X1, sg::bce_options{});
    CHECK(back.kind() == sg::error_kind::rank_mismatch);
    CHECK_THAT(back.message(), Contains("drop the labels' trailing axis of 1"));
  }
  SECTION("an unpooled spatial output: [N, H, W, 1] against [N, 1]") {
    const view<const float, dyn, 3, 3, 1> X4(x.data(), N);
    const view<const float, dyn, 1> Y(t.data(), N);
    const auto r = sg::try_check(X4, Y, sg::bce_options{});
    CHECK(r.kind() == sg::error_kind::rank_mismatch);
    CHECK_THAT(r.message(), Contains("logits [4, 3, 3, 1] have rank 4 but labels [4, 1]"));
    CHECK_THAT(r.message(), Contains("unpooled spatial output"));
  }
  SECTION("a batch of 4 logits with 3 rows of labels") {
    const view<const float, dyn, dyn> Y(t.data(), 3, C);
    CHECK(kind_of([&] { sg::sigmoid_cross_entropy(X, Y, G); }) == sg::error_kind::batch_mismatch);
    CHECK_THAT(message_of([&] { sg::sigmoid_cross_entropy(X, Y, G); }),
               Contains("batch size mismatch on axis 0: logits [4, 10] have 4 but labels [3, 10] "
                        "have 3"));
  }
  SECTION("class indices passed as multi-hot labels") {
    std::vector<int> y(N * C, 0);
    y[13] = 9;
    const view<const int, dyn, dyn> Y(y.data(), N, C);
    CHECK(kind_of([&] { sg::sigmoid_cross_entropy(X, Y, G); }) ==
          sg::error_kind::label_out_of_range);
    CHECK_THAT(message_of([&] { sg::sigmoid_cross_entropy(X, Y, G); }),
               Contains("label 9 at position 13 (index [1, 3]) is not 0 or 1"));
  }
  SECTION("targets outside [0, 1] and NaN") {
    t[5] = 3.0f;
    const view<const float, dyn, dyn> Y(t.data(), N, C);
    CHECK(kind_of([&] { sg::sigmoid_cross_entropy(X, Y, G); }) ==
          sg::error_kind::invalid_probabilities);
    CHECK_THAT(message_of([&] { sg::sigmoid_cross_entropy(X, Y, G); }),
               Contains("class indices stored as floats"));
    t[5] = std::numeric_limits<float>::quiet_NaN();
    CHECK(kind_of([&] { sg::sigmoid_cross_entropy(X, Y, G); }) ==
          sg::error_kind::invalid_probabilities);
    t[5] = -0.25f;
    CHECK(kind_of([&] { sg::sigmoid_cross_entropy(X, Y, G); }) ==
          sg::error_kind::invalid_probabilities);
  }
  SECTION("options") {
    const view<const float, dyn, dyn> Y(t.data(), N, C);
    const std::vector<float> three(3, 1.f), bad = {1, 1, 1, 1, -1, 1, 1, 1, 1, 1};
    CHECK(kind_of([&] { sg::sigmoid_cross_entropy(X, Y, G, {.pos_weight = three}); }) ==
          sg::error_kind::invalid_option);
    CHECK_THAT(message_of([&] { sg::sigmoid_cross_entropy(X, Y, G, {.pos_weight = three}); }),
               Contains("bce_options::pos_weight has 3 entries but logits [4, 10] have 10 classes"));
    CHECK_THAT(message_of([&] { sg::sigmoid_cross_entropy(X, Y, G, {.class_weights = bad}); }),
               Contains("bce_options::class_weights[4] is -1"));
    CHECK(kind_of([&] { sg::sigmoid_cross_entropy(X, Y, G, {.label_smoothing = 2}); }) ==
          sg::error_kind::invalid_option);
    CHECK(kind_of([&] { sg::sigmoid_cross_entropy(X, Y, G, {.threads = 0}); }) ==
          sg::error_kind::invalid_option);
    CHECK(kind_of([&] { sg::sigmoid_cross_entropy(X, Y, {.reduction = sg::reduction::none}); }) ==
          sg::error_kind::invalid_option);
    const std::vector<float> one(1, 1.f);
    CHECK_THAT(message_of([&] {
                 sg::sigmoid_cross_entropy(std::vector<float>(3), std::vector<float>(3),
                                           sg::bce_options{.pos_weight = three});
               }),
               Contains("logits [3] have 1 class (rank-1 logits are one binary output)"));
  }
  SECTION("outputs") {
    const view<const float, dyn, dyn> Y(t.data(), N, C);
    // per-element losses have the logits' shape, not the batch shape
    CHECK_THAT(message_of([&] {
                 sg::sigmoid_cross_entropy(X, Y, G, sg::per_sample(view<float, dyn, dyn>(
                                                        l.data(), N, C - 1)));
               }),
               Contains("per-sample losses [4, 9] must have the shape of logits [4, 10]"));
    // a gradient over the weights it reads
    std::vector<float> pw(N * C, 1.f);
    CHECK(kind_of([&] {
            sg::sigmoid_cross_entropy(X, Y, view<float, dyn, dyn>(pw.data(), N, C),
                                      {.pos_weight = std::span<const float>(pw).first(C)});
          }) == sg::error_kind::output_mismatch);
    CHECK(pw == std::vector<float>(N * C, 1.f));
  }
  SECTION("non-finite logits with check_finite") {
    x[7] = std::numeric_limits<float>::infinity();
    const view<const float, dyn, dyn> Y(t.data(), N, C);
    CHECK(kind_of([&] { sg::sigmoid_cross_entropy(X, Y, G, {.check_finite = true}); }) ==
          sg::error_kind::non_finite);
  }
  untouched();
}

TEST_CASE("softmax: one class is an error naming the sigmoid loss; multi-hot rows name it too",
          "[sigmoid][errors]") {
  std::vector<float> x(8, 0.5f), g(8, -7.f);
  std::vector<int> y(8, 0);
  const view<const float, dyn, dyn> X(x.data(), 8, 1);
  CHECK(kind_of([&] {
          sg::softmax_cross_entropy(X, y, view<float, dyn, dyn>(g.data(), 8, 1));
        }) == sg::error_kind::single_class);
  CHECK(g == std::vector<float>(8, -7.f));
  CHECK_THAT(message_of([&] { sg::softmax_cross_entropy(X, y); }),
             Contains("logits [8, 1] have a class axis of size 1 (axis 1); hint: a softmax over "
                      "one class is always 1"));
  CHECK_THAT(message_of([&] { sg::softmax_cross_entropy(X, y); }),
             Contains("use sigmoid_cross_entropy, or give the output layer 2 units"));
  // multi-hot rows through one_hot and probabilities
  const std::vector<float> logits4(8, 0.f), multi = {1, 0, 1, 0, 0, 1, 0, 0};
  const view<const float, dyn, 4> X4(logits4.data(), 2);
  const view<const float, dyn, 4> M(multi.data(), 2);
  CHECK_THAT(message_of([&] { sg::softmax_cross_entropy(X4, sg::one_hot(M)); }),
             Contains("multi-label (multi-hot) targets: use sigmoid_cross_entropy"));
  CHECK_THAT(message_of([&] { sg::softmax_cross_entropy(X4, sg::probabilities(M)); }),
             Contains("multi-label targets go to sigmoid_cross_entropy"));
}
