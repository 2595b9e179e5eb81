// The vocabulary-parallel loss (vocab_parallel.hpp) held to softmax_cross_entropy on the whole
// logits: the classes cut into slices (even, uneven, a slice of one class, an empty one), each
// slice's statistics combined in rank order, in reverse and as a tree, then each slice
// finished. The loss must be the same bits on every slice and agree with the whole call; the
// slices' gradients, per-sample losses and predictions put together must agree with the whole
// call's, for every option. CTest runs this program once per instruction set (force_isa), so
// both phases of every set are held to the same single-process results.
#include <shapeguard/shapeguard.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

namespace sg = shapeguard;

namespace {

template <class T>
using matrix = sg::tensor_view<const T, sg::dims<2>>;
template <class T>
using mutable_matrix = sg::tensor_view<T, sg::dims<2>>;

enum class order { rank, reverse, tree };

template <class T>
struct parallel_result {
  std::vector<T> slice_loss;  // the value each slice's finish returned
  std::vector<T> grad;        // N x C, the slices' gradients put together
  std::vector<T> losses;      // per sample (reduction none), from slice 0
  std::vector<std::int64_t> predictions;
  std::size_t correct = 0;
  std::vector<sg::slice_stats> combined;
};

/// Cuts [0, C) at `cuts` (first 0, last C), solves each slice in two phases and combines the
/// statistics in `how` order.
template <class T>
auto run_slices(const std::vector<T>& x, std::size_t N, std::size_t C,
                const std::vector<std::int64_t>& y, const std::vector<std::size_t>& cuts,
                sg::ce_options o, const std::vector<float>& weights, order how)
    -> parallel_result<T> {
  const std::size_t K = cuts.size() - 1;
  std::vector<std::vector<T>> part(K);
  std::vector<std::vector<float>> w(K);
  std::vector<std::vector<sg::slice_stats>> stats(K, std::vector<sg::slice_stats>(N));
  for (std::size_t k = 0; k < K; ++k) {
    const std::size_t lo = cuts[k], n = cuts[k + 1] - lo;
    part[k].resize(N * n);
    for (std::size_t i = 0; i < N; ++i)
      std::copy_n(x.data() + i * C + lo, n, part[k].data() + i * n);
    if (!weights.empty()) w[k].assign(weights.begin() + long(lo), weights.begin() + long(lo + n));
    sg::ce_options ok = o;
    ok.class_weights = weights.empty() ? std::span<const float>() : std::span<const float>(w[k]);
    sg::vocab_parallel_stats(matrix<T>(part[k].data(), N, n), y, sg::vocab_slice{lo, C},
                             std::span(stats[k]), ok);
  }
  std::vector<sg::slice_stats> all;
  if (how == order::rank) {
    all = stats[0];
    for (std::size_t k = 1; k < K; ++k) sg::combine(std::span(all), std::span<const sg::slice_stats>(stats[k]));
  } else if (how == order::reverse) {
    all = stats[K - 1];
    for (std::size_t k = K - 1; k-- > 0;) sg::combine(std::span(all), std::span<const sg::slice_stats>(stats[k]));
  } else {
    std::vector<std::vector<sg::slice_stats>> level = stats;
    while (level.size() > 1) {
      std::vector<std::vector<sg::slice_stats>> next;
      for (std::size_t k = 0; k + 1 < level.size(); k += 2) {
        sg::combine(std::span(level[k + 1]), std::span<const sg::slice_stats>(level[k]));
        next.push_back(level[k + 1]);
      }
      if (level.size() % 2) next.push_back(level.back());
      level = next;
    }
    all = level[0];
  }

  parallel_result<T> r;
  r.combined = all;
  r.grad.assign(N * C, T(-7));
  r.losses.assign(N, T(-7));
  r.predictions.assign(N, -7);
  for (std::size_t k = 0; k < K; ++k) {
    const std::size_t lo = cuts[k], n = cuts[k + 1] - lo;
    std::vector<T> g(N * n, T(-5));
    sg::ce_options ok = o;
    ok.class_weights = weights.empty() ? std::span<const float>() : std::span<const float>(w[k]);
    const std::span<const sg::slice_stats> whole(all);
    if (o.reduction == sg::reduction::none) {
      std::vector<T> l(N, T(-5));
      std::vector<std::int64_t> p(N, -5);
      sg::vocab_parallel_finish(matrix<T>(part[k].data(), N, n), y, sg::vocab_slice{lo, C}, whole,
                                mutable_matrix<T>(g.data(), N, n), sg::per_sample(l), ok);
      sg::vocab_parallel_finish(matrix<T>(part[k].data(), N, n), y, sg::vocab_slice{lo, C}, whole,
                                sg::predictions(p, r.correct), ok.reduction == sg::reduction::none
                                                                   ? sg::ce_options{}
                                                                   : ok);
      if (k == 0) {
        r.losses = l;
        r.predictions = p;
      } else {
        CHECK(std::memcmp(l.data(), r.losses.data(), N * sizeof(T)) == 0);
        CHECK(p == r.predictions);
      }
    } else {
      std::vector<std::int64_t> p(N, -5);
      r.slice_loss.push_back(sg::vocab_parallel_finish(
          matrix<T>(part[k].data(), N, n), y, sg::vocab_slice{lo, C}, whole,
          mutable_matrix<T>(g.data(), N, n), sg::predictions(p, r.correct), ok));
      r.predictions = p;
    }
    for (std::size_t i = 0; i < N; ++i) std::copy_n(g.data() + i * n, n, r.grad.data() + i * C + lo);
  }
  return r;
}

template <class T>
auto close(double got, double want, double rel, double abs) -> bool {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= rel * std::fabs(want) + abs;
}

template <class T>
auto random_logits(std::size_t N, std::size_t C, std::uint32_t seed, double spread)
    -> std::vector<T> {
  std::mt19937 gen(seed);
  std::normal_distribution<double> d(0, spread);
  std::vector<T> x(N * C);
  for (auto& v : x) v = T(d(gen));
  return x;
}

/// Every slice's result against the whole call: the loss (the same bits on every slice), the
/// gradient, the per-sample losses and predictions.
template <class T>
void compare(const std::vector<T>& x, std::size_t N, std::size_t C,
             const std::vector<std::int64_t>& y, const std::vector<std::size_t>& cuts,
             const sg::ce_options& o, const std::vector<float>& weights) {
  const double rel = std::is_same_v<T, float> ? 2e-5 : 1e-11;
  const double abs = std::is_same_v<T, float> ? 2e-7 : 1e-15;
  sg::ce_options whole_o = o;
  whole_o.class_weights = weights;
  std::vector<T> g(N * C);
  std::vector<T> l(N);
  std::vector<std::int64_t> p(N);
  std::size_t correct = 0;
  T loss = 0;
  if (o.reduction == sg::reduction::none) {
    sg::softmax_cross_entropy(matrix<T>(x.data(), N, C), y, mutable_matrix<T>(g.data(), N, C),
                              sg::per_sample(l), whole_o);
    sg::softmax_cross_entropy(matrix<T>(x.data(), N, C), y, sg::predictions(p, correct));
  } else {
    loss = sg::softmax_cross_entropy(matrix<T>(x.data(), N, C), y,
                                     mutable_matrix<T>(g.data(), N, C),
                                     sg::predictions(p, correct), whole_o);
  }
  for (order how : {order::rank, order::reverse, order::tree}) {
    CAPTURE(int(how));
    const parallel_result<T> r = run_slices(x, N, C, y, cuts, o, weights, how);
    if (o.reduction != sg::reduction::none) {
      for (const T v : r.slice_loss) {
        CHECK(std::memcmp(&v, &r.slice_loss[0], sizeof(T)) == 0);
        CAPTURE(v, loss);
        CHECK(close<T>(v, loss, rel, abs));
      }
    } else {
      for (std::size_t i = 0; i < N; ++i) {
        CAPTURE(i, r.losses[i], l[i]);
        CHECK(close<T>(r.losses[i], l[i], rel, abs));
      }
    }
    CHECK(r.predictions == p);
    CHECK(r.correct == correct);
    // gradient entries within rel of the whole call's, or abs of the row's largest entry
    std::size_t bad = 0;
    for (std::size_t i = 0; i < N; ++i) {
      double row_max = 0;
      for (std::size_t c = 0; c < C; ++c)
        if (std::isfinite(double(g[i * C + c])))
          row_max = std::max(row_max, std::fabs(double(g[i * C + c])));
      for (std::size_t c = 0; c < C; ++c) {
        const double a = double(r.grad[i * C + c]), b = double(g[i * C + c]);
        if (!close<T>(a, b, rel, rel * row_max + abs)) {
          if (bad++ < 3) UNSCOPED_INFO("grad[" << i << ", " << c << "] " << a << " but " << b);
        }
      }
    }
    CHECK(bad == 0);
  }
}

auto even_cuts(std::size_t C, std::size_t K) -> std::vector<std::size_t> {
  std::vector<std::size_t> cuts;
  for (std::size_t k = 0; k <= K; ++k) cuts.push_back(C * k / K);
  return cuts;
}

auto labels_for(std::size_t N, std::size_t C, std::uint32_t seed, bool with_ignored)
    -> std::vector<std::int64_t> {
  std::mt19937 gen(seed);
  std::vector<std::int64_t> y(N);
  for (auto& v : y) v = std::int64_t(gen() % C);
  if (with_ignored)
    for (std::size_t i = 0; i < N; i += 3) y[i] = -100;
  return y;
}

auto weights_for(std::size_t C) -> std::vector<float> {
  std::vector<float> w(C);
  for (std::size_t c = 0; c < C; ++c) w[c] = 0.25f + float(c % 7) * 0.5f;
  w[C / 2] = 0;  // a class left out
  return w;
}

}  // namespace

