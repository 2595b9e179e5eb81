// Numerics of the loss at scale: float results agree with a float64 reference to 1e-5 relative
// at C = 128K (131072) classes and at 1e5 rows (API.md section 5), including 1e5 small losses
// after a large one, which a float running sum would lose.
//
// The reference is computed here, independently of the library, in long double (64-bit
// mantissa on x86-64: every sum below is exact to far better than the 1e-5 being tested). The
// float inputs are the reference's inputs (the float values, widened). Checked twice:
//   - the scalar reference kernel (detail::scalar_rows), which every SIMD path is tested
//     against, over the whole problem in one call;
//   - the public sg::softmax_cross_entropy, whichever kernel it runs on, which adds the driver:
//     blocks of rows, threads, the mean's denominator.
// A gradient entry is a difference, g_c = scale * (A p_c - a_c) (detail/rows.hpp), and is
// compared relatively to the larger of its two terms: |got - ref| <= 1e-5 * scale *
// max(A p_c, a_c). Where a_c = 0 (most entries) that is |got - ref| <= 1e-5 |ref|; at
// C = 128K such an entry is p_c / N, so this checks each row's sum of exponentials to 1e-5.

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

using ld = long double;

struct reference {
  ld loss = 0;                // reduced: sum of the rows' losses, divided by the denominator
  std::vector<ld> losses;     // per row
  std::vector<ld> grad;       // of the reduced loss
  std::vector<ld> term;       // scale * max(A p_c, a_c): the larger term of each entry
};

/// Class-index targets with optional weights, smoothing and an ignore_index, written out from
/// the definition: loss_i = -sum_c a_c log softmax(x_i)_c with a_c = (1 - eps) w_y [c == y] +
/// eps / C w_c; mean divides by the sum of w_y over counted rows.
auto reference_indices(const std::vector<float>& x, const std::vector<std::int64_t>& y,
                       std::size_t C, const std::vector<float>& w, ld eps, std::int64_t ignore,
                       bool mean) -> reference {
  const std::size_t N = y.size();
  reference r;
  r.losses.assign(N, 0);
  r.grad.assign(N * C, 0);
  r.term.assign(N * C, 0);
  auto weight = [&](std::size_t c) -> ld { return w.empty() ? 1.0L : ld(w[c]); };
  ld denominator = 0;
  std::vector<ld> a(C), p(C);
  for (std::size_t i = 0; i < N; ++i) {
    if (y[i] == ignore) continue;
    const auto t = std::size_t(y[i]);
    denominator += weight(t);
    ld m = -INFINITY;
    for (std::size_t c = 0; c < C; ++c) m = std::max(m, ld(x[i * C + c]));
    ld s = 0;
    for (std::size_t c = 0; c < C; ++c) s += std::exp(ld(x[i * C + c]) - m);
    const ld log_s = std::log(s);
    ld loss = 0, A = 0;
    for (std::size_t c = 0; c < C; ++c) {
      a[c] = eps / ld(C) * weight(c) + (c == t ? (1 - eps) * weight(t) : 0.0L);
      A += a[c];
      loss -= a[c] * (ld(x[i * C + c]) - m - log_s);
      p[c] = std::exp(ld(x[i * C + c]) - m) / s;
    }
    r.losses[i] = loss;
    r.loss += loss;
    for (std::size_t c = 0; c < C; ++c) {
      r.grad[i * C + c] = A * p[c] - a[c];
      r.term[i * C + c] = std::max(A * p[c], a[c]);
    }
  }
  if (mean) {
    r.loss /= denominator;
    for (auto& g : r.grad) g /= denominator;
    for (auto& g : r.term) g /= denominator;
  }
  return r;
}

