// The vector exp, log and soft-capping tanh of the active instruction set (CTest runs this
// program once per set, skipped where the CPU lacks it), against std::exp, std::log and
// std::tanh in double (float) and in long double or double (double).
#include <shapeguard/isa.hpp>
#include <shapeguard/detail/dispatch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "skip.hpp"

namespace sg = shapeguard;

namespace {

// The set under test: the active one, which CTest forces per set through force_isa (skipped
// where the CPU lacks it). The scalar set has no vector math: a run on it is skipped.
auto vector_isas() -> std::vector<sg::isa> {
  if (sg::active_isa() == sg::isa::scalar) {
    shapeguard_test::skip("no vector instruction set is active: no vector math to test");
    return {};
  }
  return {sg::active_isa()};
}

// |got - want| in units in the last place of a float of want's binade (want a normal float).
auto ulps_f32(float got, double want) -> double {
  const auto exponent = std::bit_cast<std::uint64_t>(want) & 0x7ff0000000000000u;
  const double ulp = std::bit_cast<double>(exponent - (std::uint64_t(23) << 52));
  return std::abs(double(got) - want) / ulp;
}

auto ulps_f64(double got, long double want) -> double {
  return double(std::abs((long double)got - want) / std::ldexp(1.0L, std::ilogb(want) - 52));
}

}  // namespace

TEST_CASE("float exp: every float in [-87.3, 0] within 2 ULP", "[simd][exp]") {
  const auto isas = vector_isas();
  // Negative floats ordered by magnitude are ordered by their bit patterns.
  const std::uint32_t first = std::bit_cast<std::uint32_t>(-0.0f);
  const std::uint32_t last = std::bit_cast<std::uint32_t>(-87.3f);
  constexpr std::size_t chunk = 1 << 16;
  std::vector<float> in(chunk), out(chunk);
  std::vector<double> want(chunk);
  std::vector<double> worst(isas.size(), 0.0);
  std::vector<float> worst_at(isas.size(), 0.0f);
  std::uint64_t count = 0;
  for (std::uint64_t b = first; b <= last;) {
    std::size_t n = 0;
    for (; n < chunk && b <= last; ++n, ++b) {
      in[n] = std::bit_cast<float>(static_cast<std::uint32_t>(b));
      want[n] = std::exp(double(in[n]));
    }
    count += n;
    for (std::size_t k = 0; k < isas.size(); ++k) {
      sg::detail::exp_array_for<float>(isas[k])(in.data(), out.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        const double u = ulps_f32(out[i], want[i]);
        if (!(u <= worst[k])) {  // also catches NaN
          worst[k] = std::isnan(u) ? std::numeric_limits<double>::infinity() : u;
          worst_at[k] = in[i];
        }
      }
    }
  }
  CHECK(count == std::uint64_t(last - first) + 1);
  for (std::size_t k = 0; k < isas.size(); ++k) {
    INFO(sg::to_string(isas[k]) << ": max error " << worst[k] << " ULP at x = " << worst_at[k]
                                << " over " << count << " floats");
    WARN(sg::to_string(isas[k]) << " float exp max error " << worst[k] << " ULP at "
                                << worst_at[k]);
    CHECK(worst[k] <= 2.0);
  }
}

TEST_CASE("double exp: dense sample of [-708.39, 0] within 2 ULP", "[simd][exp]") {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> wide(-708.39, 0.0), narrow(-1.0, 0.0);
  std::vector<double> in;
  for (int i = 0; i < 4'000'000; ++i) in.push_back(wide(rng));
  for (int i = 0; i < 1'000'000; ++i) in.push_back(narrow(rng));
  // around every multiple of ln 2 / 2, where the reduced argument switches sign or n steps
  for (int k = -2044; k <= 0; ++k) {
    const double c = k * 0.34657359027997264;
    for (double d : {-1e-9, -1e-13, 0.0, 1e-13, 1e-9})
      if (c + d <= 0 && c + d >= -708.39) in.push_back(c + d);
  }
  std::vector<double> out(in.size());
  for (sg::isa a : vector_isas()) {
    sg::detail::exp_array_for<double>(a)(in.data(), out.data(), in.size());
    double worst = 0, worst_at = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
      const double u = ulps_f64(out[i], std::exp((long double)in[i]));
      if (!(u <= worst)) {
        worst = std::isnan(u) ? std::numeric_limits<double>::infinity() : u;
        worst_at = in[i];
      }
    }
    INFO(sg::to_string(a) << ": max error " << worst << " ULP at x = " << worst_at);
    WARN(sg::to_string(a) << " double exp max error " << worst << " ULP at " << worst_at);
    CHECK(worst <= 2.0);
  }
}

