#pragma once
/// The 16-bit storage types: `sg::bfloat16` and `sg::float16` hold logits, gradients and
/// floating targets in half the bytes; every kernel computes in float and returns the loss as
/// float. Both have the bit layout of `std::bfloat16_t` / `std::float16_t`, `c10::BFloat16` /
/// `c10::Half` and `Eigen::bfloat16` / `Eigen::half`: a buffer of any of those is read and
/// written in place (`storage_type` maps each to the library's type; the adapters of Eigen and
/// libtorch add theirs). Conversions from float and double round to nearest, ties to even;
/// NaN stays NaN, values past the largest finite one become infinite.

#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>

#if defined(__has_include)
#if __has_include(<stdfloat>)
#include <stdfloat>
#endif
#endif

// Buffers of the layout-compatible types of other libraries are accessed through these types,
// which the compilers that build the vector layers (GCC, clang) let alias any object.
#if defined(__GNUC__) || defined(__clang__)
#define SHAPEGUARD_MAY_ALIAS __attribute__((__may_alias__))
#else
#define SHAPEGUARD_MAY_ALIAS
#endif

namespace shapeguard {
namespace detail {

constexpr auto float_bits(float f) noexcept -> std::uint32_t {
  return std::bit_cast<std::uint32_t>(f);
}

/// f rounded to bfloat16 (1 sign, 8 exponent, 7 fraction bits), to nearest, ties to even.
constexpr auto bfloat16_bits(float f) noexcept -> std::uint16_t {
  const std::uint32_t b = float_bits(f);
  if ((b & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((b >> 16) | 0x0040u);  // quiet NaN
  return std::uint16_t((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}

/// f rounded to IEEE binary16 (1 sign, 5 exponent, 10 fraction bits), to nearest, ties to
/// even: subnormal halves included, 65520 and beyond to infinity.
constexpr auto float16_bits(float f) noexcept -> std::uint16_t {
  const std::uint32_t b = float_bits(f);
  const auto sign = std::uint16_t((b >> 16) & 0x8000u);
  const std::uint32_t a = b & 0x7fffffffu;
  if (a > 0x7f800000u) return std::uint16_t(sign | 0x7e00u | ((a >> 13) & 0x3ffu));  // NaN
  if (a >= 0x477ff000u) return std::uint16_t(sign | 0x7c00u);  // rounds past 65504
  if (a < 0x38800000u) {
    // below 2^-14, the half subnormals k 2^-24: adding 0.5 (whose ulp is 2^-24) rounds |f| to
    // the nearest k, ties to even, and leaves k in the low bits
    const float sum = std::bit_cast<float>(a) + 0.5f;
    return std::uint16_t(sign | (float_bits(sum) - 0x3f000000u));
  }
  // normal: rebias the exponent (127 - 15 = 112) and round the 13 dropped bits
  return std::uint16_t(sign | ((a - 0x38000000u + 0xfffu + ((a >> 13) & 1u)) >> 13));
}

constexpr auto bfloat16_value(std::uint16_t h) noexcept -> float {
  return std::bit_cast<float>(std::uint32_t(h) << 16);
}

constexpr auto float16_value(std::uint16_t h) noexcept -> float {
  const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
  const std::uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0) {  // zero or subnormal: m 2^-24, exact in float
    const float v = float(m) * 0x1p-24f;
    return sign ? -v : v;
  }
  const std::uint32_t bits = e == 31 ? (0x7f800000u | (m << 13)) : (((e + 112) << 23) | (m << 13));
  return std::bit_cast<float>(sign | bits);
}

/// d rounded to float with the sticky bit of round-to-odd: rounding the result once more to a
/// type of at most 22 fraction bits then gives d rounded to nearest directly (no double
/// rounding).
constexpr auto to_float_odd(double d) noexcept -> float {
  const float f = float(d);
  if (double(f) == d || f != f || f - f != 0) return f;  // exact, NaN or infinite
  std::uint32_t b = float_bits(f);
  if ((b & 1u) == 0) b += (f < 0 ? -double(f) : double(f)) > (d < 0 ? -d : d) ? -1u : 1u;
  return std::bit_cast<float>(b);
}

/// i as a double rounded to odd (the sticky bit kept in the last of 53 bits): exact below
/// 2^53, and above it one rounding that the later roundings to float and to 16 bits see
/// through, where double(i) would round to nearest once too often.
template <class I>
constexpr auto integer_to_double_odd(I i) noexcept -> double {
  const bool negative = i < I(0);
  std::uint64_t u = negative ? std::uint64_t(0) - std::uint64_t(i) : std::uint64_t(i);
  std::uint64_t scale = 1;
  while (u >> 53) {  // drop low bits into the sticky bit until 53 remain
    u = (u >> 1) | (u & 1u);
    scale *= 2;
  }
  const double d = double(u) * double(scale);
  return negative ? -d : d;
}

}  // namespace detail

/// bfloat16: float's sign and exponent, 7 fraction bits.
struct SHAPEGUARD_MAY_ALIAS bfloat16 {
  std::uint16_t bits;

  bfloat16() = default;
  explicit constexpr bfloat16(float f) noexcept : bits(detail::bfloat16_bits(f)) {}
  explicit constexpr bfloat16(double d) noexcept
      : bits(detail::bfloat16_bits(detail::to_float_odd(d))) {}
  template <class I>
    requires std::is_integral_v<I> && (sizeof(I) <= 8)
  explicit constexpr bfloat16(I i) noexcept : bfloat16(detail::integer_to_double_odd(i)) {}
  static constexpr auto from_bits(std::uint16_t b) noexcept -> bfloat16 {
    bfloat16 h;
    h.bits = b;
    return h;
  }
  constexpr operator float() const noexcept { return detail::bfloat16_value(bits); }
};

/// IEEE binary16 (half): 5 exponent bits, 10 fraction bits, largest finite value 65504.
struct SHAPEGUARD_MAY_ALIAS float16 {
  std::uint16_t bits;

  float16() = default;
  explicit constexpr float16(float f) noexcept : bits(detail::float16_bits(f)) {}
  explicit constexpr float16(double d) noexcept
      : bits(detail::float16_bits(detail::to_float_odd(d))) {}
  template <class I>
    requires std::is_integral_v<I> && (sizeof(I) <= 8)
  explicit constexpr float16(I i) noexcept : float16(detail::integer_to_double_odd(i)) {}
  static constexpr auto from_bits(std::uint16_t b) noexcept -> float16 {
    float16 h;
    h.bits = b;
    return h;
  }
  constexpr operator float() const noexcept { return detail::float16_value(bits); }
};

static_assert(sizeof(bfloat16) == 2 && alignof(bfloat16) == 2 &&
              std::is_trivially_copyable_v<bfloat16>);
static_assert(sizeof(float16) == 2 && alignof(float16) == 2 &&
              std::is_trivially_copyable_v<float16>);

/// The type the kernels read a buffer of T as: T itself, or for a 16-bit type of another
/// library, `bfloat16` or `float16`. Specialise it for such a type whose bits are the layout
/// of one of them (two bytes, trivially copyable, as the specialisations below check).
template <class T>
struct storage_type {
  using type = T;
};
#if defined(__STDCPP_BFLOAT16_T__)
template <>
struct storage_type<std::bfloat16_t> {
  using type = bfloat16;
};
#endif
#if defined(__STDCPP_FLOAT16_T__)
template <>
struct storage_type<std::float16_t> {
  using type = float16;
};
#endif
template <class T>
using storage_t = typename storage_type<std::remove_cv_t<T>>::type;

namespace detail {

template <class T>
inline constexpr bool is_16bit_v =
    std::is_same_v<storage_t<T>, bfloat16> || std::is_same_v<storage_t<T>, float16>;

/// Floating element types the kernels read: float, double and the 16-bit types.
template <class T>
inline constexpr bool is_floating_v = std::is_same_v<storage_t<T>, float> ||
                                      std::is_same_v<storage_t<T>, double> || is_16bit_v<T>;

/// A floating type the library does not read (long double, a 16-bit type without a
/// storage_type), which it refuses rather than treat as an integer label type.
template <class T>
inline constexpr bool is_unsupported_floating_v =
    !is_floating_v<T> && (std::is_floating_point_v<T> || (sizeof(T) == 2 && !std::is_integral_v<T>));

/// The library's own 16-bit types, which the vector layers read and write.
template <class T>
concept storage16 = std::is_same_v<T, bfloat16> || std::is_same_v<T, float16>;

/// The type a kernel computes in and a loss is returned in: float for the 16-bit types.
template <class T>
using math_t = std::conditional_t<is_16bit_v<T>, float, storage_t<T>>;

}  // namespace detail
}  // namespace shapeguard

// numeric_limits of the 16-bit types, as for float with their own precision and range.
template <>
struct std::numeric_limits<shapeguard::bfloat16> : std::numeric_limits<float> {
  using T = shapeguard::bfloat16;
  static constexpr int digits = 8;
  static constexpr int digits10 = 2;
  static constexpr int max_digits10 = 4;
  static constexpr auto min() noexcept -> T { return T::from_bits(0x0080); }
  static constexpr auto max() noexcept -> T { return T::from_bits(0x7f7f); }
  static constexpr auto lowest() noexcept -> T { return T::from_bits(0xff7f); }
  static constexpr auto epsilon() noexcept -> T { return T::from_bits(0x3c00); }
  static constexpr auto round_error() noexcept -> T { return T::from_bits(0x3f00); }
  static constexpr auto infinity() noexcept -> T { return T::from_bits(0x7f80); }
  static constexpr auto quiet_NaN() noexcept -> T { return T::from_bits(0x7fc0); }
  static constexpr auto signaling_NaN() noexcept -> T { return T::from_bits(0x7fa0); }
  static constexpr auto denorm_min() noexcept -> T { return T::from_bits(0x0001); }
};

template <>
struct std::numeric_limits<shapeguard::float16> : std::numeric_limits<float> {
  using T = shapeguard::float16;
  static constexpr int digits = 11;
  static constexpr int digits10 = 3;
  static constexpr int max_digits10 = 5;
  static constexpr int min_exponent = -13;
  static constexpr int min_exponent10 = -4;
  static constexpr int max_exponent = 16;
  static constexpr int max_exponent10 = 4;
  static constexpr auto min() noexcept -> T { return T::from_bits(0x0400); }
  static constexpr auto max() noexcept -> T { return T::from_bits(0x7bff); }
  static constexpr auto lowest() noexcept -> T { return T::from_bits(0xfbff); }
  static constexpr auto epsilon() noexcept -> T { return T::from_bits(0x1400); }
  static constexpr auto round_error() noexcept -> T { return T::from_bits(0x3800); }
  static constexpr auto infinity() noexcept -> T { return T::from_bits(0x7c00); }
  static constexpr auto quiet_NaN() noexcept -> T { return T::from_bits(0x7e00); }
  static constexpr auto signaling_NaN() noexcept -> T { return T::from_bits(0x7d00); }
  static constexpr auto denorm_min() noexcept -> T { return T::from_bits(0x0001); }
};
