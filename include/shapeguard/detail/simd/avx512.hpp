#pragma once
// The AVX-512 vector layer: 16 floats or 8 doubles per register, tails through mask registers
// (masked loads do not touch the lanes they leave out, so reading a row's tail never reads past
// its end). 16-bit storage (storage.hpp) is read and written 16 elements at a time, bfloat16
// by integer shifts and float16 by vcvtph2ps / vcvtps2ph.

#include <cstddef>
#include <cstdint>

#include "../../storage.hpp"
#include "exp_constants.hpp"
#include "target.hpp"

#if SHAPEGUARD_SIMD_X86

#define SHAPEGUARD_V512 SHAPEGUARD_SIMD_INLINE SHAPEGUARD_TARGET_AVX512

namespace shapeguard::detail::simd {

struct avx512_f32 {
  using value_type = float;
  using reg = __m512;
  using mask = __mmask16;
  using exp_constants = exp_f32;
  static constexpr std::size_t width = 16;
  static constexpr bool mask_registers = true;  // masked loads, stores and moves: one instruction
  static constexpr bool exp_shifts = false;  // 2^n by scalef
  static constexpr float exp_highest = exp_f32::highest_scalef;

  SHAPEGUARD_V512 static reg zero() { return _mm512_setzero_ps(); }
  SHAPEGUARD_V512 static reg set1(float v) { return _mm512_set1_ps(v); }
  // n in [0, width]
  SHAPEGUARD_V512 static mask tail_mask(std::size_t n) {
    return static_cast<mask>((1u << n) - 1u);
  }
  SHAPEGUARD_V512 static mask lane_mask(std::size_t i) { return static_cast<mask>(1u << i); }