TEMPLATE_TEST_CASE("vocabulary-parallel calls agree with the whole call, for every option",
                   "[vocab_parallel]", float, double) {
  using T = TestType;
  // class counts whose slices end at every vector tail, one-register rows, blocked rows (more
  // than one 16 KiB block per slice)
  const std::size_t classes[] = {2, 3, 10, 17, 33, 100, 1000, 9000};
  for (const std::size_t C : classes) {
    const std::size_t N = C >= 9000 ? 5 : 23;
    std::vector<std::vector<std::size_t>> cutss = {even_cuts(C, 1), even_cuts(C, 2)};
    if (C >= 3) cutss.push_back(even_cuts(C, 3));
    if (C >= 4) cutss.push_back({0, 1, C / 2, C / 2, C});  // one class, and an empty slice
    if (C >= 10) cutss.push_back({0, C - 1, C});             // the last class alone
    const auto x = random_logits<T>(N, C, std::uint32_t(C), 4.0);
    for (const auto& cuts : cutss) {
      CAPTURE(C, cuts);
      for (int variant = 0; variant < 8; ++variant) {
        CAPTURE(variant);
        sg::ce_options o;
        std::vector<float> w;
        bool ignored = false;
        switch (variant) {
          case 0: break;
          case 1: o.label_smoothing = 0.1f; break;
          case 2: w = weights_for(C); break;
          case 3: o.label_smoothing = 0.2f; w = weights_for(C); ignored = true; break;
          case 4: o.z_loss = 1e-3; ignored = true; break;
          case 5: o.reduction = sg::reduction::sum; o.label_smoothing = 0.05f; break;
          case 6: o.reduction = sg::reduction::none; o.z_loss = 1e-4; w = weights_for(C); break;
          case 7: o.denominator = 64; o.ignore_index = 1; ignored = true; break;
        }
        auto y = labels_for(N, C, std::uint32_t(variant + 1), ignored);
        if (variant == 7)
          for (auto& v : y)
            if (v == -100) v = 1;
        compare(x, N, C, y, cuts, o, w);
      }
    }
  }
}

