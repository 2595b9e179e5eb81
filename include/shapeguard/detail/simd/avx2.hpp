#pragma once
// The AVX2+FMA vector layer: 8 floats or 4 doubles per register. Tails use vmaskmov loads and
// stores, which neither read nor write the lanes left out, with the mask taken from a sliding
// window over a constant table. 16-bit storage (storage.hpp) is read and written 8 elements
// at a time, bfloat16 by integer shifts and float16 by F16C, its tails through a stack buffer.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../../storage.hpp"
#include "exp_constants.hpp"
#include "target.hpp"

#if SHAPEGUARD_SIMD_X86

#define SHAPEGUARD_V256 SHAPEGUARD_SIMD_INLINE SHAPEGUARD_TARGET_AVX2

namespace shapeguard::detail::simd {

// 8 all-ones lanes then 8 zero lanes: loading 8 lanes at offset 8 - n gives a mask of n lanes.
alignas(64) inline constexpr std::int32_t avx2_mask_table32[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                                   0,  0,  0,  0,  0,  0,  0,  0};
alignas(64) inline constexpr std::int64_t avx2_mask_table64[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

struct avx2_f32 {
  using value_type = float;
  using reg = __m256;
  using mask = __m256;  // all-ones lanes where true
  using exp_constants = exp_f32;
  static constexpr std::size_t width = 8;
  static constexpr bool mask_registers = false;  // masked memory costs more than plain (tiles.inl)
  static constexpr bool exp_shifts = true;
  static constexpr float exp_highest = exp_f32::highest_shift;

  SHAPEGUARD_V256 static reg zero() { return _mm256_setzero_ps(); }
  SHAPEGUARD_V256 static reg set1(float v) { return _mm256_set1_ps(v); }
  SHAPEGUARD_V256 static __m256i tail_bits(std::size_t n) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(avx2_mask_table32 + 8 - n));
  }
  SHAPEGUARD_V256 static mask tail_mask(std::size_t n) {
    return _mm256_castsi256_ps(tail_bits(n));
  }
  SHAPEGUARD_V256 static mask lane_mask(std::size_t i) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_castsi256_ps(
        _mm256_cmpeq_epi32(lanes, _mm256_set1_epi32(static_cast<int>(i))));
  }

  SHAPEGUARD_V256 static reg load(const float* p) { return _mm256_loadu_ps(p); }
  SHAPEGUARD_V256 static reg load(const double* p) {
    return _mm256_set_m128(_mm256_cvtpd_ps(_mm256_loadu_pd(p + 4)),
                           _mm256_cvtpd_ps(_mm256_loadu_pd(p)));
  }
  SHAPEGUARD_V256 static reg load_tail(const float* p, std::size_t n, float fill) {
    const __m256i m = tail_bits(n);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m),
                            _mm256_castsi256_ps(m));
  }
  SHAPEGUARD_V256 static reg load_tail(const double* p, std::size_t n, float fill) {
    const __m256d f = _mm256_set1_pd(double(fill));
    const __m256i mlo = _mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(avx2_mask_table64 + 4 - (n < 4 ? n : 4)));
    const __m256d lo = _mm256_blendv_pd(f, _mm256_maskload_pd(p, mlo), _mm256_castsi256_pd(mlo));
    __m256d hi = f;
    if (n > 4) {  // p + 4 is only formed when it lies inside the row
      const __m256i mhi =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(avx2_mask_table64 + 8 - n));
      hi = _mm256_blendv_pd(f, _mm256_maskload_pd(p + 4, mhi), _mm256_castsi256_pd(mhi));
    }
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
  }
  SHAPEGUARD_V256 static void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
  SHAPEGUARD_V256 static void store_tail(float* p, std::size_t n, reg v) {
    _mm256_maskstore_ps(p, tail_bits(n), v);
  }

  // 16-bit storage: 8 elements are one 128-bit register of bits
  SHAPEGUARD_V256 static reg widen16(bfloat16, __m128i h) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  SHAPEGUARD_V256 static reg widen16(float16, __m128i h) { return _mm256_cvtph_ps(h); }
  // rounded to nearest, ties to even (bfloat16_bits in storage.hpp, lane-wise)
  SHAPEGUARD_V256 static __m128i narrow16(bfloat16, reg v) {
    const __m256i b = _mm256_castps_si256(v);
    const __m256i high = _mm256_srli_epi32(b, 16);
    const __m256i odd = _mm256_and_si256(high, _mm256_set1_epi32(1));
    __m256i r = _mm256_srli_epi32(
        _mm256_add_epi32(_mm256_add_epi32(b, _mm256_set1_epi32(0x7fff)), odd), 16);
    const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    r = _mm256_blendv_epi8(r, _mm256_or_si256(high, _mm256_set1_epi32(0x40)), nan);
    return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
  }
  SHAPEGUARD_V256 static __m128i narrow16(float16, reg v) {
    return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  template <storage16 H>
  SHAPEGUARD_V256 static reg load(const H* p) {
    return widen16(H{}, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  template <storage16 H>
  SHAPEGUARD_V256 static reg load_tail(const H* p, std::size_t n, float fill) {
    H buf[width];
    for (H& b : buf) b = H(fill);
    std::memcpy(buf, p, n * sizeof(H));
    return load(buf);
  }
  template <storage16 H>
  SHAPEGUARD_V256 static void store(H* p, reg v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), narrow16(H{}, v));
  }
  template <storage16 H>
  SHAPEGUARD_V256 static void store_tail(H* p, std::size_t n, reg v) {
    H buf[width];
    store(buf, v);
    std::memcpy(p, buf, n * sizeof(H));
  }

  SHAPEGUARD_V256 static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  SHAPEGUARD_V256 static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
  SHAPEGUARD_V256 static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  SHAPEGUARD_V256 static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  SHAPEGUARD_V256 static reg fnmadd(reg a, reg b, reg c) { return _mm256_fnmadd_ps(a, b, c); }
  // vmaxps returns its second operand when either is NaN: NaN in x is skipped
  SHAPEGUARD_V256 static reg max_ignore_nan(reg x, reg acc) { return _mm256_max_ps(x, acc); }
  SHAPEGUARD_V256 static reg clamp(reg x, float lo, float hi) {
    return _mm256_min_ps(_mm256_set1_ps(hi), _mm256_max_ps(_mm256_set1_ps(lo), x));
  }
  SHAPEGUARD_V256 static reg clamp_low(reg x, float lo) {
    return _mm256_max_ps(_mm256_set1_ps(lo), x);
  }
  SHAPEGUARD_V256 static reg select(mask m, reg a, reg b) { return _mm256_blendv_ps(b, a, m); }
  SHAPEGUARD_V256 static mask nonzero(reg a) {
    return _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_NEQ_UQ);
  }
  SHAPEGUARD_V256 static mask less(reg a, reg b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  SHAPEGUARD_V256 static mask greater(reg a, reg b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  SHAPEGUARD_V256 static float reduce_max(reg v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
  }
  SHAPEGUARD_V256 static double reduce_add(reg v) {
    const __m256d s = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)),
                                    _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    h = _mm_add_sd(h, _mm_unpackhi_pd(h, h));
    return _mm_cvtsd_f64(h);
  }
  // The low and high halves of v as doubles, and back.
  SHAPEGUARD_V256 static void widen(reg v, __m256d& lo, __m256d& hi) {
    lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
  }
  SHAPEGUARD_V256 static reg narrow(__m256d lo, __m256d hi) {
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
  }
  // p * 2^n, 0 in the lanes of `zero`: the low bits of `biased` hold n + 127 (see
  // exp_constants.hpp)
  SHAPEGUARD_V256 static reg exp_scale(reg p, reg biased, reg /*n*/, mask zero) {
    const reg scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(biased), 23));
    return _mm256_andnot_ps(zero, _mm256_mul_ps(p, scale));
  }

  // For the tile kernel (rows in lanes) and its log.
  SHAPEGUARD_V256 static reg div(reg a, reg b) { return _mm256_div_ps(a, b); }
  SHAPEGUARD_V256 static mask equal(reg a, reg b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  /// The first lane set in m, or width when none is.
  SHAPEGUARD_V256 static std::size_t first(mask m) {
    const unsigned b = unsigned(_mm256_movemask_ps(m));
    return b ? std::size_t(__builtin_ctz(b)) : width;
  }
  // x = m * 2^k with m in [2/3, 4/3), for x a positive normal float; returns m, k as a float.
  SHAPEGUARD_V256 static reg split_exponent(reg x, reg& k) {
    const __m256i i = _mm256_castps_si256(x);
    const __m256i e = _mm256_srai_epi32(_mm256_sub_epi32(i, _mm256_set1_epi32(0x3f2aaaab)), 23);
    k = _mm256_cvtepi32_ps(e);
    return _mm256_castsi256_ps(_mm256_sub_epi32(i, _mm256_slli_epi32(e, 23)));
  }
  // Lanes j < n: y[j] as a float and its class weight (weights[y[j]], 1 without weights) where
  // y[j] is not `ignore`; -1 and 0 in every other lane. Labels not ignored are in range
  // (checked before any kernel runs), so their low 32 bits are the class.
  SHAPEGUARD_V256 static void load_labels(const std::int64_t* y, std::size_t n,
                                          std::int64_t ignore, const float* weights, reg& yf,
                                          reg& wy) {
    const std::size_t n_lo = n < 4 ? n : 4, n_hi = n - n_lo;
    const __m256i ig = _mm256_set1_epi64x(ignore);
    const __m256i k_lo = tail_bits64(n_lo), k_hi = tail_bits64(n_hi);
    const __m256i lo = _mm256_maskload_epi64(reinterpret_cast<const long long*>(y), k_lo);
    // y + 4 is only formed when it lies inside the labels
    const __m256i hi = n_hi ? _mm256_maskload_epi64(reinterpret_cast<const long long*>(y + 4), k_hi)
                            : _mm256_setzero_si256();
    const __m256i live_lo = _mm256_andnot_si256(_mm256_cmpeq_epi64(lo, ig), k_lo);
    const __m256i live_hi = _mm256_andnot_si256(_mm256_cmpeq_epi64(hi, ig), k_hi);
    const __m256i y32 = low_halves(lo, hi);
    const __m256 live = _mm256_castsi256_ps(low_halves(live_lo, live_hi));
    yf = _mm256_blendv_ps(_mm256_set1_ps(-1.0f), _mm256_cvtepi32_ps(y32), live);
    wy = weights ? _mm256_mask_i32gather_ps(_mm256_setzero_ps(), weights, y32, live, 4)
                 : _mm256_and_ps(live, _mm256_set1_ps(1.0f));
  }
  // the first k of 4 64-bit lanes, k <= 4
  SHAPEGUARD_V256 static __m256i tail_bits64(std::size_t k) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(avx2_mask_table64 + 4 - k));
  }
  // the low 32 bits of each 64-bit lane: a's four, then b's four
  SHAPEGUARD_V256 static __m256i low_halves(__m256i a, __m256i b) {
    const __m256i evens = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    return _mm256_set_m128i(_mm256_castsi256_si128(_mm256_permutevar8x32_epi32(b, evens)),
                            _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(a, evens)));
  }
  // Rows whose last classes are at most 4 (narrow_tail) are transposed without the 8 x 8
  // transpose: load_narrow gives out[k], k < len, class k of the 8 rows p + j stride (lane j;
  // `fill` for rows j >= n), from one load of exactly len floats per row (no masked load, nothing
  // read past the row), rows j and j + 4 in the two halves of one register and a 4 x 4
  // transpose within the halves (8 shuffles against 24). store_narrow is its inverse: it
  // writes exactly classes [0, len) of rows j < n. out[k] for k in [len, 4) is left defined.
  static constexpr std::size_t narrow_tail = 4;  // at most 4 (tiles.inl)
  SHAPEGUARD_V256 static __m128 load_narrow_row(const float* p, std::size_t len) {
    const auto* q = reinterpret_cast<const __m128i*>(p);
    switch (len) {
      case 1: return _mm_load_ss(p);
      case 2: return _mm_castsi128_ps(_mm_loadl_epi64(q));
      case 3: return _mm_movelh_ps(_mm_castsi128_ps(_mm_loadl_epi64(q)), _mm_load_ss(p + 2));
      default: return _mm_loadu_ps(p);
    }
  }
  SHAPEGUARD_V256 static void store_narrow_row(float* p, std::size_t len, __m128 v) {
    auto* q = reinterpret_cast<__m128i*>(p);
    switch (len) {
      case 1: _mm_store_ss(p, v); break;
      case 2: _mm_storel_epi64(q, _mm_castps_si128(v)); break;
      case 3:
        _mm_storel_epi64(q, _mm_castps_si128(v));
        _mm_store_ss(p + 2, _mm_movehl_ps(v, v));
        break;
      default: _mm_storeu_ps(p, v);
    }
  }
  // a 4 x 4 transpose in each 128-bit half
  SHAPEGUARD_V256 static void transpose4(const reg (&r)[4], reg (&out)[4]) {
    const __m256d t0 = _mm256_castps_pd(_mm256_unpacklo_ps(r[0], r[1]));
    const __m256d t1 = _mm256_castps_pd(_mm256_unpackhi_ps(r[0], r[1]));
    const __m256d t2 = _mm256_castps_pd(_mm256_unpacklo_ps(r[2], r[3]));
    const __m256d t3 = _mm256_castps_pd(_mm256_unpackhi_ps(r[2], r[3]));
    out[0] = _mm256_castpd_ps(_mm256_unpacklo_pd(t0, t2));
    out[1] = _mm256_castpd_ps(_mm256_unpackhi_pd(t0, t2));
    out[2] = _mm256_castpd_ps(_mm256_unpacklo_pd(t1, t3));
    out[3] = _mm256_castpd_ps(_mm256_unpackhi_pd(t1, t3));
  }
  SHAPEGUARD_V256 static void load_narrow(const float* p, std::size_t stride, std::size_t n,
                                          std::size_t len, float fill, reg (&out)[8]) {
    const __m128 f = _mm_set1_ps(fill);
    reg r[4];
    SHAPEGUARD_UNROLL(4)
    for (std::size_t j = 0; j < 4; ++j)
      r[j] = _mm256_set_m128(j + 4 < n ? load_narrow_row(p + (j + 4) * stride, len) : f,
                             j < n ? load_narrow_row(p + j * stride, len) : f);
    reg t[4];
    transpose4(r, t);
    SHAPEGUARD_UNROLL(4)
    for (std::size_t k = 0; k < 4; ++k) out[k] = t[k];
  }
  SHAPEGUARD_V256 static void store_narrow(float* p, std::size_t stride, std::size_t n,
                                           std::size_t len, const reg (&in)[8]) {
    const reg r[4] = {in[0], in[1], in[2], in[3]};
    reg t[4];
    transpose4(r, t);
    SHAPEGUARD_UNROLL(4)
    for (std::size_t j = 0; j < 4; ++j) {
      if (j < n) store_narrow_row(p + j * stride, len, _mm256_castps256_ps128(t[j]));
      if (j + 4 < n) store_narrow_row(p + (j + 4) * stride, len, _mm256_extractf128_ps(t[j], 1));
    }
  }

  // Register c receives lane c of every register: an 8 x 8 transpose (pairs of floats, of
  // doubles, then 128-bit halves).
  SHAPEGUARD_V256 static void transpose(reg (&r)[8]) {
    __m256 t[8];
    SHAPEGUARD_UNROLL(4)
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    __m256 u[8];  // u[4i + k], half h: column 4h + k of rows 4i .. 4i + 3
    SHAPEGUARD_UNROLL(2)
    for (int i = 0; i < 2; ++i) {
      const __m256d a = _mm256_castps_pd(t[4 * i]), b = _mm256_castps_pd(t[4 * i + 2]);
      const __m256d c = _mm256_castps_pd(t[4 * i + 1]), d = _mm256_castps_pd(t[4 * i + 3]);
      u[4 * i] = _mm256_castpd_ps(_mm256_unpacklo_pd(a, b));
      u[4 * i + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(a, b));
      u[4 * i + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(c, d));
      u[4 * i + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(c, d));
    }
    SHAPEGUARD_UNROLL(4)
    for (int k = 0; k < 4; ++k) {
      r[k] = _mm256_permute2f128_ps(u[k], u[4 + k], 0x20);
      r[4 + k] = _mm256_permute2f128_ps(u[k], u[4 + k], 0x31);
    }
  }
};