/// Probability targets: loss_i = -sum_c t_c log softmax(x_i)_c, mean over rows.
auto reference_probabilities(const std::vector<float>& x, const std::vector<float>& t,
                             std::size_t C) -> reference {
  const std::size_t N = x.size() / C;
  reference r;
  r.losses.assign(N, 0);
  r.grad.assign(N * C, 0);
  r.term.assign(N * C, 0);
  for (std::size_t i = 0; i < N; ++i) {
    ld m = -INFINITY;
    for (std::size_t c = 0; c < C; ++c) m = std::max(m, ld(x[i * C + c]));
    ld s = 0, A = 0;
    for (std::size_t c = 0; c < C; ++c) s += std::exp(ld(x[i * C + c]) - m);
    const ld log_s = std::log(s);
    for (std::size_t c = 0; c < C; ++c) {
      A += ld(t[i * C + c]);
      r.losses[i] -= ld(t[i * C + c]) * (ld(x[i * C + c]) - m - log_s);
    }
    for (std::size_t c = 0; c < C; ++c) {
      const ld Ap = A * std::exp(ld(x[i * C + c]) - m) / s, a = ld(t[i * C + c]);
      r.grad[i * C + c] = (Ap - a) / ld(N);
      r.term[i * C + c] = std::max(Ap, a) / ld(N);
    }
    r.loss += r.losses[i];
  }
  r.loss /= ld(N);
  return r;
}

constexpr double rtol = 1e-5;

auto relative_error(double got, ld ref) -> double {
  return double(std::fabs(ld(got) - ref) / std::fabs(ref));
}

/// The largest error of a gradient against the reference, in units of the allowed error:
/// rtol times the entry's larger term, but at least the smallest normal T (a reference entry
/// of exp(-2e4) has no float value but 0); 0 allowed means exactly equal.
template <class T>
auto worst_grad(const std::vector<T>& got, const reference& ref) -> double {
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const ld err = std::fabs(ld(got[i]) - ref.grad[i]);
    const ld allowed =
        ref.term[i] == 0 ? 0 : std::max(ld(rtol) * ref.term[i], ld(std::numeric_limits<T>::min()));
    if (err == 0) continue;
    const double e = double(err / allowed);  // inf when allowed is 0, NaN propagates
    worst = std::isnan(e) ? INFINITY : std::max(worst, e);
  }
  return worst;
}

auto random_logits(std::size_t n, float scale, float offset, std::uint64_t seed)
    -> std::vector<float> {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> x(n);
  for (auto& v : x) v = normal(gen) + offset;
  return x;
}

auto random_labels(std::size_t n, std::size_t C, std::uint64_t seed) -> std::vector<std::int64_t> {
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<std::int64_t> pick(0, std::int64_t(C) - 1);
  std::vector<std::int64_t> y(n);
  for (auto& v : y) v = pick(gen);
  return y;
}

/// Runs the scalar reference kernel over every row in one call; returns the sum of the losses.
template <class U>
auto scalar_kernel(const std::vector<float>& x, std::size_t C, const std::int64_t* index,
                   const U* targets, const std::vector<float>& w, double eps,
                   double grad_scale, std::vector<float>& grad, std::vector<float>& losses,
                   std::int64_t ignore = -100) -> double {
  sg::detail::rows_problem<float, U> p;
  p.logits = x.data();
  p.grad = grad.data();
  p.losses = losses.data();
  p.index = index;
  p.ignore_index = ignore;
  p.targets = targets;
  p.weights = w.empty() ? nullptr : w.data();
  p.rows = x.size() / C;
  p.classes = C;
  p.smoothing = eps;
  p.weight_sum = double(C);
  if (!w.empty()) {
    p.weight_sum = 0;
    for (float v : w) p.weight_sum += double(v);
  }
  p.grad_scale = grad_scale;
  return sg::detail::scalar_rows(p);
}

}  // namespace

