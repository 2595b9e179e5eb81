// The finish phase, against the vector layer: the gradient of a row from its statistics,
// grad_c = scale (A exp(x_c - m) / s - a_c), written over exp values stored by the statistics
// pass or recomputed from the logits; the loss itself is A log(s) + gap (loss_batch).
// Like kernel.inl, which includes it, this file has no include guard: it is compiled once per
// instruction set, inside that set's namespace (see kernel.inl for what is defined there).

/// Writes the gradient of x[0, n) into g from the exp values in e (which may be g; Recompute:
/// from x and m, e unused): per register e * r minus the target policy P's a_c, pre-scaled in
/// keep and spread; the target class of an index row is the caller's to fix.
template <class V, class P, bool Recompute, class S>
SHAPEGUARD_SIMD_FN void grad_pass(const S* x, const typename V::value_type* e,
                                  std::type_identity_t<S>* g,
                                  const typename P::target* t, const float* w, std::size_t n,
                                  typename V::value_type m, typename V::value_type r,
                                  typename V::value_type keep, typename V::value_type spread) {
  using T = typename V::value_type;
  using reg = typename V::reg;
  constexpr std::size_t W = V::width;
  const reg mv = V::set1(m), rv = V::set1(r), kv = V::set1(keep), sv = V::set1(spread);
  std::size_t c = 0;
  for (; c + W <= n; c += W) {
    const reg ev = Recompute ? vexp<V>(V::sub(V::load(x + c), mv)) : V::load(e + c);
    V::store(g + c, P::template grad<V, false>(ev, rv, t, w, c, W, kv, sv));
  }
  if (c < n) {
    const reg ev =
        Recompute
            ? vexp<V>(V::sub(V::load_tail(x + c, n - c, -std::numeric_limits<T>::infinity()), mv))
            : V::load_tail(e + c, n - c, T(0));
    V::store_tail(g + c, n - c, P::template grad<V, true>(ev, rv, t, w, c, n - c, kv, sv));
  }
}

template <class V, class S>
SHAPEGUARD_SIMD_FN void fill_row(S* g, std::size_t n, typename V::value_type value) {
  const typename V::reg v = V::set1(value);
  std::size_t c = 0;
  for (; c + V::width <= n; c += V::width) V::store(g + c, v);
  if (c < n) V::store_tail(g + c, n - c, v);
}