TEST_CASE("vocabulary-parallel calls: large, -inf, +inf and NaN logits in some slices",
          "[vocab_parallel]") {
  using T = float;
  const std::size_t C = 40, N = 9;
  auto x = random_logits<T>(N, C, 7, 2.0);
  const T inf = std::numeric_limits<T>::infinity();
  for (std::size_t c = 0; c < 20; ++c) x[0 * C + c] = -inf;  // a slice without a number
  for (std::size_t c = 0; c < C; ++c) x[1 * C + c] = -inf;   // a row without one
  x[2 * C + 25] = std::numeric_limits<T>::quiet_NaN();         // NaN in the second slice
  x[3 * C + 3] = inf;                                         // +inf in the first
  x[4 * C + 5] = 3e38f;                                       // a huge logit
  x[4 * C + 30] = -3e38f;
  for (std::size_t c = 0; c < C; ++c) x[5 * C + c] = 1;      // ties everywhere: argmax 0
  x[6 * C + 10] = 9;
  x[6 * C + 30] = 9;  // a tie across slices: the first
  std::vector<std::int64_t> y = {4, 5, 6, 7, 8, 30, 31, 3, 35};
  y[7] = 3;
  x[7 * C + 3] = -inf;  // the label's logit -inf: loss +inf
  for (int variant = 0; variant < 3; ++variant) {
    CAPTURE(variant);
    sg::ce_options o;
    std::vector<float> w;
    if (variant == 1) o.label_smoothing = 0.1f;
    if (variant == 2) w = weights_for(C);
    o.reduction = sg::reduction::none;
    compare(x, N, C, y, even_cuts(C, 2), o, w);
    compare(x, N, C, y, {0, 3, 4, 21, C}, o, w);
  }
}

