#pragma once
// The NEON (AArch64 Advanced SIMD) vector layer: 4 floats or 2 doubles per register. NEON has
// no masked loads, so a tail goes through a small stack buffer (copied element-wise, never
// past the row's end) and the vector code then runs on it unchanged. 16-bit storage
// (storage.hpp): bfloat16 by integer shifts, float16 by the conversion instructions.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../../storage.hpp"

#include "exp_constants.hpp"
#include "target.hpp"

#if SHAPEGUARD_SIMD_NEON

#define SHAPEGUARD_VNEON SHAPEGUARD_SIMD_INLINE

namespace shapeguard::detail::simd {

struct neon_f32 {
  using value_type = float;
  using reg = float32x4_t;
  using mask = uint32x4_t;
  using exp_constants = exp_f32;
  static constexpr std::size_t width = 4;
  static constexpr bool mask_registers = false;  // masked memory costs more than plain (tiles.inl)
  static constexpr bool exp_shifts = true;
  static constexpr float exp_highest = exp_f32::highest_shift;

  SHAPEGUARD_VNEON static reg zero() { return vdupq_n_f32(0.0f); }
  SHAPEGUARD_VNEON static reg set1(float v) { return vdupq_n_f32(v); }
  SHAPEGUARD_VNEON static mask tail_mask(std::size_t n) {
    const std::uint32_t lanes[4] = {0, 1, 2, 3};
    return vcltq_u32(vld1q_u32(lanes), vdupq_n_u32(static_cast<std::uint32_t>(n)));
  }
  SHAPEGUARD_VNEON static mask lane_mask(std::size_t i) {
    const std::uint32_t lanes[4] = {0, 1, 2, 3};
    return vceqq_u32(vld1q_u32(lanes), vdupq_n_u32(static_cast<std::uint32_t>(i)));
  }

  SHAPEGUARD_VNEON static reg load(const float* p) { return vld1q_f32(p); }
  SHAPEGUARD_VNEON static reg load(const double* p) {
    return vcvt_high_f32_f64(vcvt_f32_f64(vld1q_f64(p)), vld1q_f64(p + 2));
  }
  template <class S>
  SHAPEGUARD_VNEON static reg load_tail(const S* p, std::size_t n, float fill) {
    S buf[width] = {S(fill), S(fill), S(fill), S(fill)};
    std::memcpy(buf, p, n * sizeof(S));
    return load(buf);
  }
  SHAPEGUARD_VNEON static void store(float* p, reg v) { vst1q_f32(p, v); }
  SHAPEGUARD_VNEON static void store_tail(float* p, std::size_t n, reg v) {
    float buf[width];
    vst1q_f32(buf, v);
    std::memcpy(p, buf, n * sizeof(float));
  }

  // 16-bit storage: 4 elements are one 64-bit register of bits
  SHAPEGUARD_VNEON static auto bits16(const void* p) -> uint16x4_t {
    return vld1_u16(static_cast<const std::uint16_t*>(p));
  }
  SHAPEGUARD_VNEON static reg load(const bfloat16* p) {
    return vreinterpretq_f32_u32(vshll_n_u16(bits16(p), 16));
  }
  SHAPEGUARD_VNEON static reg load(const float16* p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(bits16(p)));
  }
  // rounded to nearest, ties to even (bfloat16_bits in storage.hpp, lane-wise)
  SHAPEGUARD_VNEON static void store(bfloat16* p, reg v) {
    const uint32x4_t b = vreinterpretq_u32_f32(v);
    const uint32x4_t odd = vandq_u32(vshrq_n_u32(b, 16), vdupq_n_u32(1));
    const uint16x4_t r = vshrn_n_u32(vaddq_u32(vaddq_u32(b, vdupq_n_u32(0x7fff)), odd), 16);
    const uint16x4_t quiet = vorr_u16(vshrn_n_u32(b, 16), vdup_n_u16(0x40));
    const uint16x4_t number = vmovn_u32(vceqq_f32(v, v));
    vst1_u16(reinterpret_cast<std::uint16_t*>(p), vbsl_u16(number, r, quiet));
  }
  SHAPEGUARD_VNEON static void store(float16* p, reg v) {
    vst1_u16(reinterpret_cast<std::uint16_t*>(p), vreinterpret_u16_f16(vcvt_f16_f32(v)));
  }
  template <storage16 H>
  SHAPEGUARD_VNEON static void store_tail(H* p, std::size_t n, reg v) {
    H buf[width];
    store(buf, v);
    std::memcpy(p, buf, n * sizeof(H));
  }

