// The finish phase, against the vector layer: the gradient of a row from its statistics,
// grad_c = scale (A exp(x_c - m) / s - a_c), written over exp values stored by the statistics
// pass or recomputed from the logits; the loss itself is A log(s) + gap (loss_batch).
// Like kernel.inl, which includes it, this file has no include guard: it is compiled once per
// instruction set, inside that set's namespace (see kernel.inl for what is defined there).

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

