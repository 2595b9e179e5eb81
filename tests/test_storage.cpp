// The 16-bit storage types (storage.hpp): their scalar conversions against a decoding and a
// rounding written here from the formats' definitions, over every 16-bit value and every tie
// between two of them, and the active instruction set's vector conversions against the scalar
// ones (CTest runs this program once per set; the vector part is skipped on the scalar set).
#include <shapeguard/shapeguard.hpp>
#include <shapeguard/detail/dispatch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "skip.hpp"

namespace sg = shapeguard;

namespace {

// The format of H: fraction bits and exponent bias.
template <class H>
struct format;
template <>
struct format<sg::bfloat16> {
  static constexpr int fraction = 7, exponent = 8, bias = 127;
};
template <>
struct format<sg::float16> {
  static constexpr int fraction = 10, exponent = 5, bias = 15;
};

// The value of the bits h of H, from the definition: (-1)^s 2^(e - bias) (1 + f / 2^fraction),
// subnormal for e = 0; NaN or infinity for the largest e.
template <class H>
auto decode(std::uint16_t h) -> double {
  using F = format<H>;
  const int e = (h >> F::fraction) & ((1 << F::exponent) - 1);
  const int f = h & ((1 << F::fraction) - 1);
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (e == (1 << F::exponent) - 1)
    return f ? std::numeric_limits<double>::quiet_NaN()
             : sign * std::numeric_limits<double>::infinity();
  if (e == 0) return sign * std::ldexp(double(f), 1 - F::bias - F::fraction);
  return sign * std::ldexp(double(f + (1 << F::fraction)), e - F::bias - F::fraction);
}

// x rounded to H to nearest, ties to the even pattern, as bits: from the two finite neighbours
// of |x| among the decoded values (a binary search over the positive patterns, which are
// ordered like their values), past the largest finite value's half-ulp to infinity.
template <class H>
auto round_reference(double x) -> std::uint16_t {
  using F = format<H>;
  const std::uint16_t inf = std::uint16_t(((1 << F::exponent) - 1) << F::fraction);
  const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::fabs(x);
  const std::uint16_t max_finite = std::uint16_t(inf - 1);
  const double top = decode<H>(max_finite);
  const double half_ulp = (top - decode<H>(std::uint16_t(max_finite - 1))) / 2;
  if (a >= top + half_ulp) return std::uint16_t(sign | inf);
  // the largest pattern whose value is <= a
  std::uint16_t lo = 0, hi = max_finite;
  while (lo < hi) {
    const auto mid = std::uint16_t((lo + hi + 1) / 2);
    if (decode<H>(mid) <= a)
      lo = mid;
    else
      hi = std::uint16_t(mid - 1);
  }
  if (decode<H>(lo) == a || lo == max_finite) return std::uint16_t(sign | lo);
  const double below = a - decode<H>(lo), above = decode<H>(std::uint16_t(lo + 1)) - a;
  const std::uint16_t pick =
      below < above ? lo : above < below ? std::uint16_t(lo + 1) : (lo & 1) ? std::uint16_t(lo + 1) : lo;
  return std::uint16_t(sign | pick);
}

template <class H>
auto is_nan_bits(std::uint16_t h) -> bool {
  return std::isnan(decode<H>(h));
}

// The floats that test a rounding: every tie between two adjacent finite values of H (exact in
// float), its float neighbours, each value itself, and values past the largest finite one.
template <class H>
auto rounding_inputs() -> std::vector<float> {
  std::vector<float> in;
  const std::uint16_t inf = std::uint16_t(((1 << format<H>::exponent) - 1) << format<H>::fraction);
  for (std::uint32_t h = 0; h < inf; ++h) {
    const double v = decode<H>(std::uint16_t(h));
    const double tie = (v + decode<H>(std::uint16_t(h + 1))) / 2;
    const auto t = float(tie);
    for (float f : {float(v), t, std::nextafter(t, 0.0f), std::nextafter(t, 1e30f)}) {
      in.push_back(f);
      in.push_back(-f);
    }
  }
  for (float f : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::max(),
                  std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min(),
                  0.0f, 65520.0f, 65519.996f, 1e-8f, 2.9e-8f, 3e-8f, 5.96e-8f}) {
    in.push_back(f);
    in.push_back(-f);
  }
  std::mt19937 rng(7);
  for (int k = 0; k < 200000; ++k) {
    const float f = std::bit_cast<float>(std::uint32_t(rng()));
    if (!std::isnan(f)) in.push_back(f);
  }
  return in;
}

}  // namespace

static_assert(std::is_same_v<sg::storage_t<float>, float>);
static_assert(std::is_same_v<sg::storage_t<const double>, double>);
static_assert(std::is_same_v<sg::storage_t<sg::bfloat16>, sg::bfloat16>);
static_assert(std::is_same_v<sg::detail::math_t<sg::bfloat16>, float>);
static_assert(std::is_same_v<sg::detail::math_t<sg::float16>, float>);
static_assert(std::is_same_v<sg::detail::math_t<double>, double>);

