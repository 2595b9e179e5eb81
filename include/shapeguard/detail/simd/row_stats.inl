// The row statistics phase, against the vector layer: a row's max, and the sums of
// row_stats.hpp (s, and with the target policy's coefficients the gap and a) over its classes,
// in blocks that stay in L1, rebased as the running max grows. The target terms per class
// (add_terms) are the coefficient policies of targets.hpp in vector lanes.
// Like kernel.inl, which includes it, this file has no include guard: it is compiled once per
// instruction set, inside that set's namespace (see kernel.inl for what is defined there).

/// The gap sum_c a_c (m - x_c) of a row is summed in double lanes (two per float register):
/// the difference of two floats, or a_c times it, can leave float's range where the loss does
/// not, as with the logits {3e38, -3e38}.
struct gap_lanes {
  vd::reg lo, hi;  // hi only for float
};

SHAPEGUARD_SIMD_IN auto gap_zero() -> gap_lanes {
  return {vd::zero(), vd::zero()};
}

/// g += a * (m - x) lane-wise, or m - x with Unit (a unused); m is the row max in double, its
/// halves m_lo and m_hi for float (the same register when every lane has the same max).
template <class V, bool Unit>
SHAPEGUARD_SIMD_IN void gap_add(gap_lanes& g, typename V::reg x, typename V::reg a, vd::reg m_lo,
                                [[maybe_unused]] vd::reg m_hi) {
  if constexpr (std::is_same_v<typename V::value_type, float>) {
    vd::reg x_lo, x_hi;
    V::widen(x, x_lo, x_hi);
    if constexpr (Unit) {
      g.lo = vd::add(g.lo, vd::sub(m_lo, x_lo));
      g.hi = vd::add(g.hi, vd::sub(m_hi, x_hi));
    } else {
      vd::reg a_lo, a_hi;
      V::widen(a, a_lo, a_hi);
      g.lo = vd::fmadd(a_lo, vd::sub(m_lo, x_lo), g.lo);
      g.hi = vd::fmadd(a_hi, vd::sub(m_hi, x_hi), g.hi);
    }
  } else {
    g.lo = Unit ? vd::add(g.lo, vd::sub(m_lo, x)) : vd::fmadd(a, vd::sub(m_lo, x), g.lo);
  }
}

template <class V>
SHAPEGUARD_SIMD_IN auto gap_reduce(const gap_lanes& g) -> double {
  if constexpr (std::is_same_v<typename V::value_type, float>)
    return vd::reduce_add(vd::add(g.lo, g.hi));
  else
    return vd::reduce_add(g.lo);
}

template <class V>
struct vec_sums {
  typename V::reg s, a;
  gap_lanes gap;
};

template <class V>
SHAPEGUARD_SIMD_IN auto sums_zero() -> vec_sums<V> {
  return {V::zero(), V::zero(), gap_zero()};
}

template <class P>
SHAPEGUARD_SIMD_IN auto offset(P* p, std::size_t c) -> P* {
  return p ? p + c : p;
}

// Adds the coefficient terms of `width` (or, for Tail, n) classes from c on, of logits x
// against the row max m (mv in T lanes, md in double): gap gets a_c * (m - x_c) where
// a_c != 0, and a the sum of a_c (of w_c for smoothed class indices). Lanes past a tail are
// zero in a and left out of gap. For dense targets a_c = w_c * (t_c * keep + spread); for
// smoothed class indices a_c = spread * w_c, scaled later.
template <class V, class U, simd::row_coeffs K, bool Weighted, bool Tail>
SHAPEGUARD_SIMD_IN void add_terms(vec_sums<V>& acc, typename V::reg x, typename V::reg mv,
                                  vd::reg md, const U* t, const float* w, std::size_t c,
                                  std::size_t n, typename V::reg keep, typename V::reg spread) {
  using T = typename V::value_type;
  using reg = typename V::reg;
  // a term whose a_c is 0 is skipped: its lane takes x = m, so that a -inf logit adds nothing
  if constexpr (K == simd::row_coeffs::index_smooth) {
    if constexpr (Weighted) {
      const reg wv = Tail ? V::load_tail(w + c, n, T(0)) : V::load(w + c);
      gap_add<V, false>(acc.gap, V::select(V::nonzero(wv), x, mv), wv, md, md);
      acc.a = V::add(acc.a, wv);
    } else {
      gap_add<V, true>(acc.gap, Tail ? V::select(V::tail_mask(n), x, mv) : x, x, md, md);
    }
  } else if constexpr (K == simd::row_coeffs::dense) {
    const reg tv = Tail ? V::load_tail(t + c, n, T(0)) : V::load(t + c);
    reg a = V::fmadd(tv, keep, spread);
    if constexpr (Weighted)
      a = V::mul(a, Tail ? V::load_tail(w + c, n, T(0)) : V::load(w + c));
    else if constexpr (Tail)
      a = V::select(V::tail_mask(n), a, V::zero());
    acc.a = V::add(acc.a, a);
    gap_add<V, false>(acc.gap, V::select(V::nonzero(a), x, mv), a, md, md);
  }
}

template <class V>
SHAPEGUARD_SIMD_IN void fold(simd::row_sums& out, const vec_sums<V>& acc,
                             simd::row_coeffs k) {
  out.s += V::reduce_add(acc.s);
  if (k != simd::row_coeffs::index) {
    out.gap += gap_reduce<V>(acc.gap);
    out.a += V::reduce_add(acc.a);
  }
}

