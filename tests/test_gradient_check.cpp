// Gradient checks: the analytic gradient that sg::softmax_cross_entropy writes against central
// finite differences of the loss it returns, in double, on random small cases, for every
// combination of reduction x class weights x label smoothing x ignore_index x target kind,
// each with and without the z-loss.
//
// Tolerance. With step h, the central difference (f(x + h e) - f(x - h e)) / 2h differs from
// the derivative by at most h^2 / 6 * |f'''| (truncation) plus the rounding of the two
// evaluations divided by 2h. Along one logit the loss is g * A * logsumexp(row) minus a linear
// part, where A is the row's total target weight (at most 3 here, the largest weight) and g the
// gradient's scale (1 / denominator for mean: at most 4, the denominator being 0 or at least
// the smallest non-zero weight, 0.25). The third derivative of logsumexp along one coordinate
// is p (1 - p) (1 - 2p), at most 0.1 in size, so |f'''| <= 0.1 * 4 * 3 = 1.2 and with h = 1e-4
// the truncation error is at most 1e-8 / 6 * 1.2 = 2e-9. The z-loss z lse^2 (z = 0.05) adds
// g 2 z (3 lse'' lse' + lse lse''') <= 4 * 0.1 * (0.75 + 0.1 |lse|), under 1 for |lse| < 15.
// The rounding error of an evaluation is a few ulps of |f|, about 1e-15 |f|, so 1e-11 |f|
// after dividing by 2h. The test allows ten times the truncation bound, plus the rounding term:
//
//     |fd - analytic| <= 2e-8 * max(1, |analytic|) + 1e-11 * max(1, |f|)
//
// while a gradient that drops the smoothing term, a weight or the mean's denominator, or keeps
// an ignored row, is off by 1e-2 or more on these sizes. Ignored rows must have an exactly zero
// gradient, and with reduction::none a row's loss must not move at all when another row does.

#include <shapeguard/shapeguard.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>  // fmt::join

namespace sg = shapeguard;

namespace {

enum class kind { indices, indices_int32, one_hot_int, one_hot_float, probabilities };

auto name(kind k) -> const char* {
  switch (k) {
    case kind::indices: return "class indices (int64)";
    case kind::indices_int32: return "class indices (int32)";
    case kind::one_hot_int: return "sg::one_hot (uint8)";
    case kind::one_hot_float: return "sg::one_hot (float)";
    case kind::probabilities: return "probabilities (double)";
  }
  return "?";
}

enum class ignoring { none, default_index, in_range };

struct problem {
  std::vector<std::size_t> shape;  // rank 2 or 3, classes last
  std::vector<double> x;
  std::vector<std::int64_t> y;     // class per row (indices and one-hot kinds)
  std::vector<double> t;           // probability rows
  std::vector<float> w;
  sg::ce_options o;
  kind k = kind::indices;

