// Row statistics (detail/row_stats.hpp): the statistics of slices of a row, combined, are the
// statistics of the whole row, in any order and grouping; rebased moves them exactly.
#include <shapeguard/detail/row_stats.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

namespace sd = shapeguard::detail;

namespace {

// The statistics of x[b, e) with coefficients a, straight from their definition, relative to the
// slice's own max.
auto stats_of(const std::vector<double>& x, const std::vector<double>& a, std::size_t b,
              std::size_t e) -> sd::row_stats {
  sd::row_stats out;
  for (std::size_t c = b; c < e; ++c) out.m = std::max(out.m, x[c]);
  for (std::size_t c = b; c < e; ++c) {
    out.sums.s += std::exp(x[c] - out.m);
    if (a[c] != 0) out.sums.gap += a[c] * (out.m - x[c]);
    out.sums.a += a[c];
  }
  return out;
}

void check_same(const sd::row_stats& got, const sd::row_stats& want) {
  CHECK(got.m == want.m);
  CHECK(got.sums.s == Approx(want.sums.s).epsilon(1e-13));
  CHECK(got.sums.gap == Approx(want.sums.gap).epsilon(1e-13));
  CHECK(got.sums.a == Approx(want.sums.a).epsilon(1e-13));
}

}  // namespace

TEST_CASE("slices combined give the whole row's statistics, in any order", "[row_stats]") {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 3.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (std::size_t n : {2u, 5u, 17u, 1000u}) {
    std::vector<double> x(n), a(n);
    for (auto& v : x) v = normal(rng);
    for (std::size_t c = 0; c < n; ++c) a[c] = c % 3 == 0 ? 0.0 : unit(rng);  // some zero
    const sd::row_stats whole = stats_of(x, a, 0, n);
    REQUIRE(whole.sums.gap > 0);
    for (std::size_t cut = 1; cut < n; cut += std::max<std::size_t>(1, n / 7)) {
      INFO("n " << n << " cut " << cut);
      const sd::row_stats left = stats_of(x, a, 0, cut), right = stats_of(x, a, cut, n);
      check_same(sd::combine(left, right), whole);
      check_same(sd::combine(right, left), whole);
    }
    if (n >= 5) {
      // three slices, both groupings
      const auto s0 = stats_of(x, a, 0, 1), s1 = stats_of(x, a, 1, n / 2),
                 s2 = stats_of(x, a, n / 2, n);
      check_same(sd::combine(sd::combine(s0, s1), s2), whole);
      check_same(sd::combine(s0, sd::combine(s1, s2)), whole);
      check_same(sd::combine(s2, sd::combine(s0, s1)), whole);
    }
  }
}

TEST_CASE("an empty slice changes nothing; a weighted -inf logit makes the gap infinite",
          "[row_stats]") {
  const std::vector<double> x = {1.0, -2.0, 0.5}, a = {0.25, 0.5, 0.25};
  const sd::row_stats whole = stats_of(x, a, 0, 3);
  const sd::row_stats empty;
  check_same(sd::combine(whole, empty), whole);
  check_same(sd::combine(empty, whole), whole);
  const double inf = std::numeric_limits<double>::infinity();
  // a slice whose only logit is -inf: with coefficient 0 it adds nothing
  const sd::row_stats masked{-inf, {0.0, 0.0, 0.0}};
  check_same(sd::combine(whole, masked), whole);
  // with a coefficient above 0 its gap term a (m - x) is +inf, as the reference's loss is
  const sd::row_stats hit{-inf, {0.0, 0.0, 0.5}};
  CHECK(sd::combine(whole, hit).sums.gap == inf);
  CHECK(sd::combine(hit, whole).sums.s == Approx(whole.sums.s));
}

TEST_CASE("rebased moves sums to a larger reference exactly as recomputing them", "[row_stats]") {
  const std::vector<double> x = {0.3, -1.7, 2.2, 0.0}, a = {0.1, 0.0, 0.6, 0.3};
  const sd::row_stats at_max = stats_of(x, a, 0, 4);
  const double m_new = at_max.m + 3.5;
  const sd::row_sums moved = sd::rebased(at_max.sums, at_max.m, m_new, at_max.sums.a);
  double s = 0, gap = 0;
  for (std::size_t c = 0; c < 4; ++c) {
    s += std::exp(x[c] - m_new);
    if (a[c] != 0) gap += a[c] * (m_new - x[c]);
  }
  CHECK(moved.s == Approx(s).epsilon(1e-14));
  CHECK(moved.gap == Approx(gap).epsilon(1e-14));
  CHECK(moved.a == at_max.sums.a);
  // without coefficients only s moves
  const sd::row_sums plain = sd::rebased({1.0, 0.0, 0.0}, 0.0, 2.0, 0.0);
  CHECK(plain.s == Approx(std::exp(-2.0)).epsilon(1e-15));
  CHECK(plain.gap == 0.0);
}
