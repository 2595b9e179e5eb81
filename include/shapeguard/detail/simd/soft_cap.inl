// The soft-capping phase (rows.hpp): a group of rows' logits replaced by s tanh(x / s) in a
// scratch of the lanes' type, each with its derivative 1 - tanh^2(x / s) beside it; the kernel
// of the capped problem then solves the scratch, its gradient in place over the capped logits,
// and the chain rule writes the gradient of the raw logits into the caller's buffer, rounded
// once to its type. So every option of the plain kernel composes with capping unchanged.
// Like kernel.inl, which includes it, this file has no include guard: it is compiled once per
// instruction set, inside that set's namespace.

/// tanh(u) into t and 1 - tanh^2(u) into d, lane-wise. With e = exp(-2 |u|) and q = 1 / (1 + e):
/// |tanh u| = (1 - e) q, and 1 - tanh^2 u = 4 e q^2, whose relative accuracy is e's where tanh
/// saturates (1 - t^2 from a rounded t would lose it). Below a threshold, where 1 - e cancels,
/// tanh u is its odd series to u^11 (truncation below 1e-16 relative for double lanes, below
/// their threshold 1/16, and 3e-10 for float lanes, below 1/4). Large |u| gives t = +-1 and
/// d = 0; NaN gives NaN in t and 0 in d (so that an ignored row's zero gradient stays 0).
template <class V>
SHAPEGUARD_SIMD_IN void vtanh_slope(typename V::reg u, typename V::reg& t, typename V::reg& d) {
  using reg = typename V::reg;
  using F = typename V::value_type;
  const reg zero = V::zero(), one = V::set1(F(1));
  const auto negative = V::less(u, zero);
  const reg a = V::select(negative, V::sub(zero, u), u);
  const reg e = vexp<V>(V::mul(a, V::set1(F(-2))));
  const reg q = V::div(one, V::add(one, e));
  const reg large = V::mul(V::sub(one, e), q);
  const reg a2 = V::mul(a, a);
  reg p = V::set1(F(-1382.0 / 155925));
  p = V::fmadd(p, a2, V::set1(F(62.0 / 2835)));
  p = V::fmadd(p, a2, V::set1(F(-17.0 / 315)));
  p = V::fmadd(p, a2, V::set1(F(2.0 / 15)));
  p = V::fmadd(p, a2, V::set1(F(-1.0 / 3)));
  const reg small = V::fmadd(V::mul(p, a2), a, a);
  constexpr F threshold = std::is_same_v<F, float> ? F(0.25) : F(0.0625);
  const reg magnitude = V::select(V::less(a, V::set1(threshold)), small, large);
  t = V::select(negative, V::sub(zero, magnitude), magnitude);
  // max_ignore_nan returns its second operand, 0, for a NaN first one
  d = V::max_ignore_nan(V::mul(V::mul(V::set1(F(4)), e), V::mul(q, q)), zero);
}

/// y = s tanh(x / s) and, with d, d = 1 - tanh^2(x / s), over x[0, n) (for tests too).
template <class S, class F>
SHAPEGUARD_SIMD_FN void soft_cap_array(const S* x, F* y, F* d, std::size_t n, double cap) {
  using V = typename vec_for<F>::type;
  using reg = typename V::reg;
  constexpr std::size_t W = V::width;
  const reg s = V::set1(F(cap)), inv = V::set1(F(1 / cap));
  std::size_t c = 0;
  for (; c + W <= n; c += W) {
    reg t, slope;
    vtanh_slope<V>(V::mul(V::load(x + c), inv), t, slope);
    V::store(y + c, V::mul(s, t));
    if (d) V::store(d + c, slope);
  }
  if (c < n) {
    reg t, slope;
    vtanh_slope<V>(V::mul(V::load_tail(x + c, n - c, F(0)), inv), t, slope);
    V::store_tail(y + c, n - c, V::mul(s, t));
    if (d) V::store_tail(d + c, n - c, slope);
  }
}

/// Solves p (p.soft_cap > 0) with `solve`, the kernel of the same rows uncapped, over groups
/// of rows of at most soft_cap_elems logits (or one row): the group capped into this thread's
/// scratch, solved there as a rows_problem<F, Q> (F the lanes' type; Q the targets' type U, or
/// F for class indices, which have none), and its gradient taken through tanh. Per-sample
/// losses of 16-bit logits are rounded to float by the kernel, then to the 16-bit type.
template <class Q, class T, class U, class Solve>
SHAPEGUARD_SIMD_FN auto soft_capped_rows(const rows_problem<T, U>& p, const Solve& solve)
    -> double {
  using V = typename vec_for<T>::type;
  using F = typename V::value_type;
  constexpr std::size_t W = V::width;
  const std::size_t C = p.classes;
  // a cap or its reciprocal outside F's normal range (4e38 or 1e-300 in float lanes) would
  // turn s tanh(x / s) into inf 0 or 0 inf: the reference solves those in double
  const F s_f = F(p.soft_cap), inv_f = F(1 / p.soft_cap);
  constexpr F lo = std::numeric_limits<F>::min(), hi = std::numeric_limits<F>::max();
  if (C == 0 || !(s_f >= lo && s_f <= hi) || !(inv_f >= lo && inv_f <= hi))
    return scalar_rows(p);
  const std::size_t group = C < simd::soft_cap_elems ? simd::soft_cap_elems / C : 1;
  thread_local std::vector<F> capped, slope, losses;
  capped.resize(group * C);
  if (p.grad) slope.resize(group * C);
  if (!std::is_same_v<F, T> && p.losses) losses.resize(group);
  double total = 0;
  for (std::size_t r0 = 0; r0 < p.rows; r0 += group) {
    const std::size_t n = p.rows - r0 < group ? p.rows - r0 : group, len = n * C;
    soft_cap_array(p.logits + r0 * C, capped.data(), p.grad ? slope.data() : nullptr, len,
                   p.soft_cap);
    rows_problem<F, Q> q;
    q.logits = capped.data();
    q.grad = p.grad ? capped.data() : nullptr;
    if constexpr (std::is_same_v<F, T>)
      q.losses = p.losses ? p.losses + r0 : nullptr;
    else
      q.losses = p.losses ? losses.data() : nullptr;
    q.index = p.index ? p.index + r0 : nullptr;
    q.ignore_index = p.ignore_index;
    if constexpr (std::is_same_v<Q, U>) q.targets = p.targets ? p.targets + r0 * C : nullptr;
    q.weights = p.weights;
    q.rows = n;
    q.classes = C;
    q.smoothing = p.smoothing;
    q.weight_sum = p.weight_sum;
    q.grad_scale = p.grad_scale;
    q.z_loss = p.z_loss;
    q.predictions = p.predictions ? p.predictions + r0 : nullptr;
    total += solve(q);
    if constexpr (!std::is_same_v<F, T>)
      if (p.losses)
        for (std::size_t i = 0; i < n; ++i) p.losses[r0 + i] = T(losses[i]);
    if (p.grad) {
      T* g = p.grad + r0 * C;
      std::size_t c = 0;
      for (; c + W <= len; c += W)
        V::store(g + c, V::mul(V::load(capped.data() + c), V::load(slope.data() + c)));
      if (c < len)
        V::store_tail(g + c, len - c,
                      V::mul(V::load_tail(capped.data() + c, len - c, F(0)),
                             V::load_tail(slope.data() + c, len - c, F(0))));
    }
  }
  return total;
}
