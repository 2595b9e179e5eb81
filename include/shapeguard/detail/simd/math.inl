// The vector math of the kernels, written once against a vector layer: exp (float and double),
// for float log and log1p, and log1p over [0, 1] (float and double). Like kernel.inl, which includes it, this file has no include
// guard: it is compiled once per instruction set, inside that set's namespace, with
// SHAPEGUARD_SIMD_IN and SHAPEGUARD_SIMD_FN defined, for the vector layers vf and vd.

template <class T>
struct vec_for;
template <>
struct vec_for<float> {
  using type = vf;
};
template <>
struct vec_for<double> {
  using type = vd;
};
// 16-bit storage is computed in float lanes
template <>
struct vec_for<bfloat16> {
  using type = vf;
};
template <>
struct vec_for<float16> {
  using type = vf;
};

/// exp(x) lane-wise for x at most V::exp_highest, -inf or NaN: every exp the kernels take
/// (x - max, -|x|, -2|u|) is at most 0. See exp_constants.hpp. NaN stays NaN, x below
/// K::lowest gives 0.
template <class V>
SHAPEGUARD_SIMD_IN auto vexp(typename V::reg x) -> typename V::reg {
  using K = typename V::exp_constants;
  using reg = typename V::reg;
  using T = typename V::value_type;
  const reg xc = V::clamp_low(x, K::lowest);
  const reg bias = V::set1(K::round_bias);
  const reg biased = V::fmadd(xc, V::set1(K::log2e), bias);
  const reg n = V::sub(biased, bias);
  const reg r = V::fnmadd(n, V::set1(K::ln2_lo), V::fnmadd(n, V::set1(K::ln2_hi), xc));
  reg p;
  if constexpr (std::is_same_v<T, float>) {
    // 1 + r (1 + r s(r))
    reg s = V::fmadd(V::set1(K::c6), r, V::set1(K::c5));
    s = V::fmadd(s, r, V::set1(K::c4));
    s = V::fmadd(s, r, V::set1(K::c3));
    s = V::fmadd(s, r, V::set1(K::c2));
    p = V::fmadd(V::fmadd(s, r, V::set1(1.0f)), r, V::set1(1.0f));
  } else {
    p = V::fmadd(V::set1(K::c11), r, V::set1(K::c10));
    p = V::fmadd(p, r, V::set1(K::c9));
    p = V::fmadd(p, r, V::set1(K::c8));
    p = V::fmadd(p, r, V::set1(K::c7));
    p = V::fmadd(p, r, V::set1(K::c6));
    p = V::fmadd(p, r, V::set1(K::c5));
    p = V::fmadd(p, r, V::set1(K::c4));
    p = V::fmadd(p, r, V::set1(K::c3));
    p = V::fmadd(p, r, V::set1(K::c2));
    p = V::fmadd(p, r, V::set1(K::c1));
    p = V::fmadd(p, r, V::set1(K::c0));
  }
  return V::exp_scale(p, biased, n, V::less(x, V::set1(K::lowest)));
}

/// exp(x) lane-wise for every x: vexp of x limited to V::exp_highest, +inf above where the
/// layer's 2^n cannot saturate by itself.
template <class V>
SHAPEGUARD_SIMD_IN auto vexp_any(typename V::reg x) -> typename V::reg {
  using T = typename V::value_type;
  const typename V::reg out = vexp<V>(V::clamp(x, -std::numeric_limits<T>::infinity(),
                                               V::exp_highest));
  if constexpr (V::exp_shifts)
    return V::select(V::greater(x, V::set1(V::exp_highest)),
                     V::set1(std::numeric_limits<T>::infinity()), out);
  return out;
}

/// out[i] = exp(in[i]) with this set's vector exp (for tests): vexp_any, which is vexp for
/// every x the kernels give it.
template <class T>
SHAPEGUARD_SIMD_FN void exp_array(const T* in, T* out, std::size_t n) {
  using V = typename vec_for<T>::type;
  std::size_t i = 0;
  for (; i + V::width <= n; i += V::width) V::store(out + i, vexp_any<V>(V::load(in + i)));
  if (i < n) V::store_tail(out + i, n - i, vexp_any<V>(V::load_tail(in + i, n - i, T(0))));
}

/// in[0, n) into out through float lanes: between float and a 16-bit storage type, rounded to
/// nearest (ties to even) when out is the narrower.
template <class A, class B>
SHAPEGUARD_SIMD_FN void convert_array(const A* in, B* out, std::size_t n) {
  constexpr std::size_t W = vf::width;
  std::size_t i = 0;
  for (; i + W <= n; i += W) vf::store(out + i, vf::load(in + i));
  if (i < n) vf::store_tail(out + i, n - i, vf::load_tail(in + i, n - i, 0.0f));
}

/// The vector layer's 16-bit conversions over an array (for tests): in rounded to H into out
/// (V::store), then out read back into back (V::load); tails through store_tail and load_tail.
template <class H>
SHAPEGUARD_SIMD_FN void round16_array(const float* in, H* out, float* back, std::size_t n) {
  convert_array(in, out, n);
  convert_array(out, back, n);
}