TEST_CASE("numerics: C = 131072 classes, float within 1e-5 of a float64 reference",
          "[numerics]") {
  constexpr std::size_t C = 131072, N = 3;
  // scale 4: the row's softmax spans about 30 orders of magnitude; offset 30: m matters
  const auto x = random_logits(N * C, 4.0f, 30.0f, 1);
  const auto y = random_labels(N, C, 2);

  SECTION("class indices, mean") {
    const auto ref = reference_indices(x, y, C, {}, 0, -100, true);
    std::vector<float> grad(N * C), losses(N);
    const double sum = scalar_kernel<float>(x, C, y.data(), nullptr, {}, 0, 1.0 / double(N),
                                            grad, losses);
    CHECK(relative_error(float(sum / double(N)), ref.loss) <= rtol);
    for (std::size_t i = 0; i < N; ++i) CHECK(relative_error(losses[i], ref.losses[i]) <= rtol);
    CHECK(worst_grad(grad, ref) <= 1.0);

    sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>> xv(x.data(), N, C);
    std::vector<float> g(N * C);
    const sg::tensor_view<float, sg::extents<sg::dyn, C>> gv(g.data(), N);  // static class axis
    const float loss = sg::softmax_cross_entropy(xv, y, gv);
    CHECK(relative_error(loss, ref.loss) <= rtol);
    CHECK(worst_grad(g, ref) <= 1.0);
  }

  SECTION("class indices, weights and smoothing, sum") {
    std::vector<float> w(C);
    std::mt19937_64 gen(3);
    std::uniform_real_distribution<float> pick(0.5f, 2.0f);
    for (auto& v : w) v = pick(gen);
    const float eps = 0.1f;
    const auto ref = reference_indices(x, y, C, w, ld(eps), -100, false);
    std::vector<float> grad(N * C), losses(N);
    const double sum =
        scalar_kernel<float>(x, C, y.data(), nullptr, w, double(eps), 1.0, grad, losses);
    CHECK(relative_error(float(sum), ref.loss) <= rtol);
    CHECK(worst_grad(grad, ref) <= 1.0);

    sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>> xv(x.data(), N, C);
    std::vector<float> g(N * C);
    const float loss = sg::softmax_cross_entropy(
        xv, y, sg::tensor_view<float, sg::extents<sg::dyn, sg::dyn>>(g.data(), N, C),
        {.reduction = sg::reduction::sum, .label_smoothing = eps, .class_weights = w});
    CHECK(relative_error(loss, ref.loss) <= rtol);
    CHECK(worst_grad(g, ref) <= 1.0);
  }

  SECTION("probability targets, mean") {
    // dense random rows, normalised in double and rounded to float (the check allows it)
    std::vector<float> t(N * C);
    std::mt19937_64 gen(4);
    std::exponential_distribution<double> e(1.0);
    for (std::size_t i = 0; i < N; ++i) {
      std::vector<double> row(C);
      double total = 0;
      for (auto& v : row) total += (v = e(gen));
      for (std::size_t c = 0; c < C; ++c) t[i * C + c] = float(row[c] / total);
    }
    const auto ref = reference_probabilities(x, t, C);
    std::vector<float> grad(N * C), losses(N);
    const double sum =
        scalar_kernel<float>(x, C, nullptr, t.data(), {}, 0, 1.0 / double(N), grad, losses);
    CHECK(relative_error(float(sum / double(N)), ref.loss) <= rtol);
    CHECK(worst_grad(grad, ref) <= 1.0);

    sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>> xv(x.data(), N, C);
    sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>> tv(t.data(), N, C);
    std::vector<float> g(N * C);
    const float loss = sg::softmax_cross_entropy(
        xv, tv, sg::tensor_view<float, sg::extents<sg::dyn, sg::dyn>>(g.data(), N, C));
    CHECK(relative_error(loss, ref.loss) <= rtol);
    CHECK(worst_grad(g, ref) <= 1.0);
  }
}

