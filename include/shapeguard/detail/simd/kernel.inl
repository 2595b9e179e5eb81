// The fused softmax cross-entropy kernel, written once against a vector layer. This file has
// no include guard on purpose: simd_kernels.hpp includes it once per instruction set, inside
// that set's namespace, after defining
//   SHAPEGUARD_SIMD_TARGET  the function attribute that enables the set (maybe empty)
//   vf, vd                  the set's vector layer for float and for double
//   SHAPEGUARD_SIMD_TILES   1 when vf has the operations of the tile kernel (a transpose,
//                           label loads, division, exponent split), else 0
// so that every function below is compiled for that set and inlines its intrinsics.
//
// Per row (formulas in rows.hpp), in blocks of block_elems that stay in L1:
//   gradient wanted, row of at most cached_row_bytes: per block, its max, then e = exp(x - m)
//   into grad with the sums (m the running max, the sums rebased when it grows), the next
//   block or row prefetched meanwhile; then one in-place pass scales each block of grad by its
//   own factor. Logits come from memory once, the gradient goes back once.
//   forward only, or a longer row: the same online sums without storing; the gradient, if
//   wanted, is then one pass recomputing exp from the logits.
// Float sums run in vector registers for at most fold_elems elements and are then added into
// double, so long rows keep float64-reference accuracy.

#define SHAPEGUARD_SIMD_FN SHAPEGUARD_SIMD_TARGET
#define SHAPEGUARD_SIMD_IN SHAPEGUARD_SIMD_INLINE SHAPEGUARD_SIMD_TARGET

#include "math.inl"

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

// The gradient of `width` (or n) classes from e = exp(x - m): e * r - scale * a_c, except the
// target class of an index row, which the caller fixes. keep and spread come pre-scaled.
template <class V, class U, simd::row_coeffs K, bool Weighted, bool Tail>
SHAPEGUARD_SIMD_IN auto grad_value(typename V::reg e, typename V::reg r, const U* t,
                                   const float* w, std::size_t c, std::size_t n,
                                   typename V::reg keep, typename V::reg spread) ->
    typename V::reg {
  using T = typename V::value_type;
  using reg = typename V::reg;
  reg g = V::mul(e, r);
  if constexpr (K == simd::row_coeffs::index_smooth) {
    if constexpr (Weighted)
      g = V::fnmadd(spread, Tail ? V::load_tail(w + c, n, T(0)) : V::load(w + c), g);
    else
      g = V::sub(g, spread);
  } else if constexpr (K == simd::row_coeffs::dense) {
    reg a = V::fmadd(Tail ? V::load_tail(t + c, n, T(0)) : V::load(t + c), keep, spread);
    if constexpr (Weighted) a = V::mul(a, Tail ? V::load_tail(w + c, n, T(0)) : V::load(w + c));
    g = V::sub(g, a);
  }
  return g;
}

/// Writes the gradient of x[0, n) from exp values already in g (Recompute: from x and m).
template <class V, class U, simd::row_coeffs K, bool Weighted, bool Recompute>
SHAPEGUARD_SIMD_FN void grad_pass(const typename V::value_type* x, typename V::value_type* g,
                                  const U* t, const float* w, std::size_t n,
                                  typename V::value_type m, typename V::value_type r,
                                  typename V::value_type keep, typename V::value_type spread) {
  using T = typename V::value_type;
  using reg = typename V::reg;
  constexpr std::size_t W = V::width;
  const reg mv = V::set1(m), rv = V::set1(r), kv = V::set1(keep), sv = V::set1(spread);
  std::size_t c = 0;
  for (; c + W <= n; c += W) {
    const reg e = Recompute ? vexp<V>(V::sub(V::load(x + c), mv)) : V::load(g + c);
    V::store(g + c, grad_value<V, U, K, Weighted, false>(e, rv, t, w, c, W, kv, sv));
  }
  if (c < n) {
    const reg e = Recompute ? vexp<V>(V::sub(
                                  V::load_tail(x + c, n - c, -std::numeric_limits<T>::infinity()), mv))
                            : V::load_tail(g + c, n - c, T(0));
    V::store_tail(g + c, n - c, grad_value<V, U, K, Weighted, true>(e, rv, t, w, c, n - c, kv, sv));
  }
}