TEST_CASE("combine is commutative bit for bit and has an identity", "[vocab_parallel]") {
  std::mt19937 gen(3);
  std::uniform_real_distribution<double> u(-50, 50);
  for (int k = 0; k < 1000; ++k) {
    sg::slice_stats a{u(gen), std::fabs(u(gen)) + 1, std::fabs(u(gen)), std::fabs(u(gen)) / 50,
                      k % 2 ? 1.0 : 0.0, std::int64_t(gen() % 100)};
    sg::slice_stats b{k % 5 == 0 ? a.max : u(gen), std::fabs(u(gen)) + 1, std::fabs(u(gen)),
                      std::fabs(u(gen)) / 50, 0.5, std::int64_t(gen() % 100)};
    const sg::slice_stats ab = sg::combine(a, b), ba = sg::combine(b, a);
    REQUIRE(std::memcmp(&ab, &ba, sizeof ab) == 0);
    const sg::slice_stats a0 = sg::combine(a, sg::slice_stats{});
    CHECK(std::memcmp(&a0, &a, sizeof a) == 0);
    CHECK(ab.max == std::max(a.max, b.max));
    CHECK(ab.argmax == (a.max > b.max ? a.argmax : b.max > a.max ? b.argmax : std::min(a.argmax, b.argmax)));
  }
}

TEST_CASE("vocabulary-parallel threads give the same bits", "[vocab_parallel]") {
  const std::size_t N = 300, C = 3000;
  const auto x = random_logits<float>(N, C, 11, 3.0);
  const auto y = labels_for(N, C, 5, true);
  sg::ce_options o;
  o.label_smoothing = 0.1f;
  const auto one = run_slices<float>(x, N, C, y, {0, 1234, C}, o, {}, order::rank);
  o.threads = 2;
  const auto two = run_slices<float>(x, N, C, y, {0, 1234, C}, o, {}, order::rank);
  CHECK(std::memcmp(&one.slice_loss[0], &two.slice_loss[0], sizeof(float)) == 0);
  CHECK(std::memcmp(one.grad.data(), two.grad.data(), N * C * sizeof(float)) == 0);
  CHECK(std::memcmp(one.combined.data(), two.combined.data(), N * sizeof(sg::slice_stats)) == 0);
}