TEMPLATE_TEST_CASE("every 16-bit value converts to its float exactly and back to its bits",
                   "[storage]", sg::bfloat16, sg::float16) {
  std::size_t wrong = 0, nan = 0;
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const auto h = TestType::from_bits(std::uint16_t(b));
    const float f = h;
    const double want = decode<TestType>(std::uint16_t(b));
    if (std::isnan(want)) {
      ++nan;
      // NaN stays NaN both ways
      wrong += !std::isnan(f) || !is_nan_bits<TestType>(TestType(f).bits);
      continue;
    }
    wrong += double(f) != want || std::signbit(f) != std::signbit(want);
    wrong += TestType(f).bits != b;
  }
  CHECK(wrong == 0);
  CHECK(nan == 2 * ((std::size_t(1) << format<TestType>::fraction) - 1));
}

TEMPLATE_TEST_CASE("floats round to the nearest 16-bit value, ties to even", "[storage]",
                   sg::bfloat16, sg::float16) {
  const std::vector<float> in = rounding_inputs<TestType>();
  std::size_t wrong = 0, ties = 0;
  float first_wrong = 0;
  for (float f : in) {
    const std::uint16_t want = round_reference<TestType>(double(f));
    const std::uint16_t got = TestType(f).bits;
    if (got != want && wrong++ == 0) first_wrong = f;
    // a tie: the float lies exactly between two values of the type
    const double back = decode<TestType>(want);
    ties += std::isfinite(back) && std::fabs(double(f) - back) > 0 &&
            round_reference<TestType>(std::nextafter(double(f), -1e300)) !=
                round_reference<TestType>(std::nextafter(double(f), 1e300));
  }
  INFO("first wrong input " << first_wrong);
  CHECK(wrong == 0);
  CHECK(ties >= 2 * 31000);  // the ties of both signs were in the sample
  // NaN of either sign stays NaN
  CHECK(is_nan_bits<TestType>(TestType(std::numeric_limits<float>::quiet_NaN()).bits));
  CHECK(is_nan_bits<TestType>(TestType(-std::numeric_limits<float>::quiet_NaN()).bits));
  CHECK(is_nan_bits<TestType>(TestType(std::bit_cast<float>(0x7f800001u)).bits));
}

TEMPLATE_TEST_CASE("doubles round once, not through float", "[storage]", sg::bfloat16,
                   sg::float16) {
  // just off a tie by less than a float ulp: a double that rounds to the tie in float, and then
  // to even, must round to the side it lies on
  std::size_t wrong = 0, checked = 0;
  for (std::uint32_t h = 1; h < 0x7000; h += 37) {
    const double v = decode<TestType>(std::uint16_t(h)), next = decode<TestType>(std::uint16_t(h + 1));
    if (!std::isfinite(next)) break;
    const double tie = (v + next) / 2;
    for (double d : {tie * (1 + 0x1p-40), tie * (1 - 0x1p-40), tie, -tie * (1 + 0x1p-40)}) {
      ++checked;
      wrong += TestType(d).bits != round_reference<TestType>(d);
    }
  }
  CHECK(checked > 1000);
  CHECK(wrong == 0);
  CHECK(TestType(1e300).bits == round_reference<TestType>(1e300));
  CHECK(TestType(-1e-300).bits == 0x8000);
}

// |i| rounded to nearest, ties to even, to the type's digits, in integer arithmetic: the value
// as an exact double (at most 11 significant bits), signed like i.
template <class H>
auto round_integer_reference(std::int64_t sign, std::uint64_t u) -> double {
  const int digits = format<H>::fraction + 1;
  const int width = 64 - std::countl_zero(u);
  double value = double(u);
  if (width > digits) {
    const int k = width - digits;
    std::uint64_t q = u >> k;
    const std::uint64_t r = u & ((std::uint64_t(1) << k) - 1), half = std::uint64_t(1) << (k - 1);
    if (r > half || (r == half && (q & 1))) ++q;
    value = std::ldexp(double(q), k);
  }
  return sign < 0 ? -value : value;
}