template <class V>
SHAPEGUARD_SIMD_FN void fill_row(typename V::value_type* g, std::size_t n,
                                 typename V::value_type value) {
  const typename V::reg v = V::set1(value);
  std::size_t c = 0;
  for (; c + V::width <= n; c += V::width) V::store(g + c, v);
  if (c < n) V::store_tail(g + c, n - c, v);
}

/// Moves a row's sums over classes [0, c) from the reference m to the larger m_new.
template <simd::row_coeffs K, bool Weighted>
SHAPEGUARD_SIMD_IN void rebase(simd::row_sums& sums, std::size_t c, double m, double m_new) {
  sums.s *= std::exp(m - m_new);
  if constexpr (K != simd::row_coeffs::index) {
    // each gap term a_c * (m - x_c) grows by a_c * (m_new - m)
    const double weight = K == simd::row_coeffs::index_smooth && !Weighted ? double(c) : sums.a;
    sums.gap += weight * (m_new - m);
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
SHAPEGUARD_SIMD_FN auto block_sums(const typename V::value_type* x, typename V::value_type* g,
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

/// Rows that fit one register, `count` <= short_group of them (indices in `row`), interleaved
/// so that the long dependency chain of each row (max, exp, sums, division) overlaps the
/// others'. Missing members of a short group repeat the last row; their results are dropped.
template <class T, class U, simd::row_coeffs K, bool Weighted, bool Grad>
SHAPEGUARD_SIMD_FN void short_rows(const rows_problem<T, U>& p, const std::size_t* row,
                                   std::size_t count, simd::loss_batch<T>& out) {
  using V = typename vec_for<T>::type;
  using reg = typename V::reg;
  constexpr std::size_t G = simd::short_group;
  constexpr bool by_index = K != simd::row_coeffs::dense;
  constexpr T minus_inf = -std::numeric_limits<T>::infinity();
  const std::size_t C = p.classes;
  const index_coeffs coeffs = index_coeffs::of(p);
  const double keep = coeffs.keep, spread = coeffs.spread;
  const double scale = p.grad_scale;
  const float* w = Weighted ? p.weights : nullptr;
  const reg keep_v = V::set1(T(keep)), spread_v = V::set1(T(spread));
  const reg keep_g = V::set1(T(scale * keep)), spread_g = V::set1(T(scale * spread));

  std::size_t r[G], y[G] = {};
  double wy[G] = {};
  T xy[G] = {}, m[G];
  reg e[G];
  simd::row_sums sums[G];
  SHAPEGUARD_UNROLL(8)
  for (std::size_t k = 0; k < G; ++k) {
    r[k] = row[k < count ? k : count - 1];
    if constexpr (by_index) {
      y[k] = static_cast<std::size_t>(p.index[r[k]]);
      wy[k] = p.weights ? double(p.weights[y[k]]) : 1.0;
      xy[k] = p.logits[r[k] * C + y[k]];
    }
  }
  SHAPEGUARD_UNROLL(8)
  for (std::size_t k = 0; k < G; ++k) {
    const reg xv = V::load_tail(p.logits + r[k] * C, C, minus_inf);
    m[k] = V::reduce_max(V::max_ignore_nan(xv, V::set1(minus_inf)));
    const reg mv = V::set1(m[k]);
    e[k] = vexp<V>(V::sub(xv, mv));
    vec_sums<V> acc = sums_zero<V>();
    acc.s = e[k];
    const U* t = by_index ? nullptr : p.targets + r[k] * C;
    add_terms<V, U, K, Weighted, true>(acc, xv, mv, vd::set1(double(m[k])), t, w, 0, C, keep_v,
                                       spread_v);
    fold<V>(sums[k], acc, K);
  }
  SHAPEGUARD_UNROLL(8)
  for (std::size_t k = 0; k < G; ++k) {
    double A = sums[k].a, gap = sums[k].gap;
    if constexpr (by_index) {
      A = coeffs.total(wy[k]);
      gap = coeffs.gap(wy[k], double(m[k]), double(xy[k]), sums[k].gap);
    }
    const bool undefined = m[k] == minus_inf;  // every logit -inf or NaN: NaN as the reference
    if (k < count) {
      if (undefined)
        out.push(r[k], std::numeric_limits<double>::quiet_NaN(), 1.0, 0.0);
      else
        out.push(r[k], sums[k].s, A, gap);
    }
    if constexpr (Grad) {
      const T ratio = undefined ? std::numeric_limits<T>::quiet_NaN() : T(scale * A / sums[k].s);
      const U* t = by_index ? nullptr : p.targets + r[k] * C;
      reg gv = grad_value<V, U, K, Weighted, true>(e[k], V::set1(ratio), t, w, 0, C, keep_g,
                                                   spread_g);
      if constexpr (by_index)
        gv = V::select(V::lane_mask(y[k]), V::sub(gv, V::set1(T(scale * keep * wy[k]))), gv);
      V::store_tail(p.grad + r[k] * C, C, gv);
    }
  }
}

#if SHAPEGUARD_SIMD_TILES
/// Rows of at most R registers with class-index targets, `width` rows at a time with one row
/// per lane: a group is loaded row by row and transposed R registers at a time, so that
/// register c holds class c of every row; max, exp, sums, the log and the gradient are then
/// vertical operations (no horizontal reduction per row, one division and one log per group),
/// and the gradient is transposed back and stored row by row. Layers with SHAPEGUARD_SIMD_TILES.
/// Class weights and the gradient are run-time choices here, taken once per tile (a weight of
/// 1 without weights): a function per R and per smoothing (whose terms cost a share of the
/// tile's work) serves every class-index call, four tiles per set where there were twelve.
template <std::size_t R, bool Smooth>
SHAPEGUARD_SIMD_FN auto tile_rows(const rows_problem<float>& p) -> double {
  using V = vf;
  using reg = typename V::reg;
  constexpr std::size_t W = V::width;
  constexpr float minus_inf = -std::numeric_limits<float>::infinity();
  const std::size_t C = p.classes;
  const index_coeffs k = index_coeffs::of(p);
  const bool grad = p.grad != nullptr;
  const double scale = p.grad_scale;
  const reg keep_v = V::set1(float(k.keep)), keep_g = V::set1(float(scale * k.keep));
  const reg spread_all = V::set1(float(k.spread * k.weight_sum));
  const reg scale_v = V::set1(float(scale));
  // a_c's smoothing part spread * w_c: w_c for the gap, scale spread w_c for the gradient
  float smooth_w[R * W], smooth_g[R * W];
  for (std::size_t c = 0; c < R * W; ++c) {
    const double w = c < C && p.weights ? double(p.weights[c]) : 1.0;
    smooth_w[c] = float(w);
    smooth_g[c] = float(scale * k.spread * w);
  }

  const std::int64_t* const index = p.index;
  const std::int64_t ignore = p.ignore_index;
  const float* const weights = p.weights;
  const std::size_t rows = p.rows;
  double total = 0;
  for (std::size_t r0 = 0; r0 < rows; r0 += W) {
    const std::size_t n = rows - r0 < W ? rows - r0 : W;
    const float* x = p.logits + r0 * C;
    // T[h][j]: classes [h W, h W + W) of row j; after the transpose, T[h][k] is class h W + k
    reg T[R][W];
    SHAPEGUARD_UNROLL(2)
    for (std::size_t h = 0; h < R; ++h) {
      const std::size_t len = C - h * W < W ? C - h * W : W;
      SHAPEGUARD_UNROLL(16)
      for (std::size_t j = 0; j < W; ++j) {
        if (j < n)
          T[h][j] = len == W ? V::load(x + j * C + h * W)
                             : V::load_tail(x + j * C + h * W, len, minus_inf);
        else
          T[h][j] = V::set1(minus_inf);
      }
    }
    // class and target weight per lane; -1 and 0 for ignored rows and lanes past the end
    reg yv, wy;
    V::load_labels(index + r0, n, ignore, weights, yv, wy);
    SHAPEGUARD_UNROLL(2)
    for (std::size_t h = 0; h < R; ++h) V::transpose(T[h]);

    reg m = V::set1(minus_inf), xy = V::zero();
    SHAPEGUARD_UNROLL(32)
    for (std::size_t c = 0; c < R * W; ++c) {
      if (c < C) {
        reg& X_c = T[c / W][c % W];
        m = V::max_ignore_nan(X_c, m);
        xy = V::select(V::equal(yv, V::set1(float(c))), X_c, xy);
      }
    }
    // for smoothing, the gap sum_c w_c (m - x_c) in double lanes (see gap_lanes); a class of
    // weight 0 is left out, so that its -inf logit adds nothing
    vd::reg m_lo_hi[2];
    V::widen(m, m_lo_hi[0], m_lo_hi[1]);
    gap_lanes dsum = gap_zero();
    if (Smooth && weights) {
      SHAPEGUARD_UNROLL(32)
      for (std::size_t c = 0; c < R * W; ++c)
        if (c < C && smooth_w[c] != 0)
          gap_add<V, false>(dsum, T[c / W][c % W], V::set1(smooth_w[c]), m_lo_hi[0],
                            m_lo_hi[1]);
    } else if (Smooth) {
      SHAPEGUARD_UNROLL(32)
      for (std::size_t c = 0; c < R * W; ++c)
        if (c < C) gap_add<V, true>(dsum, T[c / W][c % W], m, m_lo_hi[0], m_lo_hi[1]);
    }
    // s = sum_c e_c; rest = the same over classes below the max
    reg s = V::zero(), rest = V::zero();
    SHAPEGUARD_UNROLL(32)
    for (std::size_t c = 0; c < R * W; ++c) {
      if (c < C) {
        reg& X_c = T[c / W][c % W];
        const reg d = V::sub(X_c, m);
        X_c = vexp<V>(d);
        s = V::add(s, X_c);
        rest = V::add(rest, V::select(V::less(d, V::zero()), X_c, V::zero()));
      }
    }
    // log(s) from s - 1 = (maxima - 1) + rest, exact where s is close to 1 (one class takes
    // nearly all the mass), where log(s) rounded from s would lose its relative precision
    const reg magic = V::set1(0x1.8p23f);  // rounds to an integer: s - rest counts the maxima
    const reg maxima = V::sub(V::add(V::sub(s, rest), magic), magic);
    const reg log_s = vlog1p<V>(V::add(V::sub(maxima, V::set1(1.0f)), rest));
    // loss = A log(s) + gap with index_coeffs' algebra in lanes: A = keep w_y + spread sum_c
    // w_c, gap = keep w_y (m - x_y) (skipped when keep w_y is 0) + spread * dsum, in double
    // lanes; rows past the end and ignored rows give 0
    const reg hit = V::mul(keep_v, wy);
    const reg A = Smooth ? V::add(hit, spread_all) : hit;
    const auto dead = V::less(yv, V::zero());
    const reg live = V::select(dead, V::zero(), V::set1(1.0f));
    const reg y_or_m = V::select(V::nonzero(hit), xy, m);
    vd::reg hit_d[2], ym_d[2], A_d[2], log_s_d[2], live_d[2], loss_d[2];
    V::widen(hit, hit_d[0], hit_d[1]);
    V::widen(y_or_m, ym_d[0], ym_d[1]);
    V::widen(A, A_d[0], A_d[1]);
    V::widen(log_s, log_s_d[0], log_s_d[1]);
    V::widen(live, live_d[0], live_d[1]);
    SHAPEGUARD_UNROLL(2)
    for (int h = 0; h < 2; ++h) {
      vd::reg gap = vd::mul(hit_d[h], vd::sub(m_lo_hi[h], ym_d[h]));
      if constexpr (Smooth) gap = vd::fmadd(vd::set1(k.spread), h ? dsum.hi : dsum.lo, gap);
      const vd::reg loss = vd::fmadd(A_d[h], log_s_d[h], gap);
      loss_d[h] = vd::select(vd::nonzero(live_d[h]), loss, vd::zero());
    }
    total += vd::reduce_add(vd::add(loss_d[0], loss_d[1]));
    if (p.losses) {
      const reg loss = V::narrow(loss_d[0], loss_d[1]);
      if (n == W)
        V::store(p.losses + r0, loss);
      else
        V::store_tail(p.losses + r0, n, loss);
    }

    if (grad) {
      // grad_c = e_c * scale A / s - scale spread w_c - [c == y] scale keep w_y
      const reg ratio = V::div(V::mul(scale_v, A), s);
      const reg hit_g = V::mul(keep_g, wy);
      SHAPEGUARD_UNROLL(32)
      for (std::size_t c = 0; c < R * W; ++c) {
        if (c < C) {
          reg& X_c = T[c / W][c % W];
          reg g = V::mul(X_c, ratio);
          if constexpr (Smooth) g = V::sub(g, V::set1(smooth_g[c]));
          X_c = V::select(V::equal(yv, V::set1(float(c))), V::sub(g, hit_g), g);
        }
      }
      float* out = p.grad + r0 * C;
      SHAPEGUARD_UNROLL(2)
      for (std::size_t h = 0; h < R; ++h) {
        V::transpose(T[h]);
        const std::size_t len = C - h * W < W ? C - h * W : W;
        SHAPEGUARD_UNROLL(16)
        for (std::size_t j = 0; j < W; ++j) {
          if (j < n) {
            const reg g = index[r0 + j] == ignore ? V::zero() : T[h][j];
            if (len == W)
              V::store(out + j * C + h * W, g);
            else
              V::store_tail(out + j * C + h * W, len, g);
          }
        }
      }
    }
  }
  return total;
}
#endif  // SHAPEGUARD_SIMD_TILES

/// Rows of at most one register, simd::short_group at a time (short_rows), ignored rows apart.
template <class T, class U, simd::row_coeffs K, bool Weighted, bool Grad>
SHAPEGUARD_SIMD_FN void short_row_groups(const rows_problem<T, U>& p, simd::loss_batch<T>& out) {
  using V = typename vec_for<T>::type;
  constexpr bool by_index = K != simd::row_coeffs::dense;
  const std::size_t C = p.classes;
  // rows of one register: short_rows interleaves simd::short_group of them
  std::size_t group[simd::short_group];
  std::size_t count = 0;
  for (std::size_t i = 0; i < p.rows; ++i) {
    if constexpr (by_index) {
      if (p.index[i] == p.ignore_index) {
        if constexpr (Grad) fill_row<V>(p.grad + i * C, C, T(0));
        if (p.losses) p.losses[i] = T(0);
        continue;
      }
    }
    group[count++] = i;
    if (count == simd::short_group) {
      short_rows<T, U, K, Weighted, Grad>(p, group, count, out);
      count = 0;
    }
  }
  if (count != 0) short_rows<T, U, K, Weighted, Grad>(p, group, count, out);
}

/// Rows of more than one register, one at a time: block_sums, then the gradient pass over the
/// blocks (block_sums' references), or recomputed from the logits for rows beyond
/// cached_row_bytes.
template <class T, class U, simd::row_coeffs K, bool Weighted, bool Grad>
SHAPEGUARD_SIMD_FN void long_rows(const rows_problem<T, U>& p, simd::loss_batch<T>& out) {
  using V = typename vec_for<T>::type;
  constexpr bool by_index = K != simd::row_coeffs::dense;
  constexpr T nan = std::numeric_limits<T>::quiet_NaN();
  constexpr T minus_inf = -std::numeric_limits<T>::infinity();
  const std::size_t C = p.classes;
  const index_coeffs coeffs = index_coeffs::of(p);
  const double keep = coeffs.keep, spread = coeffs.spread;
  const double scale = p.grad_scale;
  const float* w = Weighted ? p.weights : nullptr;
  // loop constants: exp_pass wants a_c's factors, grad_value the same times scale
  const T keep_t = T(keep), spread_t = T(spread);
  const T keep_g = T(scale * keep), spread_g = T(scale * spread);
  const bool fits = C * sizeof(T) <= simd::cached_row_bytes;
  T ref[simd::cached_row_bytes / simd::block_bytes];

  for (std::size_t i = 0; i < p.rows; ++i) {
    const T* x = p.logits + i * C;
    T* g = Grad ? p.grad + i * C : nullptr;
    const U* t = by_index ? nullptr : p.targets + i * C;
    std::size_t y = 0;
    double wy = 0;
    T xy = 0;
    if constexpr (by_index) {
      if (p.index[i] == p.ignore_index) {
        if constexpr (Grad) fill_row<V>(g, C, T(0));
        if (p.losses) p.losses[i] = T(0);
        continue;
      }
      y = static_cast<std::size_t>(p.index[i]);
      wy = p.weights ? double(p.weights[y]) : 1.0;
      xy = x[y];  // read before the gradient may overwrite it (in place)
    }

    T m;
    simd::row_sums sums;
    if (Grad && fits) {
      sums = block_sums<V, U, K, Weighted, true>(x, g, t, w, C, keep_t, spread_t,
                                                 i + 1 < p.rows ? x + C : nullptr, m, ref);
    } else {
      sums = block_sums<V, U, K, Weighted, false>(x, nullptr, t, w, C, keep_t, spread_t, nullptr,
                                                  m, nullptr);
    }

    if (m == minus_inf) {  // every logit -inf or NaN: NaN like the reference
      if constexpr (Grad) fill_row<V>(g, C, nan);
      out.push(i, double(nan), 1.0, 0.0);
      continue;
    }

    // A = sum a_c and the gap sum_{a_c != 0} a_c (m - x_c)
    double A = sums.a, gap = sums.gap, a_y = 0;
    if constexpr (by_index) {
      A = coeffs.total(wy);
      gap = coeffs.gap(wy, double(m), double(xy), sums.gap);
      a_y = coeffs.target(wy);
    }
    out.push(i, sums.s, A, gap);

    if constexpr (Grad) {
      const double ratio = scale * A / sums.s;
      const T r = T(ratio);
      if (fits) {
        constexpr std::size_t B = simd::block_bytes / sizeof(T);
        for (std::size_t c = 0, b = 0; c < C; c += B, ++b) {
          const T r_b = ref[b] == m ? r : T(ratio * std::exp(double(ref[b]) - double(m)));
          grad_pass<V, U, K, Weighted, false>(x + c, g + c, offset(t, c), offset(w, c),
                                              C - c < B ? C - c : B, m, r_b, keep_g, spread_g);
        }
        if constexpr (by_index)
          g[y] = T(ratio * std::exp(double(xy) - double(m)) - scale * a_y);
      } else {
        grad_pass<V, U, K, Weighted, true>(x, g, t, w, C, m, r, keep_g, spread_g);
        if constexpr (by_index)
          g[y] = T(ratio * std::exp(double(xy) - double(m)) - scale * a_y);
      }
    }
  }
}

template <class T, class U, simd::row_coeffs K, bool Weighted, bool Grad>
SHAPEGUARD_SIMD_FN auto solve_rows(const rows_problem<T, U>& p) -> double {
  using V = typename vec_for<T>::type;
  simd::loss_batch<T> out(p.losses);
  // float class-index rows of one register go to the tiles (index_rows): no short_rows for them
  constexpr bool tiled = SHAPEGUARD_SIMD_TILES && std::is_same_v<T, float> &&
                         K != simd::row_coeffs::dense;
  if constexpr (!tiled) {
    if (p.classes <= V::width) {
      short_row_groups<T, U, K, Weighted, Grad>(p, out);
      return out.finish();
    }
  }
  long_rows<T, U, K, Weighted, Grad>(p, out);
  return out.finish();
}

/// Calls that T lanes cannot solve without overflow or underflow, which the scalar reference
/// (in double) solves instead.
template <class T, class U>
SHAPEGUARD_SIMD_IN auto needs_reference(const rows_problem<T, U>& p) -> bool {
  if (p.classes == 0) return true;
  // A smoothing whose share eps / C is below T's normal range rounds to 0 (or to a few bits) in
  // T lanes, where 0 times a term that overflowed gives NaN.
  if (p.smoothing > 0 && p.smoothing / double(p.classes) < double(std::numeric_limits<T>::min()))
    return true;
  if constexpr (std::is_same_v<T, float>) {
    // Float lanes sum class weights (up to weight_sum) and hold gradient constants of up to
    // grad_scale * max(1, weight_sum) (scale * A / s, scale * (1 - eps), scale * eps / C).
    // Class weights summing near float's largest value, or a mean over target weights below
    // its normal range, would overflow them.
    constexpr double limit = double(std::numeric_limits<float>::max()) / 4;
    if (p.weights && (p.weight_sum > limit ||
                      (p.grad && p.grad_scale * (p.weight_sum > 1 ? p.weight_sum : 1.0) > limit)))
      return true;
  }
  return false;
}

/// The fused kernel for class-index rows (p.index set) on this instruction set. The target
/// type plays no part: one instance per logit type serves every label type.
template <class T>
SHAPEGUARD_SIMD_FN auto index_rows(const rows_problem<T>& p) -> double {
  using simd::row_coeffs;
  if (needs_reference(p)) return scalar_rows(p);
  const bool grad = p.grad != nullptr, weighted = p.weights != nullptr;
#if SHAPEGUARD_SIMD_TILES
  if constexpr (std::is_same_v<T, float>) {
    const bool smooth = p.smoothing != 0;
    if (p.classes <= vf::width) return smooth ? tile_rows<1, true>(p) : tile_rows<1, false>(p);
    if (p.classes <= 2 * vf::width)
      return smooth ? tile_rows<2, true>(p) : tile_rows<2, false>(p);
  }
#endif
  if (p.smoothing == 0)
    return grad ? solve_rows<T, T, row_coeffs::index, false, true>(p)
                : solve_rows<T, T, row_coeffs::index, false, false>(p);
  if (weighted)
    return grad ? solve_rows<T, T, row_coeffs::index_smooth, true, true>(p)
                : solve_rows<T, T, row_coeffs::index_smooth, true, false>(p);
  return grad ? solve_rows<T, T, row_coeffs::index_smooth, false, true>(p)
              : solve_rows<T, T, row_coeffs::index_smooth, false, false>(p);
}

/// The fused kernel for rows of per-class targets of type U (p.targets set).
template <class T, class U>
SHAPEGUARD_SIMD_FN auto dense_rows(const rows_problem<T, U>& p) -> double {
  using simd::row_coeffs;
  if (needs_reference(p)) return scalar_rows(p);
  const bool grad = p.grad != nullptr;
  if (p.weights)
    return grad ? solve_rows<T, U, row_coeffs::dense, true, true>(p)
                : solve_rows<T, U, row_coeffs::dense, true, false>(p);
  return grad ? solve_rows<T, U, row_coeffs::dense, false, true>(p)
              : solve_rows<T, U, row_coeffs::dense, false, false>(p);
}

#undef SHAPEGUARD_SIMD_FN
#undef SHAPEGUARD_SIMD_IN