  SHAPEGUARD_VNEON static reg add(reg a, reg b) { return vaddq_f32(a, b); }
  SHAPEGUARD_VNEON static reg sub(reg a, reg b) { return vsubq_f32(a, b); }
  SHAPEGUARD_VNEON static reg mul(reg a, reg b) { return vmulq_f32(a, b); }
  SHAPEGUARD_VNEON static reg fmadd(reg a, reg b, reg c) { return vfmaq_f32(c, a, b); }
  SHAPEGUARD_VNEON static reg fnmadd(reg a, reg b, reg c) { return vfmsq_f32(c, a, b); }
  // fmaxnm returns the number when one operand is NaN: NaN in x is skipped
  SHAPEGUARD_VNEON static reg max_ignore_nan(reg x, reg acc) { return vmaxnmq_f32(x, acc); }
  // fmax/fmin propagate NaN
  SHAPEGUARD_VNEON static reg clamp(reg x, float lo, float hi) {
    return vminq_f32(vmaxq_f32(x, vdupq_n_f32(lo)), vdupq_n_f32(hi));
  }
  SHAPEGUARD_VNEON static reg clamp_low(reg x, float lo) { return vmaxq_f32(x, vdupq_n_f32(lo)); }
  SHAPEGUARD_VNEON static reg select(mask m, reg a, reg b) { return vbslq_f32(m, a, b); }
  SHAPEGUARD_VNEON static mask nonzero(reg a) { return vmvnq_u32(vceqq_f32(a, vdupq_n_f32(0))); }
  SHAPEGUARD_VNEON static mask less(reg a, reg b) { return vcltq_f32(a, b); }
  SHAPEGUARD_VNEON static mask greater(reg a, reg b) { return vcgtq_f32(a, b); }
  SHAPEGUARD_VNEON static float reduce_max(reg v) { return vmaxvq_f32(v); }
  // The low and high halves of v as doubles.
  SHAPEGUARD_VNEON static void widen(reg v, float64x2_t& lo, float64x2_t& hi) {
    lo = vcvt_f64_f32(vget_low_f32(v));
    hi = vcvt_high_f64_f32(v);
  }
  SHAPEGUARD_VNEON static reg narrow(float64x2_t lo, float64x2_t hi) {
    return vcvt_high_f32_f64(vcvt_f32_f64(lo), hi);
  }
  SHAPEGUARD_VNEON static double reduce_add(reg v) {
    return vaddvq_f64(vaddq_f64(vcvt_f64_f32(vget_low_f32(v)), vcvt_high_f64_f32(v)));
  }
  // p * 2^n, 0 in the lanes of `zero`
  SHAPEGUARD_VNEON static reg exp_scale(reg p, reg biased, reg /*n*/, mask zero) {
    const reg out =
        vmulq_f32(p, vreinterpretq_f32_s32(vshlq_n_s32(vreinterpretq_s32_f32(biased), 23)));
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(out), zero));
  }
  SHAPEGUARD_VNEON static reg div(reg a, reg b) { return vdivq_f32(a, b); }
  SHAPEGUARD_VNEON static mask equal(reg a, reg b) { return vceqq_f32(a, b); }
  /// The first lane set in m, or width when none is.
  SHAPEGUARD_VNEON static std::size_t first(mask m) {
    std::uint32_t b[width];
    vst1q_u32(b, m);
    for (std::size_t k = 0; k < width; ++k)
      if (b[k]) return k;
    return width;
  }
  // x = m * 2^k with m in [2/3, 4/3), for x a positive normal float; returns m, k as a float.
  SHAPEGUARD_VNEON static reg split_exponent(reg x, reg& k) {
    const int32x4_t i = vreinterpretq_s32_f32(x);
    const int32x4_t e = vshrq_n_s32(vsubq_s32(i, vdupq_n_s32(0x3f2aaaab)), 23);
    k = vcvtq_f32_s32(e);
    return vreinterpretq_f32_s32(vsubq_s32(i, vshlq_n_s32(e, 23)));
  }
};

struct neon_f64 {
  using value_type = double;
  using reg = float64x2_t;
  using mask = uint64x2_t;
  using exp_constants = exp_f64;
  static constexpr std::size_t width = 2;
  static constexpr bool exp_shifts = true;
  static constexpr double exp_highest = exp_f64::highest_shift;