TEMPLATE_TEST_CASE("exp: special values and the ends of the range", "[simd][exp][special]", float,
                   double) {
  using T = TestType;
  using lim = std::numeric_limits<T>;
  const T lowest = std::is_same_v<T, float> ? T(-87.336548f) : T(-708.3964185322641);
  const std::vector<T> in = {T(0),          -T(0),        lim::quiet_NaN(), -lim::infinity(),
                             lim::infinity(), T(-1000),   lowest * T(1.001), T(-1e-30),
                             T(1),          T(10),        T(88),            T(100000)};
  for (sg::isa a : vector_isas()) {
    INFO(sg::to_string(a));
    std::vector<T> out(in.size());
    sg::detail::exp_array_for<T>(a)(in.data(), out.data(), in.size());
    CHECK(out[0] == T(1));
    CHECK(out[1] == T(1));
    CHECK(std::isnan(out[2]));
    CHECK(out[3] == T(0));
    CHECK(out[4] == lim::infinity());
    CHECK(out[5] == T(0));
    CHECK(out[6] == T(0));  // flushed below the smallest normal result
    CHECK(out[7] == T(1));
    for (std::size_t i : {8u, 9u, 10u}) {
      const long double want = std::exp((long double)in[i]);
      CHECK(double(std::abs((long double)out[i] - want) / want) < 3 * double(lim::epsilon()));
    }
    CHECK(out[11] == lim::infinity());
    // tails: every length below a register, lanes past n untouched
    for (std::size_t n = 0; n <= 17; ++n) {
      std::vector<T> x(n + 1, T(-0.5)), y(n + 1, T(7));
      sg::detail::exp_array_for<T>(a)(x.data(), y.data(), n);
      for (std::size_t i = 0; i < n; ++i)
        CHECK(std::abs(double(y[i]) - std::exp(-0.5)) < 3e-7 * std::exp(-0.5));
      CHECK(y[n] == T(7));
    }
  }
}

TEST_CASE("float log: every float in [1, 2^20) and a sample of every binade within 2 ULP",
          "[simd][log]") {
  std::vector<float> in;
  // [1, 2^20) in full: the sums of a tile of rows (s >= 1) and far beyond
  for (std::uint32_t b = std::bit_cast<std::uint32_t>(1.0f); b < std::bit_cast<std::uint32_t>(0x1p20f); ++b)
    in.push_back(std::bit_cast<float>(b));
  // every binade of the positive normal floats, 4096 values each
  for (int e = -126; e < 128; ++e)
    for (std::uint32_t k = 0; k < 4096; ++k)
      in.push_back(std::ldexp(1.0f + float(k) / 4096.0f, e));
  std::vector<float> out(in.size());
  for (sg::isa a : vector_isas()) {
    const auto log_array = sg::detail::log_array_for(a);
    REQUIRE(log_array != nullptr);
    log_array(in.data(), out.data(), in.size());
    double worst = 0;
    float worst_at = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
      const double want = std::log(double(in[i]));
      // in ULP of the result's binade; log(1) = 0 must be exact
      const double u = want == 0 ? (out[i] == 0 ? 0.0 : 1e9) : ulps_f32(out[i], want);
      if (!(u <= worst)) {
        worst = std::isnan(u) ? std::numeric_limits<double>::infinity() : u;
        worst_at = in[i];
      }
    }
    INFO(sg::to_string(a) << ": max error " << worst << " ULP at x = " << worst_at);
    WARN(sg::to_string(a) << " float log max error " << worst << " ULP at " << worst_at);
    CHECK(worst <= 2.0);
    // NaN stays NaN
    const float nan = std::numeric_limits<float>::quiet_NaN();
    float special_out = 0;
    log_array(&nan, &special_out, 1);
    CHECK(std::isnan(special_out));
  }
}