/// log(x) lane-wise, for x a positive normal float or NaN (kept): x = m 2^k with m in
/// [2/3, 4/3), log(m) = log1p(f) = 2 atanh(f / (2 + f)) by its series to the 9th power
/// (truncation below 0.2 ULP), written as f - (f^2/2 - s (f^2/2 + R)) so that the large terms
/// are exact, and k ln 2 added with one rounding.
template <class V>
SHAPEGUARD_SIMD_IN auto vlog(typename V::reg x) -> typename V::reg {
  using reg = typename V::reg;
  using K = typename V::exp_constants;
  reg k;
  const reg m = V::split_exponent(x, k);
  const reg f = V::sub(m, V::set1(1.0f));
  const reg s = V::div(f, V::add(f, V::set1(2.0f)));
  const reg z = V::mul(s, s);
  reg r = V::fmadd(z, V::set1(2.0f / 9), V::set1(2.0f / 7));
  r = V::fmadd(r, z, V::set1(2.0f / 5));
  r = V::fmadd(r, z, V::set1(2.0f / 3));
  r = V::mul(r, z);
  const reg hfsq = V::mul(V::set1(0.5f), V::mul(f, f));
  const reg log1p = V::sub(f, V::fnmadd(s, V::add(hfsq, r), hfsq));
  const reg out =
      V::fmadd(k, V::set1(K::ln2_hi), V::fmadd(k, V::set1(K::ln2_lo), log1p));
  return V::select(V::nonzero(V::sub(x, x)), x, out);  // NaN stays NaN
}

/// log(1 + t) lane-wise for t >= 0 or NaN: log(u) for u = 1 + t rounded, plus the first-order
/// correction for what the rounding dropped (t - (u - 1), exact), divided by u.
template <class V>
SHAPEGUARD_SIMD_IN auto vlog1p(typename V::reg t) -> typename V::reg {
  using reg = typename V::reg;
  const reg one = V::set1(1.0f);
  const reg u = V::add(one, t);
  return V::add(vlog<V>(u), V::div(V::sub(t, V::sub(u, one)), u));
}

/// log(1 + t) lane-wise for t in [0, 1] (or NaN, kept), float or double, without integer
/// operations.
///   float: t + t^2 Q(t), Q of degree 9 fitted to (log1p(t) - t) / t^2 on [0, 1] (Chebyshev
///   nodes; within 1.3 ULP), no division.
///   double: u = 1 + t rounded lies in [1, 2], and m = u (or u / 2 above 4/3) in [2/3, 4/3]
///   with log(u) = log(m) + k ln 2, k = 0 or 1; f = m - 1 is exact. log(m) = log1p(f) =
///   2 atanh(f / (2 + f)) by its series to the 21st power (truncation below 0.2 ULP), written as
///   in vlog; the rounding of u is then corrected to first order, + (t - (u - 1)) / u, with
///   t - (u - 1) exact.
template <class V>
SHAPEGUARD_SIMD_IN auto vlog1p_unit(typename V::reg t) -> typename V::reg {
  using reg = typename V::reg;
  using T = typename V::value_type;
  if constexpr (std::is_same_v<T, float>) {
    reg q = V::set1(0x1.78af88p-9f);
    q = V::fmadd(q, t, V::set1(-0x1.1eebaap-6f));
    q = V::fmadd(q, t, V::set1(0x1.990946p-5f));
    q = V::fmadd(q, t, V::set1(-0x1.78f41p-4f));
    q = V::fmadd(q, t, V::set1(0x1.0bb368p-3f));
    q = V::fmadd(q, t, V::set1(-0x1.4f6e8ep-3f));
    q = V::fmadd(q, t, V::set1(0x1.98c482p-3f));
    q = V::fmadd(q, t, V::set1(-0x1.fff066p-3f));
    q = V::fmadd(q, t, V::set1(0x1.55551cp-2f));
    q = V::fmadd(q, t, V::set1(-0.5f));
    return V::fmadd(V::mul(t, t), q, t);
  } else {
    using K = typename V::exp_constants;
    const reg one = V::set1(T(1));
    const reg u = V::add(one, t);
    const auto halve = V::greater(u, V::set1(T(4) / T(3)));
    const reg m = V::select(halve, V::mul(u, V::set1(T(0.5))), u);
    const reg k = V::select(halve, one, V::zero());
    const reg f = V::sub(m, one);
    const reg s = V::div(f, V::add(f, V::set1(T(2))));
    const reg z = V::mul(s, s);
    // R = sum_j 2 z^j / (2j + 1), j = 1 .. 10, by Horner
    constexpr int terms = 10;
    reg r = V::set1(T(2) / T(2 * terms + 1));
    SHAPEGUARD_UNROLL(10)
    for (int j = terms - 1; j >= 1; --j) r = V::fmadd(r, z, V::set1(T(2) / T(2 * j + 1)));
    r = V::mul(r, z);
    const reg hfsq = V::mul(V::set1(T(0.5)), V::mul(f, f));
    const reg log_m = V::sub(f, V::fnmadd(s, V::add(hfsq, r), hfsq));
    const reg log_u = V::fmadd(k, V::set1(K::ln2_hi), V::fmadd(k, V::set1(K::ln2_lo), log_m));
    return V::add(log_u, V::div(V::sub(t, V::sub(u, one)), u));
  }
}

/// out[i] = log1p(in[i]) for in[i] in [0, 1] with this set's vlog1p_unit (for tests).
template <class T>
SHAPEGUARD_SIMD_FN void log1p_unit_array(const T* in, T* out, std::size_t n) {
  using V = typename vec_for<T>::type;
  std::size_t i = 0;
  for (; i + V::width <= n; i += V::width) V::store(out + i, vlog1p_unit<V>(V::load(in + i)));
  if (i < n) V::store_tail(out + i, n - i, vlog1p_unit<V>(V::load_tail(in + i, n - i, T(0))));
}

/// out[i] = log(in[i]) with this set's vector log (for tests).
template <class T>
SHAPEGUARD_SIMD_FN void log_array(const T* in, T* out, std::size_t n) {
  using V = typename vec_for<T>::type;
  std::size_t i = 0;
  for (; i + V::width <= n; i += V::width) V::store(out + i, vlog<V>(V::load(in + i)));
  if (i < n) V::store_tail(out + i, n - i, vlog<V>(V::load_tail(in + i, n - i, T(1))));
}

