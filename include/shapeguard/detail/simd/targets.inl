// The target policies in vector lanes: how a row's coefficients a_c (rows.hpp, targets.hpp)
// enter the statistics phase and the finish. One struct per kind of target; the row kernels
// take one as their parameter P and ask it, instead of branching on flags:
//   P::target           the per-class target type (the logit type for class indices, unused)
//   P::by_index         rows carry a class index: the target class's own terms come from
//                       index_coeffs once per row, not from the passes over the classes
//   P::weighted         the passes read class weights
//   P::sums_terms       the passes sum the gap and a (otherwise s alone)
//   P::terms<V, Tail, Wide>  adds a register's gap a_c (m - x_c) (in double lanes, or with
//                       Wide false in the lanes' own type) and a_c (Tail: its first n lanes)
//   P::grad<V, Tail>    e r minus the register's a_c, pre-scaled (the target class of an index
//                       row is fixed by the caller)
//   P::rebase           moves a row's sums over its first c classes to a larger max
// A term whose a_c is 0 is left out of the gap: its lane takes x = m, so that a -inf logit of
// coefficient 0 adds nothing. Lanes past a tail are 0 in a and left out of the gap.
// Like kernel.inl, which includes it, this file has no include guard: it is compiled once per
// instruction set, inside that set's namespace (see kernel.inl for what is defined there).

// The lanes the terms go into.
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

/// A register's sums: s, a, and the gap either in double lanes (gap) or, where the statistics
/// pass can redo a fold in double when a term overflows (exp_pass), in the lanes' own type
/// (gap_v): every term is >= 0, so a float sum of at most fold_elems / width of them per lane
/// is within 4e-6 relative, as s is, and it is finite exactly when no term overflowed.
template <class V>
struct vec_sums {
  typename V::reg s, a, gap_v;
  gap_lanes gap;
};

template <class V>
SHAPEGUARD_SIMD_IN auto sums_zero() -> vec_sums<V> {
  return {V::zero(), V::zero(), V::zero(), gap_zero()};
}

/// acc's gap += a * (m - x) lane-wise, or m - x with Unit (a unused): in double lanes (Wide), or
/// in the lanes' own type (gap_v).
template <class V, bool Unit, bool Wide>
SHAPEGUARD_SIMD_IN void add_gap(vec_sums<V>& acc, typename V::reg x, typename V::reg a,
                                typename V::reg mv, vd::reg md) {
  if constexpr (Wide)
    gap_add<V, Unit>(acc.gap, x, a, md, md);
  else if constexpr (Unit)
    acc.gap_v = V::add(acc.gap_v, V::sub(mv, x));
  else
    acc.gap_v = V::fmadd(a, V::sub(mv, x), acc.gap_v);
}

/// Class index without smoothing: a_c is nonzero at the target only, so the passes sum s alone.
template <class T>
struct index_target {
  using target = T;
  static constexpr bool by_index = true, weighted = false, sums_terms = false;

  template <class V, bool Tail, bool Wide = true>
  SHAPEGUARD_SIMD_IN static void terms(vec_sums<V>&, typename V::reg, typename V::reg, vd::reg,
                                       const target*, const float*, std::size_t, std::size_t,
                                       typename V::reg, typename V::reg) {}
  template <class V, bool Tail>
  SHAPEGUARD_SIMD_IN static auto grad(typename V::reg e, typename V::reg r, const target*,
                                      const float*, std::size_t, std::size_t, typename V::reg,
                                      typename V::reg) -> typename V::reg {
    return V::mul(e, r);
  }
  static void rebase(simd::row_sums& sums, std::size_t, double m, double m_new) {
    sums.s *= std::exp(m - m_new);  // no gap terms to move
  }
};

/// Class index with smoothing: a_c = spread w_c on every class besides the target's share. The
/// passes sum w_c (m - x_c) and w_c; spread scales them later (index_coeffs). Unweighted, every
/// w_c is 1 and a is not summed: over c classes it is c.
template <class T, bool Weighted>
struct smoothed_target {
  using target = T;
  static constexpr bool by_index = true, weighted = Weighted, sums_terms = true;

  template <class V, bool Tail, bool Wide = true>
  SHAPEGUARD_SIMD_IN static void terms(vec_sums<V>& acc, typename V::reg x, typename V::reg mv,
                                       vd::reg md, const target*, const float* w, std::size_t c,
                                       std::size_t n, typename V::reg, typename V::reg) {
    if constexpr (Weighted) {
      const typename V::reg wv = Tail ? V::load_tail(w + c, n, T(0)) : V::load(w + c);
      add_gap<V, false, Wide>(acc, V::select(V::nonzero(wv), x, mv), wv, mv, md);
      acc.a = V::add(acc.a, wv);
    } else {
      add_gap<V, true, Wide>(acc, Tail ? V::select(V::tail_mask(n), x, mv) : x, x, mv, md);
    }
  }
  template <class V, bool Tail>
  SHAPEGUARD_SIMD_IN static auto grad(typename V::reg e, typename V::reg r, const target*,
                                      const float* w, std::size_t c, std::size_t n,
                                      typename V::reg, typename V::reg spread) ->
      typename V::reg {
    const typename V::reg g = V::mul(e, r);
    if constexpr (Weighted)
      return V::fnmadd(spread, Tail ? V::load_tail(w + c, n, T(0)) : V::load(w + c), g);
    else
      return V::sub(g, spread);
  }
  static void rebase(simd::row_sums& sums, std::size_t c, double m, double m_new) {
    sums = rebased(sums, m, m_new, Weighted ? sums.a : double(c));
  }
};

/// Per-class targets u_c of type U: a_c = w_c (keep u_c + spread), summed as the passes go.
template <class T, class U, bool Weighted>
struct dense_target {
  using target = U;
  static constexpr bool by_index = false, weighted = Weighted, sums_terms = true;

  template <class V, bool Tail>
  SHAPEGUARD_SIMD_IN static auto coeff(const U* t, const float* w, std::size_t c, std::size_t n,
                                       typename V::reg keep, typename V::reg spread) ->
      typename V::reg {
    typename V::reg a =
        V::fmadd(Tail ? V::load_tail(t + c, n, T(0)) : V::load(t + c), keep, spread);
    if constexpr (Weighted)
      a = V::mul(a, Tail ? V::load_tail(w + c, n, T(0)) : V::load(w + c));
    else if constexpr (Tail)
      a = V::select(V::tail_mask(n), a, V::zero());
    return a;
  }
  template <class V, bool Tail, bool Wide = true>
  SHAPEGUARD_SIMD_IN static void terms(vec_sums<V>& acc, typename V::reg x, typename V::reg mv,
                                       vd::reg md, const U* t, const float* w, std::size_t c,
                                       std::size_t n, typename V::reg keep,
                                       typename V::reg spread) {
    const typename V::reg a = coeff<V, Tail>(t, w, c, n, keep, spread);
    acc.a = V::add(acc.a, a);
    add_gap<V, false, Wide>(acc, V::select(V::nonzero(a), x, mv), a, mv, md);
  }
  template <class V, bool Tail>
  SHAPEGUARD_SIMD_IN static auto grad(typename V::reg e, typename V::reg r, const U* t,
                                      const float* w, std::size_t c, std::size_t n,
                                      typename V::reg keep, typename V::reg spread) ->
      typename V::reg {
    return V::sub(V::mul(e, r), coeff<V, Tail>(t, w, c, n, keep, spread));
  }
  static void rebase(simd::row_sums& sums, std::size_t, double m, double m_new) {
    sums = rebased(sums, m, m_new, sums.a);
  }
};