  [[nodiscard]] auto classes() const -> std::size_t { return shape.back(); }
  [[nodiscard]] auto rows() const -> std::size_t { return x.size() / classes(); }
};

template <std::size_t R, class T>
auto view(T* data, const std::vector<std::size_t>& s) {
  if constexpr (R == 1) {
    return sg::tensor_view<T, sg::extents<sg::dyn>>(data, s[0]);
  } else if constexpr (R == 2) {
    return sg::tensor_view<T, sg::extents<sg::dyn, sg::dyn>>(data, s[0], s[1]);
  } else {
    return sg::tensor_view<T, sg::extents<sg::dyn, sg::dyn, sg::dyn>>(data, s[0], s[1], s[2]);
  }
}

/// Calls `f(labels)` with the problem's labels in its kind's encoding.
template <std::size_t R, class F>
auto with_labels(const problem& p, F&& f) {
  const std::size_t C = p.classes();
  auto rows_of = [&]<class U>(U) {
    std::vector<U> rows(p.rows() * C, U(0));
    for (std::size_t i = 0; i < p.rows(); ++i) rows[i * C + std::size_t(p.y[i])] = U(1);
    return rows;
  };
  switch (p.k) {
    case kind::indices: return f(view<R - 1>(p.y.data(), p.shape));
    case kind::indices_int32: {
      std::vector<std::int32_t> y(p.y.begin(), p.y.end());
      return f(view<R - 1>(static_cast<const std::int32_t*>(y.data()), p.shape));
    }
    case kind::one_hot_int: {
      const auto rows = rows_of(std::uint8_t{});
      return f(sg::one_hot(view<R>(rows.data(), p.shape)));
    }
    case kind::one_hot_float: {
      const auto rows = rows_of(float{});
      return f(sg::one_hot(view<R>(rows.data(), p.shape)));
    }
    case kind::probabilities:
    default: return f(sg::probabilities(view<R>(p.t.data(), p.shape)));
  }
}

/// The reduced loss, or every per-sample loss for reduction::none, at logits `x`.
template <std::size_t R>
auto losses_at(const problem& p, const std::vector<double>& x) -> std::vector<double> {
  const auto xv = view<R>(static_cast<const double*>(x.data()), p.shape);
  return with_labels<R>(p, [&](const auto& labels) {
    if (p.o.reduction == sg::reduction::none) {
      std::vector<double> out(p.rows());
      sg::softmax_cross_entropy(xv, labels, sg::per_sample(view<R - 1>(out.data(), p.shape)),
                                p.o);
      return out;
    }
    return std::vector<double>{sg::softmax_cross_entropy(xv, labels, p.o)};
  });
}

template <std::size_t R>
auto analytic(const problem& p) -> std::vector<double> {
  std::vector<double> g(p.x.size(), std::nan(""));
  const auto xv = view<R>(static_cast<const double*>(p.x.data()), p.shape);
  with_labels<R>(p, [&](const auto& labels) {
    if (p.o.reduction == sg::reduction::none) {
      std::vector<double> out(p.rows());
      sg::softmax_cross_entropy(xv, labels, sg::per_sample(view<R - 1>(out.data(), p.shape)),
                                view<R>(g.data(), p.shape), p.o);
    } else {
      sg::softmax_cross_entropy(xv, labels, view<R>(g.data(), p.shape), p.o);
    }
    return 0;
  });
  return g;
}

struct stats {
  double max_error = 0;    // max |fd - analytic|
  double max_ratio = 0;    // max |fd - analytic| / allowed
  std::size_t entries = 0;
};

constexpr double h = 1e-4;

auto allowed(double analytic, double f) -> double {
  return 2e-8 * std::max(1.0, std::fabs(analytic)) + 1e-11 * std::max(1.0, std::fabs(f));
}

/// Checks every gradient entry of `p` against central differences.
template <std::size_t R>
void check_gradient(const problem& p, const std::string& what, stats& st) {
  INFO(what);
  const std::size_t C = p.classes();
  const auto g = analytic<R>(p);
  const auto f0 = losses_at<R>(p, p.x);
  const bool none = p.o.reduction == sg::reduction::none;
  auto ignored = [&](std::size_t row) {
    return (p.k == kind::indices || p.k == kind::indices_int32) && p.y[row] == p.o.ignore_index;
  };
  std::vector<double> x = p.x;
  for (std::size_t j = 0; j < x.size(); ++j) {
    const std::size_t row = j / C;
    x[j] = p.x[j] + h;
    const auto up = losses_at<R>(p, x);
    x[j] = p.x[j] - h;
    const auto down = losses_at<R>(p, x);
    x[j] = p.x[j];
    // reduction::none: row `row`'s own loss; others must not change at all
    const std::size_t out = none ? row : 0;
    if (none)
      for (std::size_t i = 0; i < up.size(); ++i)
        if (i != row) {
          INFO("per-sample loss " << i << " moved when logit " << j << " did");
          REQUIRE(up[i] == f0[i]);
          REQUIRE(down[i] == f0[i]);
        }
    const double fd = (up[out] - down[out]) / (2 * h);
    INFO("entry " << j << " (row " << row << "): analytic " << g[j] << ", finite difference "
                  << fd);
    if (ignored(row)) {
      REQUIRE(g[j] == 0.0);
      REQUIRE(fd == 0.0);
      continue;
    }
    const double err = std::fabs(fd - g[j]);
    const double tol = allowed(g[j], f0[out]);
    CHECK(err <= tol);  // NaN fails
    st.max_error = std::max(st.max_error, err);
    st.max_ratio = std::max(st.max_ratio, err / tol);
    ++st.entries;
  }
}

/// A random case: logits N(0, 2^2), labels avoiding in-range ignore values unless chosen,
/// probability rows from a normalised exponential draw.
auto make_problem(std::mt19937_64& gen, kind k, sg::reduction red, bool weighted, float eps,
                  ignoring ign, bool rank3, double z) -> problem {
  problem p;
  p.k = k;
  auto uniform = [&](std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(gen);
  };
  // from 2 classes: one class is refused (single_class)
  const std::size_t C = uniform(2, 7);
  p.shape = rank3 ? std::vector<std::size_t>{uniform(1, 2), uniform(1, 3), C}
                  : std::vector<std::size_t>{uniform(1, 5), C};
  std::size_t n = 1;
  for (std::size_t a = 0; a + 1 < p.shape.size(); ++a) n *= p.shape[a];
  std::normal_distribution<double> normal(0.0, 2.0);
  p.x.resize(n * C);
  for (auto& v : p.x) v = normal(gen);
  p.y.resize(n);
  for (auto& v : p.y) v = std::int64_t(uniform(0, C - 1));
  if (k == kind::probabilities) {
    std::exponential_distribution<double> e(1.0);
    p.t.resize(n * C);
    for (std::size_t i = 0; i < n; ++i) {
      double s = 0;
      for (std::size_t c = 0; c < C; ++c) s += (p.t[i * C + c] = e(gen));
      for (std::size_t c = 0; c < C; ++c) p.t[i * C + c] /= s;
    }
  }
  if (weighted) {
    std::uniform_real_distribution<float> wd(0.25f, 3.0f);
    p.w.resize(C);
    for (auto& v : p.w) v = wd(gen);
    if (C > 2) p.w[uniform(0, C - 1)] = 0.0f;  // a class left out
  }
  p.o.reduction = red;
  p.o.label_smoothing = eps;
  p.o.class_weights = p.w;
  p.o.z_loss = z;
  if (ign != ignoring::none) {
    p.o.ignore_index = ign == ignoring::in_range ? std::int64_t(uniform(0, C - 1)) : -100;
    // ignore about a third of the rows, and keep one row counted
    for (std::size_t i = 0; i < n; ++i)
      if (uniform(0, 2) == 0) p.y[i] = p.o.ignore_index;
    if (ign == ignoring::in_range) {
      const std::size_t keep = uniform(0, n - 1);
      p.y[keep] = (p.o.ignore_index + 1) % std::int64_t(C);
    } else {
      p.y[uniform(0, n - 1)] = std::int64_t(uniform(0, C - 1));
    }
  }
  return p;
}

}  // namespace