struct avx2_f64 {
  using value_type = double;
  using reg = __m256d;
  using mask = __m256d;
  using exp_constants = exp_f64;
  static constexpr std::size_t width = 4;
  static constexpr bool exp_shifts = true;
  static constexpr double exp_highest = exp_f64::highest_shift;

  SHAPEGUARD_V256 static reg zero() { return _mm256_setzero_pd(); }
  SHAPEGUARD_V256 static reg set1(double v) { return _mm256_set1_pd(v); }
  SHAPEGUARD_V256 static __m256i tail_bits(std::size_t n) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(avx2_mask_table64 + 4 - n));
  }
  SHAPEGUARD_V256 static mask tail_mask(std::size_t n) {
    return _mm256_castsi256_pd(tail_bits(n));
  }
  SHAPEGUARD_V256 static mask lane_mask(std::size_t i) {
    const __m256i lanes = _mm256_setr_epi64x(0, 1, 2, 3);
    return _mm256_castsi256_pd(
        _mm256_cmpeq_epi64(lanes, _mm256_set1_epi64x(static_cast<long long>(i))));
  }

  SHAPEGUARD_V256 static reg load(const double* p) { return _mm256_loadu_pd(p); }
  SHAPEGUARD_V256 static reg load(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
  SHAPEGUARD_V256 static reg load_tail(const double* p, std::size_t n, double fill) {
    const __m256i m = tail_bits(n);
    return _mm256_blendv_pd(_mm256_set1_pd(fill), _mm256_maskload_pd(p, m),
                            _mm256_castsi256_pd(m));
  }
  SHAPEGUARD_V256 static reg load_tail(const float* p, std::size_t n, double fill) {
    const __m128i m =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(avx2_mask_table32 + 8 - n));
    return _mm256_blendv_pd(_mm256_set1_pd(fill), _mm256_cvtps_pd(_mm_maskload_ps(p, m)),
                            tail_mask(n));
  }
  SHAPEGUARD_V256 static void store(double* p, reg v) { _mm256_storeu_pd(p, v); }
  SHAPEGUARD_V256 static void store_tail(double* p, std::size_t n, reg v) {
    _mm256_maskstore_pd(p, tail_bits(n), v);
  }

  SHAPEGUARD_V256 static reg add(reg a, reg b) { return _mm256_add_pd(a, b); }
  SHAPEGUARD_V256 static reg sub(reg a, reg b) { return _mm256_sub_pd(a, b); }
  SHAPEGUARD_V256 static reg mul(reg a, reg b) { return _mm256_mul_pd(a, b); }
  SHAPEGUARD_V256 static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_pd(a, b, c); }
  SHAPEGUARD_V256 static reg fnmadd(reg a, reg b, reg c) { return _mm256_fnmadd_pd(a, b, c); }
  SHAPEGUARD_V256 static reg max_ignore_nan(reg x, reg acc) { return _mm256_max_pd(x, acc); }
  SHAPEGUARD_V256 static reg clamp(reg x, double lo, double hi) {
    return _mm256_min_pd(_mm256_set1_pd(hi), _mm256_max_pd(_mm256_set1_pd(lo), x));
  }
  SHAPEGUARD_V256 static reg clamp_low(reg x, double lo) {
    return _mm256_max_pd(_mm256_set1_pd(lo), x);
  }
  SHAPEGUARD_V256 static reg select(mask m, reg a, reg b) { return _mm256_blendv_pd(b, a, m); }
  SHAPEGUARD_V256 static mask nonzero(reg a) {
    return _mm256_cmp_pd(a, _mm256_setzero_pd(), _CMP_NEQ_UQ);
  }
  SHAPEGUARD_V256 static mask less(reg a, reg b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
  SHAPEGUARD_V256 static mask greater(reg a, reg b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
  SHAPEGUARD_V256 static double reduce_max(reg v) {
    __m128d m = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    m = _mm_max_sd(m, _mm_unpackhi_pd(m, m));
    return _mm_cvtsd_f64(m);
  }
  SHAPEGUARD_V256 static double reduce_add(reg v) {
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    h = _mm_add_sd(h, _mm_unpackhi_pd(h, h));
    return _mm_cvtsd_f64(h);
  }
  SHAPEGUARD_V256 static reg exp_scale(reg p, reg biased, reg /*n*/, mask zero) {
    const reg scale = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(biased), 52));
    return _mm256_andnot_pd(zero, _mm256_mul_pd(p, scale));
  }
  SHAPEGUARD_V256 static reg div(reg a, reg b) { return _mm256_div_pd(a, b); }
  SHAPEGUARD_V256 static mask equal(reg a, reg b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
  SHAPEGUARD_V256 static std::size_t first(mask m) {
    const unsigned b = unsigned(_mm256_movemask_pd(m));
    return b ? std::size_t(__builtin_ctz(b)) : width;
  }
};

}  // namespace shapeguard::detail::simd

#undef SHAPEGUARD_V256

#endif  // SHAPEGUARD_SIMD_X86