TEST_CASE("vocabulary-parallel checks: each error kind, nothing written", "[vocab_parallel]") {
  const std::size_t N = 4, C = 10, lo = 5, n = 5;
  std::vector<float> x(N * n, 0.5f), g(N * n, -3.0f);
  std::vector<std::int64_t> y = {0, 9, 7, -100};
  std::vector<sg::slice_stats> st(N, sg::slice_stats{1, 2, 3, 4, 5, 6});
  const auto untouched = [&] {
    for (float v : g)
      if (v != -3.0f) return false;
    for (const auto& s : st)
      if (s.max != 1 || s.argmax != 6) return false;
    return true;
  };
  const matrix<float> xv(x.data(), N, n);
  const mutable_matrix<float> gv(g.data(), N, n);
  auto kind_of = [&](auto&& call) -> sg::error_kind {
    try {
      call();
    } catch (const sg::shape_error& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).rfind("vocab_parallel_cross_entropy: ", 0) == 0);
      return e.kind();
    }
    FAIL("no error");
    return sg::error_kind::rank_mismatch;
  };
  using K = sg::error_kind;
  // labels in other slices are fine; one outside the vocabulary is not
  CHECK_NOTHROW(sg::vocab_parallel_stats(xv, y, sg::vocab_slice{lo, C}, std::span(st)));
  st.assign(N, sg::slice_stats{1, 2, 3, 4, 5, 6});
  std::vector<std::int64_t> bad = {0, 10, 7, 1};
  CHECK(kind_of([&] { sg::vocab_parallel_stats(xv, bad, sg::vocab_slice{lo, C}, std::span(st)); }) ==
        K::label_out_of_range);
  CHECK(kind_of([&] {
          sg::vocab_parallel_finish(xv, bad, sg::vocab_slice{lo, C},
                                    std::span<const sg::slice_stats>(st), gv);
        }) == K::label_out_of_range);
  bad = {0, -1, 7, 1};
  CHECK(kind_of([&] { sg::vocab_parallel_stats(xv, bad, sg::vocab_slice{lo, C}, std::span(st)); }) ==
        K::label_out_of_range);
  // a slice outside the vocabulary, a vocabulary of one class
  CHECK(kind_of([&] { sg::vocab_parallel_stats(xv, y, sg::vocab_slice{6, C}, std::span(st)); }) ==
        K::invalid_option);
  CHECK(kind_of([&] { sg::vocab_parallel_stats(xv, y, sg::vocab_slice{0, 0}, std::span(st)); }) ==
        K::invalid_option);
  std::vector<float> x1(N, 0.0f);
  std::vector<std::int64_t> zeros(N, 0);
  CHECK(kind_of([&] {
          sg::vocab_parallel_stats(matrix<float>(x1.data(), N, 1), zeros, sg::vocab_slice{0, 1},
                                   std::span(st));
        }) == K::single_class);
  // statistics of the wrong length: an output of step 1, an input of step 3
  std::vector<sg::slice_stats> short_st(N - 1);
  CHECK(kind_of([&] { sg::vocab_parallel_stats(xv, y, sg::vocab_slice{lo, C}, std::span(short_st)); }) ==
        K::output_mismatch);
  CHECK(kind_of([&] {
          sg::vocab_parallel_finish(xv, y, sg::vocab_slice{lo, C},
                                    std::span<const sg::slice_stats>(short_st), gv);
        }) == K::batch_mismatch);
  // statistics inside the logits
  CHECK(kind_of([&] {
          sg::vocab_parallel_stats(xv, y, sg::vocab_slice{lo, C},
                                   std::span(reinterpret_cast<sg::slice_stats*>(x.data()), 1 + 0 * N));
        }) == K::output_mismatch);
  // batch mismatch, weights for the whole vocabulary, soft-capping, a column-major slice
  std::vector<std::int64_t> y5 = {0, 1, 2, 3, 4};
  CHECK(kind_of([&] { sg::vocab_parallel_stats(xv, y5, sg::vocab_slice{lo, C}, std::span(st)); }) ==
        K::batch_mismatch);
  std::vector<float> w(C, 1.0f);
  sg::ce_options o;
  o.class_weights = w;
  CHECK(kind_of([&] { sg::vocab_parallel_stats(xv, y, sg::vocab_slice{lo, C}, std::span(st), o); }) ==
        K::invalid_option);
  o = {};
  o.soft_cap = 30;
  CHECK(kind_of([&] { sg::vocab_parallel_stats(xv, y, sg::vocab_slice{lo, C}, std::span(st), o); }) ==
        K::invalid_option);
  const sg::tensor_view<const float, sg::dims<2>, sg::layout_left> cm(x.data(), N, n);
  CHECK(kind_of([&] { sg::vocab_parallel_stats(cm, y, sg::vocab_slice{lo, C}, std::span(st)); }) ==
        K::invalid_option);
  // an output overlapping the statistics; predictions too narrow for the vocabulary
  CHECK(kind_of([&] {
          sg::vocab_parallel_finish(xv, y, sg::vocab_slice{lo, C},
                                    std::span<const sg::slice_stats>(st),
                                    mutable_matrix<float>(reinterpret_cast<float*>(st.data()), N, n));
        }) == K::output_mismatch);
  std::vector<std::int8_t> p8(N);
  CHECK(kind_of([&] {
          sg::vocab_parallel_finish(xv, y, sg::vocab_slice{lo, 300},
                                    std::span<const sg::slice_stats>(st), sg::predictions(p8));
        }) == K::output_mismatch);
  o = {};
  o.check_finite = true;
  x[3] = std::numeric_limits<float>::infinity();
  CHECK(kind_of([&] { sg::vocab_parallel_stats(xv, y, sg::vocab_slice{lo, C}, std::span(st), o); }) ==
        K::non_finite);
  CHECK(untouched());
}