TEST_CASE("gradient check: every option combination against central differences",
          "[gradient]") {
  std::mt19937_64 gen(20240611);
  stats st;
  std::size_t combinations = 0;
  for (kind k : {kind::indices, kind::indices_int32, kind::one_hot_int, kind::one_hot_float,
                 kind::probabilities}) {
    const bool indices = k == kind::indices || k == kind::indices_int32;
    for (sg::reduction red : {sg::reduction::mean, sg::reduction::sum, sg::reduction::none}) {
      for (bool weighted : {false, true}) {
        for (float eps : {0.0f, 0.3f, 1.0f}) {
          for (ignoring ign : {ignoring::none, ignoring::default_index, ignoring::in_range}) {
            if (!indices && ign != ignoring::none) continue;
            ++combinations;
            for (int rep = 0; rep < 4; ++rep) {
              const bool rank3 = rep % 2 == 1;
              const double z = rep < 2 ? 0.0 : 0.05;
              const auto p = make_problem(gen, k, red, weighted, eps, ign, rank3, z);
              const char* ignore_text = ign == ignoring::none       ? "none"
                                        : ign == ignoring::in_range ? "in range"
                                                                    : "-100";
              const std::string what = fmt::format(
                  "{}, reduction {}, {}, smoothing {}, ignore {}, z-loss {}, shape [{}]",
                  name(k), sg::to_string(red), weighted ? "weighted" : "unweighted", eps,
                  ignore_text, z, fmt::join(p.shape, ", "));
              if (rank3)
                check_gradient<3>(p, what, st);
              else
                check_gradient<2>(p, what, st);
            }
          }
        }
      }
    }
  }
  CHECK(combinations == 2 * 3 * 2 * 3 * 3 + 3 * 3 * 2 * 3);
  std::printf("gradient check: %zu combinations, %zu entries, max |fd - analytic| %.3g, max "
              "error/allowed %.3g\n",
              combinations, st.entries, st.max_error, st.max_ratio);
}