TEST_CASE("numerics: 1e5 rows, float within 1e-5 of a float64 reference", "[numerics]") {
  constexpr std::size_t N = 100000;
  for (const std::size_t C : {std::size_t(10), std::size_t(3)}) {
    INFO("C = " << C);
    const auto x = random_logits(N * C, 3.0f, 0.0f, 10 + C);
    auto y = random_labels(N, C, 20 + C);
    for (std::size_t i = 0; i < N; i += 7) y[i] = -100;  // some ignored rows
    std::vector<float> w(C);
    for (std::size_t c = 0; c < C; ++c) w[c] = 0.5f + 0.25f * float(c);
    const float eps = 0.05f;
    sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>> xv(x.data(), N, C);

    const auto mean = reference_indices(x, y, C, w, ld(eps), -100, true);
    const auto sum = reference_indices(x, y, C, w, ld(eps), -100, false);

    // the scalar kernel over every row at once
    std::vector<float> grad(N * C), losses(N);
    const double total =
        scalar_kernel<float>(x, C, y.data(), nullptr, w, double(eps), 1.0, grad, losses);
    CHECK(relative_error(float(total), sum.loss) <= rtol);
    CHECK(worst_grad(grad, sum) <= 1.0);

    // the public call: mean (with gradient) and sum, on 1 and on 4 threads
    for (const std::size_t threads : {std::size_t(1), std::size_t(4)}) {
      INFO("threads = " << threads);
      std::vector<float> g(N * C);
      const sg::ce_options o{.label_smoothing = eps, .class_weights = w, .threads = threads};
      const float m = sg::softmax_cross_entropy(
          xv, y, sg::tensor_view<float, sg::extents<sg::dyn, sg::dyn>>(g.data(), N, C), o);
      CHECK(relative_error(m, mean.loss) <= rtol);
      CHECK(worst_grad(g, mean) <= 1.0);
      auto os = o;
      os.reduction = sg::reduction::sum;
      CHECK(relative_error(sg::softmax_cross_entropy(xv, y, os), sum.loss) <= rtol);
      std::vector<float> per(N);
      auto on = o;
      on.reduction = sg::reduction::none;
      sg::softmax_cross_entropy(xv, y, sg::per_sample(per), on);
      double worst = 0;
      for (std::size_t i = 0; i < N; ++i)
        if (y[i] != -100) worst = std::max(worst, relative_error(per[i], sum.losses[i]));
        else worst = per[i] == 0.0f ? worst : INFINITY;
      CHECK(worst <= rtol);
    }
  }
}

TEST_CASE("numerics: 1e5 small losses after a large one, float within 1e-5", "[numerics]") {
  // Row 0 is confidently wrong at logit scale 1e4 (loss 2e4); the 1e5 rows after it are
  // confidently right (losses between 5e-5 and 5e-4, 2e-4 on average). A float running sum
  // sits at 2e4, where a float's ulp is 2e-3, and drops every one of them: about 20 of 2e4,
  // 1e-3 relative. The losses must be summed in a wider type.
  constexpr std::size_t N = 100001, C = 10;
  std::vector<float> x(N * C, 0.0f);
  std::vector<std::int64_t> y(N);
  x[0] = 1e4f;
  x[1] = -1e4f;
  y[0] = 1;
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<float> margin(10.0f, 12.0f);
  for (std::size_t i = 1; i < N; ++i) {
    y[i] = std::int64_t(i % C);
    x[i * C + std::size_t(y[i])] = margin(gen);
  }
  const auto mean = reference_indices(x, y, C, {}, 0, -100, true);
  const auto sum = reference_indices(x, y, C, {}, 0, -100, false);
  REQUIRE(sum.loss - 2e4L > 10);  // the small losses are worth more than 5e-4 of the total

  std::vector<float> grad(N * C), losses(N);
  const double total = scalar_kernel<float>(x, C, y.data(), nullptr, {}, 0, 1.0, grad, losses);
  CHECK(relative_error(float(total), sum.loss) <= rtol);

  sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>> xv(x.data(), N, C);
  for (const std::size_t threads : {std::size_t(1), std::size_t(4)}) {
    INFO("threads = " << threads);
    std::vector<float> g(N * C);
    const float m = sg::softmax_cross_entropy(
        xv, y, sg::tensor_view<float, sg::extents<sg::dyn, sg::dyn>>(g.data(), N, C),
        {.threads = threads});
    CHECK(relative_error(m, mean.loss) <= rtol);
    CHECK(worst_grad(g, mean) <= 1.0);
    const float s =
        sg::softmax_cross_entropy(xv, y, {.reduction = sg::reduction::sum, .threads = threads});
    CHECK(relative_error(s, sum.loss) <= rtol);
  }
}