TEST_CASE("float log1p over [0, 1]: every float in [2^-8, 1] and a sample of every binade below "
          "within 2 ULP",
          "[simd][log1p]") {
  // the values of exp(-|x|) the sigmoid loss takes log1p of
  std::vector<float> in = {0.0f, std::numeric_limits<float>::denorm_min(), 1e-40f, 1e-30f};
  for (std::uint32_t b = std::bit_cast<std::uint32_t>(0x1p-8f); b <= std::bit_cast<std::uint32_t>(1.0f); ++b)
    in.push_back(std::bit_cast<float>(b));
  for (int e = -126; e < -8; ++e)
    for (std::uint32_t k = 0; k < 4096; ++k) in.push_back(std::ldexp(1.0f + float(k) / 4096.0f, e));
  std::vector<float> out(in.size());
  for (sg::isa a : vector_isas()) {
    const auto log1p_array = sg::detail::log1p_unit_array_for<float>(a);
    REQUIRE(log1p_array != nullptr);
    log1p_array(in.data(), out.data(), in.size());
    double worst = 0;
    float worst_at = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
      const double want = std::log1p(double(in[i]));
      // subnormal results are judged in absolute terms, in ULP of the smallest normal float
      const double u = want == 0 ? (out[i] == 0 ? 0.0 : 1e9)
                                 : (want < 0x1p-126 ? std::abs(double(out[i]) - want) / 0x1p-149
                                                    : ulps_f32(out[i], want));
      if (!(u <= worst)) {
        worst = std::isnan(u) ? std::numeric_limits<double>::infinity() : u;
        worst_at = in[i];
      }
    }
    INFO(sg::to_string(a) << ": max error " << worst << " ULP at t = " << worst_at);
    WARN(sg::to_string(a) << " float log1p [0, 1] max error " << worst << " ULP at " << worst_at);
    CHECK(worst <= 2.0);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    float special_out = 0;
    log1p_array(&nan, &special_out, 1);
    CHECK(std::isnan(special_out));
  }
}

TEST_CASE("double log1p over [0, 1]: a dense sample of every binade down to 2^-60 within 2 ULP",
          "[simd][log1p]") {
  std::vector<double> in = {0.0, 1.0, 0x1p-1074, 1e-300};
  for (int e = -60; e < 0; ++e)
    for (std::uint32_t k = 0; k < 8192; ++k) in.push_back(std::ldexp(1.0 + k / 8192.0, e));
  std::mt19937_64 rng(7);
  for (int k = 0; k < 200000; ++k)
    in.push_back(std::ldexp(double(rng() >> 11) * 0x1p-53, -(int(rng() % 8))));  // in [0, 1)
  std::vector<double> out(in.size());
  for (sg::isa a : vector_isas()) {
    const auto log1p_array = sg::detail::log1p_unit_array_for<double>(a);
    REQUIRE(log1p_array != nullptr);
    log1p_array(in.data(), out.data(), in.size());
    double worst = 0;
    double worst_at = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
      const long double want = std::log1p((long double)in[i]);
      const double u = want == 0 ? (out[i] == 0 ? 0.0 : 1e9)
                                 : (want < 0x1p-1022L
                                        ? double(std::abs((long double)out[i] - want) / 0x1p-1074L)
                                        : ulps_f64(out[i], want));
      if (!(u <= worst)) {
        worst = std::isnan(u) ? std::numeric_limits<double>::infinity() : u;
        worst_at = in[i];
      }
    }
    INFO(sg::to_string(a) << ": max error " << worst << " ULP at t = " << worst_at);
    WARN(sg::to_string(a) << " double log1p [0, 1] max error " << worst << " ULP at " << worst_at);
    CHECK(worst <= 2.0);
  }
}

