// The vocabulary-parallel phases (slices.hpp) against the vector layer: the statistics of each
// row's slice with row_stats.inl's block sums (for the target policy of class indices), and the
// finish with finish.inl's gradient pass recomputing exp from the logits.
// Like kernel.inl, which includes it, this file has no include guard: it is compiled once per
// instruction set, inside that set's namespace (see kernel.inl for what is defined there).

/// A problem of slices as the row kernels' needs_reference sees it: the calls whose constants
/// leave the lanes' range go to the scalar reference.
template <class T>
SHAPEGUARD_SIMD_IN auto slice_needs_reference(const slice_problem<T>& p) -> bool {
  rows_problem<T> q;
  q.classes = p.total_classes;
  q.smoothing = p.smoothing;
  q.weights = p.weights;
  q.weight_sum = p.weight_sum;
  q.grad = p.grad;
  q.grad_scale = p.grad_scale;
  q.z_loss = p.z_loss;
  return p.classes == 0 || needs_reference(q);
}

template <class T, class P>
SHAPEGUARD_SIMD_FN void slice_stats_rows(const slice_problem<T>& p) {
  using V = typename vec_for<T>::type;
  using F = typename V::value_type;
  const std::size_t C = p.classes;
  const float* w = P::weighted ? p.weights : nullptr;
  for (std::size_t i = 0; i < p.rows; ++i) {
    if (p.index[i] == p.ignore_index) {
      p.stats[i] = slice_stats{};
      continue;
    }
    const T* x = p.logits + i * C;
    F m;
    std::size_t arg = 0;
    const simd::row_sums sums = block_sums<V, P, false>(x, nullptr, nullptr, w, C, F(0), F(0),
                                                        nullptr, m, nullptr, &arg);
    bool has_nan = false;
    if (m == -std::numeric_limits<F>::infinity())
      for (std::size_t c = 0; c < C; ++c) has_nan = has_nan || std::isnan(double(x[c]));
    p.stats[i] = slice_row_stats(p, i, double(m), std::int64_t(arg), sums.s,
                                 P::sums_terms ? sums.gap : 0.0, has_nan);
  }
}

template <class T, class P>
SHAPEGUARD_SIMD_FN void slice_finish_rows(const slice_problem<T>& p) {
  using V = typename vec_for<T>::type;
  using F = typename V::value_type;
  const std::size_t C = p.classes;
  const index_coeffs k = p.coeffs();
  const double scale = p.grad_scale;
  const float* w = P::weighted ? p.weights : nullptr;
  const F keep_g = F(scale * k.keep), spread_g = F(scale * k.spread);
  for (std::size_t i = 0; i < p.rows; ++i) {
    T* g = p.grad + i * C;
    if (p.index[i] == p.ignore_index) {
      fill_row<V>(g, C, 0);
      continue;
    }
    const slice_stats& st = p.combined[i];
    if (st.max == -std::numeric_limits<double>::infinity()) {
      fill_row<V>(g, C, std::numeric_limits<F>::quiet_NaN());
      continue;
    }
    const T* x = p.logits + i * C;
    const std::int64_t y = p.local_target(i);
    const double xy = y >= 0 ? double(x[y]) : 0.0;  // read before the pass may overwrite it
    const double ratio = scale * (st.coeff + z_grad(p.z_loss, st.max, st.sum_exp)) / st.sum_exp;
    grad_pass<V, P, true>(x, nullptr, g, nullptr, w, C, F(st.max), F(ratio), keep_g, spread_g);
    if (y >= 0)
      g[y] = T(ratio * std::exp(xy - st.max) - scale * k.target(p.weight(std::size_t(y))));
  }
}

/// The statistics phase of a slice problem on this instruction set.
template <class T>
SHAPEGUARD_SIMD_FN void slice_stats_phase(const slice_problem<T>& p) {
  if (slice_needs_reference(p)) return scalar_slice_stats(p);
  if (p.smoothing == 0) return slice_stats_rows<T, index_target<T>>(p);
  if (p.weights) return slice_stats_rows<T, smoothed_target<T, true>>(p);
  return slice_stats_rows<T, smoothed_target<T, false>>(p);
}

/// The finish phase (the gradient) of a slice problem on this instruction set.
template <class T>
SHAPEGUARD_SIMD_FN void slice_finish_phase(const slice_problem<T>& p) {
  if (slice_needs_reference(p)) return scalar_slice_finish(p);
  if (p.smoothing == 0) return slice_finish_rows<T, index_target<T>>(p);
  if (p.weights) return slice_finish_rows<T, smoothed_target<T, true>>(p);
  return slice_finish_rows<T, smoothed_target<T, false>>(p);
}