  SHAPEGUARD_V512 static reg load(const float* p) { return _mm512_loadu_ps(p); }
  SHAPEGUARD_V512 static reg load(const double* p) {
    const __m256 lo = _mm512_cvtpd_ps(_mm512_loadu_pd(p));
    const __m256 hi = _mm512_cvtpd_ps(_mm512_loadu_pd(p + 8));
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
  }
  // The first n lanes from p, the others `fill`; n < width.
  SHAPEGUARD_V512 static reg load_tail(const float* p, std::size_t n, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), tail_mask(n), p);
  }
  SHAPEGUARD_V512 static reg load_tail(const double* p, std::size_t n, float fill) {
    const __m512d f = _mm512_set1_pd(double(fill));
    const auto m = static_cast<unsigned>(tail_mask(n));
    const __m256 lo = _mm512_cvtpd_ps(_mm512_mask_loadu_pd(f, static_cast<__mmask8>(m), p));
    // p + 8 is only formed when it lies inside the row
    const __m256 hi = n > 8 ? _mm512_cvtpd_ps(_mm512_mask_loadu_pd(
                                  f, static_cast<__mmask8>(m >> 8), p + 8))
                            : _mm256_set1_ps(fill);
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
  }
  SHAPEGUARD_V512 static void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
  SHAPEGUARD_V512 static void store_tail(float* p, std::size_t n, reg v) {
    _mm512_mask_storeu_ps(p, tail_mask(n), v);
  }

  // 16-bit storage: 16 elements are one 256-bit register of bits
  SHAPEGUARD_V512 static reg widen16(bfloat16, __m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  SHAPEGUARD_V512 static reg widen16(float16, __m256i h) { return _mm512_cvtph_ps(h); }
  // rounded to nearest, ties to even (bfloat16_bits in storage.hpp, lane-wise)
  SHAPEGUARD_V512 static __m256i narrow16(bfloat16, reg v) {
    const __m512i b = _mm512_castps_si512(v);
    const __m512i high = _mm512_srli_epi32(b, 16);
    const __m512i odd = _mm512_and_si512(high, _mm512_set1_epi32(1));
    const __m512i r = _mm512_srli_epi32(
        _mm512_add_epi32(_mm512_add_epi32(b, _mm512_set1_epi32(0x7fff)), odd), 16);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    return _mm512_cvtepi32_epi16(
        _mm512_mask_blend_epi32(nan, r, _mm512_or_si512(high, _mm512_set1_epi32(0x40))));
  }
  SHAPEGUARD_V512 static __m256i narrow16(float16, reg v) {
    // the masked form: GCC's unmasked macro (at -O0) converts -1 to the mask implicitly
    return _mm512_mask_cvtps_ph(_mm256_setzero_si256(), __mmask16(0xffff), v,
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  template <storage16 H>
  SHAPEGUARD_V512 static reg load(const H* p) {
    return widen16(H{}, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  template <storage16 H>
  SHAPEGUARD_V512 static reg load_tail(const H* p, std::size_t n, float fill) {
    const __m256i f = _mm256_set1_epi16(static_cast<short>(H(fill).bits));
    return widen16(H{}, _mm256_mask_loadu_epi16(f, tail_mask(n), p));
  }
  template <storage16 H>
  SHAPEGUARD_V512 static void store(H* p, reg v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), narrow16(H{}, v));
  }
  template <storage16 H>
  SHAPEGUARD_V512 static void store_tail(H* p, std::size_t n, reg v) {
    _mm256_mask_storeu_epi16(p, tail_mask(n), narrow16(H{}, v));
  }

  SHAPEGUARD_V512 static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  SHAPEGUARD_V512 static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
  SHAPEGUARD_V512 static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  SHAPEGUARD_V512 static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  SHAPEGUARD_V512 static reg fnmadd(reg a, reg b, reg c) { return _mm512_fnmadd_ps(a, b, c); }
  // max(x, acc) where a NaN in x is skipped: vmaxps returns its second operand when either
  // operand is NaN, which is the scalar reference's `x > m ? x : m`.
  SHAPEGUARD_V512 static reg max_ignore_nan(reg x, reg acc) { return _mm512_max_ps(x, acc); }
  // x limited to [lo, hi], NaN kept (the NaN operand is the second one).
  SHAPEGUARD_V512 static reg clamp(reg x, float lo, float hi) {
    return _mm512_min_ps(_mm512_set1_ps(hi), _mm512_max_ps(_mm512_set1_ps(lo), x));
  }
  SHAPEGUARD_V512 static reg clamp_low(reg x, float lo) {
    return _mm512_max_ps(_mm512_set1_ps(lo), x);
  }
  SHAPEGUARD_V512 static reg select(mask m, reg a, reg b) { return _mm512_mask_blend_ps(m, b, a); }
  // a != 0, true for NaN like the scalar `a != 0`
  SHAPEGUARD_V512 static mask nonzero(reg a) {
    return _mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_NEQ_UQ);
  }
  SHAPEGUARD_V512 static mask less(reg a, reg b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  SHAPEGUARD_V512 static mask greater(reg a, reg b) {
    return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ);
  }
  // Only for registers without NaN (accumulators of max_ignore_nan).
  SHAPEGUARD_V512 static float reduce_max(reg v) { return _mm512_reduce_max_ps(v); }
  SHAPEGUARD_V512 static double reduce_add(reg v) {
    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    const __m512d hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
    return _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
  }
  // The low and high halves of v as doubles, and back.
  SHAPEGUARD_V512 static void widen(reg v, __m512d& lo, __m512d& hi) {
    lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
  }
  SHAPEGUARD_V512 static reg narrow(__m512d lo, __m512d hi) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1);
  }
  // p * 2^n, n integral; 0 in the lanes of `zero`
  SHAPEGUARD_V512 static reg exp_scale(reg p, reg /*biased*/, reg n, mask zero) {
    return _mm512_maskz_scalef_ps(static_cast<mask>(~zero), p, n);
  }

  // For the tile kernel (rows in lanes) and its log.
  SHAPEGUARD_V512 static reg div(reg a, reg b) { return _mm512_div_ps(a, b); }
  SHAPEGUARD_V512 static mask equal(reg a, reg b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  /// The first lane set in m, or width when none is.
  SHAPEGUARD_V512 static std::size_t first(mask m) {
    return m ? std::size_t(__builtin_ctz(unsigned(m))) : width;
  }
  // x = m * 2^k with m in [2/3, 4/3), for x a positive normal float; returns m, k as a float.
  SHAPEGUARD_V512 static reg split_exponent(reg x, reg& k) {
    const __m512i i = _mm512_castps_si512(x);
    const __m512i e = _mm512_srai_epi32(_mm512_sub_epi32(i, _mm512_set1_epi32(0x3f2aaaab)), 23);
    k = _mm512_cvtepi32_ps(e);
    return _mm512_castsi512_ps(_mm512_sub_epi32(i, _mm512_slli_epi32(e, 23)));
  }
  // Lanes j < n: y[j] as a float and its class weight (weights[y[j]], 1 without weights) where
  // y[j] is not `ignore`; -1 and 0 in every other lane. Labels not ignored are in range
  // (checked before any kernel runs).
  SHAPEGUARD_V512 static void load_labels(const std::int64_t* y, std::size_t n,
                                          std::int64_t ignore, const float* weights, reg& yf,
                                          reg& wy) {
    const auto k_lo = static_cast<__mmask8>(n >= 8 ? 0xffu : (1u << n) - 1u);
    const auto k_hi = static_cast<__mmask8>(n <= 8 ? 0u : n >= 16 ? 0xffu : (1u << (n - 8)) - 1u);
    const __m512i ig = _mm512_set1_epi64(ignore);
    const __m512i lo = _mm512_maskz_loadu_epi64(k_lo, y);
    // y + 8 is only formed when it lies inside the labels
    const __m512i hi = k_hi ? _mm512_maskz_loadu_epi64(k_hi, y + 8) : _mm512_setzero_si512();
    const __mmask8 live_lo = _mm512_mask_cmpneq_epi64_mask(k_lo, lo, ig);
    const __mmask8 live_hi = _mm512_mask_cmpneq_epi64_mask(k_hi, hi, ig);
    const auto live = static_cast<__mmask16>(live_lo | (unsigned(live_hi) << 8));
    const __m512 f = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtepi64_ps(lo)),
                                        _mm512_cvtepi64_ps(hi), 1);
    yf = _mm512_mask_blend_ps(live, _mm512_set1_ps(-1.0f), f);
    if (weights) {
// Without optimization GCC's gather is a macro that passes its __mmask8 on as a char, which
// -Wsign-conversion reports at the call.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-conversion"
#endif
      const __m256 w_lo = _mm512_mask_i64gather_ps(_mm256_setzero_ps(), live_lo, lo, weights, 4);
      const __m256 w_hi = _mm512_mask_i64gather_ps(_mm256_setzero_ps(), live_hi, hi, weights, 4);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
      wy = _mm512_insertf32x8(_mm512_castps256_ps512(w_lo), w_hi, 1);
    } else {
      wy = _mm512_maskz_mov_ps(live, _mm512_set1_ps(1.0f));
    }
  }
  // Register c receives lane c of every register: a 16 x 16 transpose in four rounds of
  // shuffles (pairs of floats, of doubles, then 128-bit quarters twice).
  SHAPEGUARD_V512 static void transpose(reg (&r)[16]) {
    __m512 t[16];
    SHAPEGUARD_UNROLL(8)
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    __m512 u[16];  // u[4i + k], quarter q: column 4q + k of rows 4i .. 4i + 3
    SHAPEGUARD_UNROLL(4)
    for (int i = 0; i < 4; ++i) {
      const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
      const __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
      u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
      u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
      u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
      u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
    }
    SHAPEGUARD_UNROLL(4)
    for (int k = 0; k < 4; ++k) {
      const __m512 p0 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0x44);
      const __m512 p1 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0xee);
      const __m512 q0 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0x44);
      const __m512 q1 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0xee);
      r[k] = _mm512_shuffle_f32x4(p0, q0, 0x88);
      r[4 + k] = _mm512_shuffle_f32x4(p0, q0, 0xdd);
      r[8 + k] = _mm512_shuffle_f32x4(p1, q1, 0x88);
      r[12 + k] = _mm512_shuffle_f32x4(p1, q1, 0xdd);
    }
  }
};

