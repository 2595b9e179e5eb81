// The row statistics phase, against the vector layer: a row's max, and the sums of
// row_stats.hpp (s, and with the target policy's coefficients the gap and a) over its classes,
// in blocks that stay in L1, rebased as the running max grows. The target terms per class come
// from the target policy (targets.inl).
// Like kernel.inl, which includes it, this file has no include guard: it is compiled once per
// instruction set, inside that set's namespace (see kernel.inl for what is defined there).

template <class P>
SHAPEGUARD_SIMD_IN auto offset(P* p, std::size_t c) -> P* {
  return p ? p + c : p;
}

template <class V, class P>
SHAPEGUARD_SIMD_IN void fold(simd::row_sums& out, const vec_sums<V>& acc) {
  out.s += V::reduce_add(acc.s);
  if constexpr (P::sums_terms) {
    out.gap += gap_reduce<V>(acc.gap) + V::reduce_add(acc.gap_v);
    out.a += V::reduce_add(acc.a);
  }
}

/// max of x[0, n), NaN skipped; -inf when there is no number. (S is the storage type: V's own,
/// or a 16-bit one read into V's lanes; here and below.)
template <class V, class S>
SHAPEGUARD_SIMD_FN auto row_max(const S* x, std::size_t n) -> typename V::value_type {
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

/// The first c in [0, n) with x[c] == v, or n.
template <class V, class S>
SHAPEGUARD_SIMD_FN auto first_equal(const S* x, std::size_t n, typename V::value_type v)
    -> std::size_t {
  constexpr std::size_t W = V::width;
  const typename V::reg vv = V::set1(v);
  std::size_t c = 0;
  for (; c + W <= n; c += W) {
    const std::size_t k = V::first(V::equal(V::load(x + c), vv));
    if (k != W) return c + k;
  }
  for (; c < n; ++c)
    if (typename V::value_type(x[c]) == v) return c;
  return n;
}

/// Sums over x[0, n) against the reference m: s = sum exp(x - m) and the target policy P's
/// terms; with Store, exp(x - m) is written to g, in the lanes' type (the gradient buffer, which
/// may be x, or a scratch row for 16-bit storage). The gap is summed in the lanes' type and a
/// fold whose sum is not finite summed again from its logits in double lanes; with InPlace (g is
/// x, so the logits are gone once stored), each fold's logits are kept in a 4 KiB buffer for that,
/// so that a call in place gives the bits of the same call out of place.
template <class V, class P, bool Store, class S, bool InPlace = false>
SHAPEGUARD_SIMD_IN auto exp_pass(const S* x, typename V::value_type* g,
                                 const typename P::target* t, const float* w, std::size_t n,
                                 typename V::value_type m, typename V::value_type keep,
                                 typename V::value_type spread,
                                 const std::type_identity_t<S>* next = nullptr)
    -> simd::row_sums {
  using T = typename V::value_type;
  using reg = typename V::reg;
  constexpr std::size_t W = V::width;
  const reg mv = V::set1(m), kv = V::set1(keep), sv = V::set1(spread);
  const vd::reg md = vd::set1(double(m));
  simd::row_sums out;
  static_assert(!InPlace || (Store && std::is_same_v<S, T>));
  // the fold's logits, for the redo below (x itself where it is not overwritten)
  alignas(64) T saved[InPlace ? simd::fold_elems : 1];
  std::size_t c = 0;
  for (;;) {
    vec_sums<V> acc = sums_zero<V>();
    const std::size_t start = c;
    const std::size_t end = n - c > simd::fold_elems ? c + simd::fold_elems : n;
    for (; c + W <= end; c += W) {
      if (next) __builtin_prefetch(next + c, 0, 3);
      const reg xv = V::load(x + c);
      const reg e = vexp<V>(V::sub(xv, mv));
      if constexpr (InPlace) V::store(saved + (c - start), xv);
      if constexpr (Store) V::store(g + c, e);
      acc.s = V::add(acc.s, e);
      P::template terms<V, false, false>(acc, xv, mv, md, t, w, c, W, kv, sv);
    }
    const bool last = end == n;
    if (last && c < n) {
      // lanes past the end hold -inf - m: exp gives 0 there, add_terms masks them
      const reg xv = V::load_tail(x + c, n - c, -std::numeric_limits<T>::infinity());
      const reg e = vexp<V>(V::sub(xv, mv));
      if constexpr (InPlace) V::store(saved + (c - start), xv);
      if constexpr (Store) V::store_tail(g + c, n - c, e);
      acc.s = V::add(acc.s, e);
      P::template terms<V, true, false>(acc, xv, mv, md, t, w, c, n - c, kv, sv);
    }
    if constexpr (P::sums_terms) {
      // a gap term overflowed the lanes' type (logits further apart than float's range), or
      // is NaN or infinite itself: this fold's gap again, in double lanes
      if (!std::isfinite(V::reduce_add(acc.gap_v))) {
        const auto logits = [&](std::size_t k) {
          if constexpr (InPlace)
            return saved + (k - start);
          else
            return x + k;
        };
        vec_sums<V> wide = sums_zero<V>();
        std::size_t k = start;
        for (; k + W <= end; k += W)
          P::template terms<V, false, true>(wide, V::load(logits(k)), mv, md, t, w, k, W, kv, sv);
        if (k < end)
          P::template terms<V, true, true>(
              wide, V::load_tail(logits(k), end - k, -std::numeric_limits<T>::infinity()), mv, md,
              t, w, k, end - k, kv, sv);
        acc.gap = wide.gap;
        acc.gap_v = V::zero();
      }
    }
    fold<V, P>(out, acc);
    if (last) return out;
  }
}

/// The sums of a row in blocks of block_elems, each read from memory once (its max, then exp
/// while it is in L1), the running sums rebased whenever a block raises the max m. m = -inf
/// means the row holds no number above -inf: its loss is NaN, as in the reference.
/// The next block (during the last block, `ahead`: the next row's logits, or null) is prefetched
/// while exp runs over this one. (Prefetching the gradient's next block for writing as well made
/// rows of 128256 classes 1.4x slower on AMD Zen 3, whose L2 holds 512 KiB: one such row.)
/// With Store, exp goes into g, and ref[b] receives the reference block b's values are relative
/// to (the running max after that block), so the gradient pass scales block b by
/// exp(ref[b] - m); without Store, g and ref are unused. With `arg`, *arg receives the first
/// index of the max, found in each block that raises it before the block is overwritten.
template <class V, class P, bool Store, class S>
SHAPEGUARD_SIMD_IN auto block_sums(const S* x, typename V::value_type* g,
                                    const typename P::target* t, const float* w, std::size_t n,
                                    typename V::value_type keep, typename V::value_type spread,
                                    const std::type_identity_t<S>* ahead,
                                    typename V::value_type& m, typename V::value_type* ref,
                                    std::size_t* arg)
    -> simd::row_sums {
  using T = typename V::value_type;
  // blocks of block_bytes of lanes (of 16-bit storage: half that), so that a 16-bit row is cut,
  // and its values rebased, where the same row in float is
  constexpr std::size_t B = simd::block_bytes / sizeof(T);
  m = row_max<V>(x, n < B ? n : B);
  if (m == -std::numeric_limits<T>::infinity()) {
    // Nothing to rebase from: the whole row's max is every block's reference (rare).
    m = row_max<V>(x, n);
    if (m == -std::numeric_limits<T>::infinity()) return {};
    if (arg) *arg = first_equal<V>(x, n, m);
  } else if (arg) {
    *arg = first_equal<V>(x, n < B ? n : B, m);
  }
  simd::row_sums sums;
  for (std::size_t c = 0, b = 0; c < n; c += B, ++b) {
    const std::size_t len = n - c < B ? n - c : B;
    if (c != 0) {
      const T block_max = row_max<V>(x + c, len);
      if (block_max > m) {
        P::rebase(sums, c, double(m), double(block_max));
        m = block_max;
        if (arg) *arg = c + first_equal<V>(x + c, len, m);
      }
    }
    if constexpr (Store) ref[b] = m;
    const S* const next = c + B < n ? x + c + B : ahead;
    if constexpr (Store && P::sums_terms && std::is_same_v<S, T>) {
      if (g == x) {  // in place
        sums += exp_pass<V, P, Store, S, true>(x + c, offset(g, c), offset(t, c), offset(w, c),
                                               len, m, keep, spread, next);
        continue;
      }
    }
    sums += exp_pass<V, P, Store>(x + c, offset(g, c), offset(t, c), offset(w, c), len, m, keep,
                                  spread, next);
  }
  return sums;
}