/// max of x[0, n), NaN skipped; -inf when there is no number.
template <class V>
SHAPEGUARD_SIMD_FN auto row_max(const typename V::value_type* x, std::size_t n) ->
    typename V::value_type {
  using T = typename V::value_type;
  constexpr std::size_t W = V::width;
  const T lowest = -std::numeric_limits<T>::infinity();
  typename V::reg m0 = V::set1(lowest), m1 = m0;
  std::size_t c = 0;
  for (; c + 2 * W <= n; c += 2 * W) {
    m0 = V::max_ignore_nan(V::load(x + c), m0);
    m1 = V::max_ignore_nan(V::load(x + c + W), m1);
  }
  if (c + W <= n) {
    m0 = V::max_ignore_nan(V::load(x + c), m0);
    c += W;
  }
  if (c < n) m1 = V::max_ignore_nan(V::load_tail(x + c, n - c, lowest), m1);
  return V::reduce_max(V::max_ignore_nan(m0, m1));
}

/// Sums over x[0, n) against the reference m: s = sum exp(x - m) and the coefficient terms;
/// with Store, exp(x - m) is written to g (which may be x).
template <class V, class U, simd::row_coeffs K, bool Weighted, bool Store>
SHAPEGUARD_SIMD_FN auto exp_pass(const typename V::value_type* x, typename V::value_type* g,
                                 const U* t, const float* w, std::size_t n,
                                 typename V::value_type m, typename V::value_type keep,
                                 typename V::value_type spread,
                                 const typename V::value_type* next = nullptr)
    -> simd::row_sums {
  using T = typename V::value_type;
  using reg = typename V::reg;
  constexpr std::size_t W = V::width;
  const reg mv = V::set1(m), kv = V::set1(keep), sv = V::set1(spread);
  const vd::reg md = vd::set1(double(m));
  simd::row_sums out;
  std::size_t c = 0;
  for (;;) {
    vec_sums<V> acc = sums_zero<V>();
    const std::size_t end = n - c > simd::fold_elems ? c + simd::fold_elems : n;
    for (; c + W <= end; c += W) {
      if constexpr (Store)
        if (next) __builtin_prefetch(next + c, 0, 3);
      const reg xv = V::load(x + c);
      const reg e = vexp<V>(V::sub(xv, mv));
      if constexpr (Store) V::store(g + c, e);
      acc.s = V::add(acc.s, e);
      add_terms<V, U, K, Weighted, false>(acc, xv, mv, md, t, w, c, W, kv, sv);
    }
    const bool last = end == n;
    if (last && c < n) {
      // lanes past the end hold -inf - m: exp gives 0 there, add_terms masks them
      const reg xv = V::load_tail(x + c, n - c, -std::numeric_limits<T>::infinity());
      const reg e = vexp<V>(V::sub(xv, mv));
      if constexpr (Store) V::store_tail(g + c, n - c, e);
      acc.s = V::add(acc.s, e);
      add_terms<V, U, K, Weighted, true>(acc, xv, mv, md, t, w, c, n - c, kv, sv);
    }
    fold<V>(out, acc, K);
    if (last) return out;
  }
}

/// Moves a row's sums over classes [0, c) from the reference m to the larger m_new (rebased,
/// row_stats.hpp). Unweighted smoothing does not sum its coefficients (each is 1 before the
/// spread scales it): their sum is c.
template <simd::row_coeffs K, bool Weighted>
SHAPEGUARD_SIMD_IN void rebase(simd::row_sums& sums, std::size_t c, double m, double m_new) {
  if constexpr (K == simd::row_coeffs::index) {
    sums.s *= std::exp(m - m_new);  // no gap terms to move
  } else {
    const double a = K == simd::row_coeffs::index_smooth && !Weighted ? double(c) : sums.a;
    sums = rebased(sums, m, m_new, a);
  }
}

/// The sums of a row in blocks of block_elems, each read from memory once (its max, then exp
/// while it is in L1), the running sums rebased whenever a block raises the max m. m = -inf
/// means the row holds no number above -inf: its loss is NaN, as in the reference.
/// With Store, exp goes into g with the next block on its way, ref[b] receives the reference
/// block b's values are relative to (the running max after that block), so the gradient pass
/// scales block b by exp(ref[b] - m), and `ahead` (the next row's logits) is prefetched during
/// the last block. Without Store, g, ref and ahead are unused.
template <class V, class U, simd::row_coeffs K, bool Weighted, bool Store>
SHAPEGUARD_SIMD_IN auto block_sums(const typename V::value_type* x, typename V::value_type* g,
                                    const U* t, const float* w, std::size_t n,
                                    typename V::value_type keep, typename V::value_type spread,
                                    const typename V::value_type* ahead,
                                    typename V::value_type& m, typename V::value_type* ref)
    -> simd::row_sums {
  using T = typename V::value_type;
  constexpr std::size_t B = simd::block_bytes / sizeof(T);
  m = row_max<V>(x, n < B ? n : B);
  if (m == -std::numeric_limits<T>::infinity()) {
    // Nothing to rebase from: the whole row's max is every block's reference (rare).
    m = row_max<V>(x, n);
    if (m == -std::numeric_limits<T>::infinity()) return {};
  }
  simd::row_sums sums;
  for (std::size_t c = 0, b = 0; c < n; c += B, ++b) {
    const std::size_t len = n - c < B ? n - c : B;
    if (c != 0) {
      const T block_max = row_max<V>(x + c, len);
      if (block_max > m) {
        rebase<K, Weighted>(sums, c, double(m), double(block_max));
        m = block_max;
      }
    }
    if constexpr (Store) ref[b] = m;
    sums += exp_pass<V, U, K, Weighted, Store>(x + c, offset(g, c), offset(t, c), offset(w, c),
                                               len, m, keep, spread,
                                               c + B < n ? x + c + B : ahead);
  }
  return sums;
}

