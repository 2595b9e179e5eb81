#pragma once
// Constants of the vectorized exp shared by every vector layer.
//
// exp(x) = 2^n * exp(r) with n = round(x / ln 2) and r = x - n ln 2 in [-ln 2 / 2, ln 2 / 2].
// r is formed with ln 2 split in two (Cody-Waite): with an FMA the product n * ln2_hi is exact
// and x - n * ln2_hi is exact too (both are multiples of the same power of two and the
// difference is small), so only the n * ln2_lo step rounds.
//
// float: exp(r) = 1 + r (1 + r s(r)), s of degree 4 fitted to (exp(r) - 1 - r) / r^2 on
// [-ln 2 / 2, ln 2 / 2] (Chebyshev fit: 6.5e-8 there, 7.8e-9 relative to exp), by Horner's
// rule: six FMAs, and the constant terms 1 exact, so that exp(0) is exactly 1. Measured over
// every float in [-87.3, 0]: see the tests.
// double: a degree-11 Remez fit for relative error (3.1e-18), evaluated by Horner's rule.

namespace shapeguard::detail::simd {

struct exp_f32 {
  static constexpr float log2e = 0x1.715476p+0f;
  static constexpr float ln2_hi = 0x1.62e430p-1f;
  static constexpr float ln2_lo = -0x1.05c610p-29f;
  // Adding this rounds x * log2e to an integer n held in the low mantissa bits, biased by the
  // exponent bias, so shifting the sum's bits left by 23 gives the bits of 2^n.
  static constexpr float round_bias = 0x1.8p23f + 127.0f;
  // The float just above ln(FLT_MIN): inputs below it are flushed to 0 and inputs clamped to it
  // still give a normal result. A subnormal result would cost a microcode assist per vector
  // (~100 cycles on Intel cores), and the masked-off lanes of every row tail (-inf) land here.
  static constexpr float lowest = -0x1.5d589ep+6f;  // -87.33654
  // Above this, n would reach 128 and the exponent shift would overflow: such inputs give +inf
  // on the layers that shift (exp(88.376) is already 2.4e38). The fused kernel only evaluates
  // x <= 0.
  static constexpr float highest_shift = 88.376f;
  // AVX-512's scalef saturates to +inf by itself; clamping keeps the reduction finite.
  static constexpr float highest_scalef = 89.0f;
  static constexpr float c2 = 0x1.000000p-1f;
  static constexpr float c3 = 0x1.5554dep-3f;
  static constexpr float c4 = 0x1.55551ap-5f;
  static constexpr float c5 = 0x1.120b62p-7f;
  static constexpr float c6 = 0x1.6d10fcp-10f;
};

struct exp_f64 {
  static constexpr double log2e = 0x1.71547652b82fep+0;
  static constexpr double ln2_hi = 0x1.62e42fefa39efp-1;
  static constexpr double ln2_lo = 0x1.abc9e3b39803fp-56;
  static constexpr double round_bias = 0x1.8p52 + 1023.0;
  static constexpr double lowest = -0x1.6232bdd7abcd2p+9;  // just above ln(DBL_MIN) = -708.396
  static constexpr double highest_shift = 709.43;
  static constexpr double highest_scalef = 710.0;
  static constexpr double c0 = 0x1.0000000000000p+0;
  static constexpr double c1 = 0x1.0000000000000p+0;
  static constexpr double c2 = 0x1.0000000000010p-1;
  static constexpr double c3 = 0x1.55555555554a2p-3;
  static constexpr double c4 = 0x1.555555554f370p-5;
  static constexpr double c5 = 0x1.1111111130dd0p-7;
  static constexpr double c6 = 0x1.6c16c187810c2p-10;
  static constexpr double c7 = 0x1.a01a011059272p-13;
  static constexpr double c8 = 0x1.a01992d10c9e6p-16;
  static constexpr double c9 = 0x1.71df451c45e1ap-19;
  static constexpr double c10 = 0x1.28b311bbb39f6p-22;
  static constexpr double c11 = 0x1.ad66238d9d610p-26;
};

}  // namespace shapeguard::detail::simd