  SHAPEGUARD_VNEON static reg zero() { return vdupq_n_f64(0.0); }
  SHAPEGUARD_VNEON static reg set1(double v) { return vdupq_n_f64(v); }
  SHAPEGUARD_VNEON static mask tail_mask(std::size_t n) {
    const std::uint64_t lanes[2] = {0, 1};
    return vcltq_u64(vld1q_u64(lanes), vdupq_n_u64(static_cast<std::uint64_t>(n)));
  }
  SHAPEGUARD_VNEON static mask lane_mask(std::size_t i) {
    const std::uint64_t lanes[2] = {0, 1};
    return vceqq_u64(vld1q_u64(lanes), vdupq_n_u64(static_cast<std::uint64_t>(i)));
  }

  SHAPEGUARD_VNEON static reg load(const double* p) { return vld1q_f64(p); }
  SHAPEGUARD_VNEON static reg load(const float* p) { return vcvt_f64_f32(vld1_f32(p)); }
  template <class S>
  SHAPEGUARD_VNEON static reg load_tail(const S* p, std::size_t n, double fill) {
    S buf[width] = {S(fill), S(fill)};
    std::memcpy(buf, p, n * sizeof(S));
    return load(buf);
  }
  SHAPEGUARD_VNEON static void store(double* p, reg v) { vst1q_f64(p, v); }
  SHAPEGUARD_VNEON static void store_tail(double* p, std::size_t n, reg v) {
    double buf[width];
    vst1q_f64(buf, v);
    std::memcpy(p, buf, n * sizeof(double));
  }

  SHAPEGUARD_VNEON static reg add(reg a, reg b) { return vaddq_f64(a, b); }
  SHAPEGUARD_VNEON static reg sub(reg a, reg b) { return vsubq_f64(a, b); }
  SHAPEGUARD_VNEON static reg mul(reg a, reg b) { return vmulq_f64(a, b); }
  SHAPEGUARD_VNEON static reg fmadd(reg a, reg b, reg c) { return vfmaq_f64(c, a, b); }
  SHAPEGUARD_VNEON static reg fnmadd(reg a, reg b, reg c) { return vfmsq_f64(c, a, b); }
  SHAPEGUARD_VNEON static reg max_ignore_nan(reg x, reg acc) { return vmaxnmq_f64(x, acc); }
  SHAPEGUARD_VNEON static reg clamp(reg x, double lo, double hi) {
    return vminq_f64(vmaxq_f64(x, vdupq_n_f64(lo)), vdupq_n_f64(hi));
  }
  SHAPEGUARD_VNEON static reg clamp_low(reg x, double lo) { return vmaxq_f64(x, vdupq_n_f64(lo)); }
  SHAPEGUARD_VNEON static reg select(mask m, reg a, reg b) { return vbslq_f64(m, a, b); }
  SHAPEGUARD_VNEON static mask nonzero(reg a) {
    return vreinterpretq_u64_u32(vmvnq_u32(vreinterpretq_u32_u64(vceqq_f64(a, vdupq_n_f64(0)))));
  }
  SHAPEGUARD_VNEON static mask less(reg a, reg b) { return vcltq_f64(a, b); }
  SHAPEGUARD_VNEON static mask greater(reg a, reg b) { return vcgtq_f64(a, b); }
  SHAPEGUARD_VNEON static double reduce_max(reg v) { return vmaxvq_f64(v); }
  SHAPEGUARD_VNEON static double reduce_add(reg v) { return vaddvq_f64(v); }
  SHAPEGUARD_VNEON static reg exp_scale(reg p, reg biased, reg /*n*/, mask zero) {
    const reg out =
        vmulq_f64(p, vreinterpretq_f64_s64(vshlq_n_s64(vreinterpretq_s64_f64(biased), 52)));
    return vreinterpretq_f64_u64(vbicq_u64(vreinterpretq_u64_f64(out), zero));
  }
  SHAPEGUARD_VNEON static reg div(reg a, reg b) { return vdivq_f64(a, b); }
  SHAPEGUARD_VNEON static mask equal(reg a, reg b) { return vceqq_f64(a, b); }
  SHAPEGUARD_VNEON static std::size_t first(mask m) {
    std::uint64_t b[width];
    vst1q_u64(b, m);
    for (std::size_t k = 0; k < width; ++k)
      if (b[k]) return k;
    return width;
  }
};

}  // namespace shapeguard::detail::simd

#undef SHAPEGUARD_VNEON

#endif  // SHAPEGUARD_SIMD_NEON