TEMPLATE_TEST_CASE("integers round once, to nearest, at every width", "[storage]", sg::bfloat16,
                   sg::float16) {
  std::size_t wrong = 0, checked = 0;
  std::uint64_t first_wrong = 0;
  auto check_u = [&](std::uint64_t u) {
    ++checked;
    const auto want = round_reference<TestType>(round_integer_reference<TestType>(1, u));
    if (TestType(u).bits != want && wrong++ == 0) first_wrong = u;
  };
  auto check_i = [&](std::int64_t i) {
    ++checked;
    const std::uint64_t u = i < 0 ? std::uint64_t(0) - std::uint64_t(i) : std::uint64_t(i);
    const auto want = round_reference<TestType>(round_integer_reference<TestType>(i, u));
    if (TestType(i).bits != want && wrong++ == 0) first_wrong = u;
  };
  for (std::int64_t i = -70000; i <= 70000; ++i) check_i(i);
  // at every width: the ties between two neighbours of the type, one unit either side of them
  // (which double(i) rounds onto the tie above 2^53), and the neighbours themselves
  const int digits = format<TestType>::fraction + 1;
  for (int width = digits + 1; width <= 64; ++width) {
    const int k = width - digits;
    const std::uint64_t unit = std::uint64_t(1) << k, half = unit >> 1;
    for (std::uint64_t q : {std::uint64_t(1) << (digits - 1), (std::uint64_t(1) << (digits - 1)) + 1,
                            (std::uint64_t(1) << digits) - 2, (std::uint64_t(1) << digits) - 1}) {
      const std::uint64_t base = q << k;
      for (std::uint64_t u : {base, base + half, base + half - 1, base + half + 1, base + 1,
                              base + unit - 1}) {
        check_u(u);
        if (u <= std::uint64_t(std::numeric_limits<std::int64_t>::max())) check_i(-std::int64_t(u));
      }
    }
  }
  std::mt19937_64 rng(11);
  for (int n = 0; n < 100000; ++n) {
    const std::uint64_t u = rng() >> (rng() % 64);
    check_u(u);
    check_i(std::int64_t(u));
  }
  check_u(std::numeric_limits<std::uint64_t>::max());
  check_i(std::numeric_limits<std::int64_t>::min());
  check_i(std::numeric_limits<std::int64_t>::max());
  INFO("first wrong magnitude " << first_wrong);
  CHECK(checked > 300000);
  CHECK(wrong == 0);
  // every integer type, at its extremes
  CHECK(TestType(std::uint8_t(255)).bits == TestType(255.0f).bits);
  CHECK(TestType(std::int16_t(-32768)).bits == TestType(-32768.0f).bits);
  CHECK(TestType(std::numeric_limits<std::uint32_t>::max()).bits ==
        TestType(std::ldexp(1.0, 32)).bits);
  CHECK(TestType(true).bits == TestType(1.0f).bits);
  // the conversion is constexpr
  static_assert(TestType(0x7fffffffffffffffLL).bits == TestType(0x1p63).bits);
}

TEST_CASE("numeric_limits of the 16-bit types", "[storage]") {
  using B = std::numeric_limits<sg::bfloat16>;
  CHECK(float(B::max()) == 3.3895313892515355e38f);
  CHECK(float(B::lowest()) == -3.3895313892515355e38f);
  CHECK(float(B::min()) == std::ldexp(1.0f, -126));
  CHECK(float(B::epsilon()) == std::ldexp(1.0f, -7));
  CHECK(double(float(B::denorm_min())) == std::ldexp(1.0, -133));
  CHECK(std::isinf(float(B::infinity())));
  CHECK(std::isnan(float(B::quiet_NaN())));
  CHECK(B::digits == 8);
  using H = std::numeric_limits<sg::float16>;
  CHECK(float(H::max()) == 65504.0f);
  CHECK(float(H::lowest()) == -65504.0f);
  CHECK(float(H::min()) == std::ldexp(1.0f, -14));
  CHECK(float(H::epsilon()) == std::ldexp(1.0f, -10));
  CHECK(float(H::denorm_min()) == std::ldexp(1.0f, -24));
  CHECK(std::isinf(float(H::infinity())));
  CHECK(std::isnan(float(H::quiet_NaN())));
  CHECK(H::digits == 11);
}

TEMPLATE_TEST_CASE("the active set's vector conversions are the scalar ones", "[storage]",
                   sg::bfloat16, sg::float16) {
  const auto convert = sg::detail::round16_array_for<TestType>(sg::active_isa());
  if (!convert) {
    shapeguard_test::skip("no vector instruction set is active: no vector conversions to test");
    return;
  }
  std::vector<float> all = rounding_inputs<TestType>();
  all.push_back(std::numeric_limits<float>::quiet_NaN());
  all.push_back(-std::numeric_limits<float>::quiet_NaN());
  all.push_back(std::bit_cast<float>(0x7f800001u));
  all.push_back(std::bit_cast<float>(0xffbfffffu));
  // every length up to 40 (every tail), then long spans, each from a different offset
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 40; ++n) lengths.push_back(n);
  lengths.push_back(1000);
  lengths.push_back(65536);
  std::size_t wrong = 0, untouched_lost = 0, offset = all.size() - 4;
  for (std::size_t pass = 0; pass < 2; ++pass) {
    for (std::size_t n : lengths) {
      std::vector<float> in(n);
      for (std::size_t i = 0; i < n; ++i) in[i] = all[(offset + i) % all.size()];
      offset += 4099;
      std::vector<TestType> out(n + 1, TestType::from_bits(0x1234));
      std::vector<float> back(n + 1, 1234.5f);
      convert(in.data(), out.data(), back.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        const TestType want(in[i]);
        if (std::isnan(in[i])) {
          wrong += !is_nan_bits<TestType>(out[i].bits) || !std::isnan(back[i]);
        } else {
          wrong += out[i].bits != want.bits;
          const float value = out[i];
          wrong += std::memcmp(&back[i], &value, sizeof value) != 0;
        }
      }
      untouched_lost += out[n].bits != 0x1234 || back[n] != 1234.5f;
    }
  }
  CHECK(wrong == 0);
  CHECK(untouched_lost == 0);
}