struct avx512_f64 {
  using value_type = double;
  using reg = __m512d;
  using mask = __mmask8;
  using exp_constants = exp_f64;
  static constexpr std::size_t width = 8;
  static constexpr bool exp_shifts = false;
  static constexpr double exp_highest = exp_f64::highest_scalef;

  SHAPEGUARD_V512 static reg zero() { return _mm512_setzero_pd(); }
  SHAPEGUARD_V512 static reg set1(double v) { return _mm512_set1_pd(v); }
  SHAPEGUARD_V512 static mask tail_mask(std::size_t n) {
    return static_cast<mask>((1u << n) - 1u);
  }
  SHAPEGUARD_V512 static mask lane_mask(std::size_t i) { return static_cast<mask>(1u << i); }

  SHAPEGUARD_V512 static reg load(const double* p) { return _mm512_loadu_pd(p); }
  SHAPEGUARD_V512 static reg load(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
  SHAPEGUARD_V512 static reg load_tail(const double* p, std::size_t n, double fill) {
    return _mm512_mask_loadu_pd(_mm512_set1_pd(fill), tail_mask(n), p);
  }
  SHAPEGUARD_V512 static reg load_tail(const float* p, std::size_t n, double fill) {
    const __m256 v = _mm256_mask_loadu_ps(_mm256_setzero_ps(), tail_mask(n), p);
    return _mm512_mask_blend_pd(tail_mask(n), _mm512_set1_pd(fill), _mm512_cvtps_pd(v));
  }
  SHAPEGUARD_V512 static void store(double* p, reg v) { _mm512_storeu_pd(p, v); }
  SHAPEGUARD_V512 static void store_tail(double* p, std::size_t n, reg v) {
    _mm512_mask_storeu_pd(p, tail_mask(n), v);
  }

  SHAPEGUARD_V512 static reg add(reg a, reg b) { return _mm512_add_pd(a, b); }
  SHAPEGUARD_V512 static reg sub(reg a, reg b) { return _mm512_sub_pd(a, b); }
  SHAPEGUARD_V512 static reg mul(reg a, reg b) { return _mm512_mul_pd(a, b); }
  SHAPEGUARD_V512 static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_pd(a, b, c); }
  SHAPEGUARD_V512 static reg fnmadd(reg a, reg b, reg c) { return _mm512_fnmadd_pd(a, b, c); }
  SHAPEGUARD_V512 static reg max_ignore_nan(reg x, reg acc) { return _mm512_max_pd(x, acc); }
  SHAPEGUARD_V512 static reg clamp(reg x, double lo, double hi) {
    return _mm512_min_pd(_mm512_set1_pd(hi), _mm512_max_pd(_mm512_set1_pd(lo), x));
  }
  SHAPEGUARD_V512 static reg clamp_low(reg x, double lo) {
    return _mm512_max_pd(_mm512_set1_pd(lo), x);
  }
  SHAPEGUARD_V512 static reg select(mask m, reg a, reg b) { return _mm512_mask_blend_pd(m, b, a); }
  SHAPEGUARD_V512 static mask nonzero(reg a) {
    return _mm512_cmp_pd_mask(a, _mm512_setzero_pd(), _CMP_NEQ_UQ);
  }
  SHAPEGUARD_V512 static mask less(reg a, reg b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
  SHAPEGUARD_V512 static mask greater(reg a, reg b) {
    return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ);
  }
  SHAPEGUARD_V512 static double reduce_max(reg v) { return _mm512_reduce_max_pd(v); }
  SHAPEGUARD_V512 static double reduce_add(reg v) { return _mm512_reduce_add_pd(v); }
  SHAPEGUARD_V512 static reg exp_scale(reg p, reg /*biased*/, reg n, mask zero) {
    return _mm512_maskz_scalef_pd(static_cast<mask>(~zero), p, n);
  }
  SHAPEGUARD_V512 static reg div(reg a, reg b) { return _mm512_div_pd(a, b); }
  SHAPEGUARD_V512 static mask equal(reg a, reg b) { return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ); }
  SHAPEGUARD_V512 static std::size_t first(mask m) {
    return m ? std::size_t(__builtin_ctz(unsigned(m))) : width;
  }
};

}  // namespace shapeguard::detail::simd

#undef SHAPEGUARD_V512

#endif  // SHAPEGUARD_SIMD_X86