TEMPLATE_TEST_CASE("soft-capping: tanh and its derivative, relative to their float64 values",
                   "[simd][tanh]", float, double) {
  using T = TestType;
  // y = s tanh(x / s) with s = 1 (so y is tanh itself), and 1 - tanh^2(x) = 4 e / (1 + e)^2,
  // e = exp(-2|x|), over a dense sample of both signs from 2^-40 to where tanh saturates, with
  // the series' threshold and its neighbours; then any cap and the special values.
  constexpr double eps = std::is_same_v<T, float> ? 0x1p-23 : 0x1p-52;
  for (sg::isa a : vector_isas()) {
    const auto cap = sg::detail::soft_cap_array_for<T>(a);
    REQUIRE(cap);
    std::vector<T> x;
    for (double v = 0x1p-40; v < 30; v *= 1.0001) x.push_back(T(v));
    for (double t : {0.25, 0.0625}) {
      T v = T(t);
      for (int k = 0; k < 64; ++k) v = std::nextafter(v, T(0));
      for (int k = 0; k < 128; ++k, v = std::nextafter(v, T(1))) x.push_back(v);
    }
    const std::size_t positives = x.size();
    for (std::size_t i = 0; i < positives; ++i) x.push_back(-x[i]);
    std::vector<T> y(x.size()), d(x.size());
    cap(x.data(), y.data(), d.data(), x.size(), 1.0);
    double worst_y = 0, worst_d = 0;
    T worst_y_at = 0, worst_d_at = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double u = double(x[i]);
      const double want_y = std::tanh(u);
      const double e = std::exp(-2 * std::abs(u));
      const double want_d = 4 * e / ((1 + e) * (1 + e));
      const double ey = std::abs(double(y[i]) - want_y) / (std::abs(want_y) * eps);
      // below T's normal range the derivative is 0 or a subnormal: held absolutely there
      const double ed = want_d < double(std::numeric_limits<T>::min())
                            ? std::abs(double(d[i]) - want_d) / double(std::numeric_limits<T>::min())
                            : std::abs(double(d[i]) - want_d) / (want_d * eps);
      if (ey > worst_y) worst_y = ey, worst_y_at = x[i];
      if (ed > worst_d) worst_d = ed, worst_d_at = x[i];
    }
    INFO(sg::to_string(a) << ": tanh worst " << worst_y << " eps at " << worst_y_at
                          << ", derivative worst " << worst_d << " eps at " << worst_d_at);
    CHECK(worst_y <= 5);
    CHECK(worst_d <= 8);
    CHECK(worst_y > 0);  // the sample reached values that are not exact

    // another cap, every tail length, and the special values
    const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
    for (std::size_t n = 1; n <= 40; ++n) {
      std::vector<T> in(n), out(n + 1, T(-7)), slope(n + 1, T(-7));
      for (std::size_t i = 0; i < n; ++i) in[i] = T(double(i) * 7.5 - 100);
      in[0] = inf;
      if (n > 1) in[1] = -inf;
      if (n > 2) in[2] = nan;
      if (n > 3) in[3] = T(0);
      cap(in.data(), out.data(), slope.data(), n, 30.0);
      for (std::size_t i = 0; i < n; ++i) {
        if (i == 2) {
          CHECK(std::isnan(out[i]));
          CHECK(slope[i] == T(0));  // an ignored row's zero gradient stays 0
          continue;
        }
        const double u = double(in[i]) / 30;
        CHECK(double(out[i]) == Approx(30 * std::tanh(u)).epsilon(8 * eps).margin(1e-300));
        const double e = std::exp(-2 * std::abs(u));
        CHECK(double(slope[i]) == Approx(4 * e / ((1 + e) * (1 + e))).epsilon(16 * eps));
      }
      CHECK(out[0] == T(30));
      CHECK(slope[0] == T(0));
      CHECK(out[n] == T(-7));  // past the end: untouched
      CHECK(slope[n] == T(-7));
    }
  }
}
