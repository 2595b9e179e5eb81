// The sigmoid cross-entropy kernel, against the vector layer: every element is a binary problem
// of its own (rows.hpp, sigmoid_problem), so its statistics are one exp and one log1p, and the
// finish writes loss and gradient in the same pass over logits and targets. From x, with
// e = exp(-|x|) and l = log1p(e):
//   softplus(x) = max(x, 0) + l        softplus(-x) = max(-x, 0) + l
//   sigmoid(x) = 1 / (1 + e) or e / (1 + e) by the sign of x, and sigmoid(-x) the other one
// so that no term is the log of a rounded sigmoid (x = -1e4 with target 1 gives 1e4) and, for
// hard targets, the gradient is one of the two products, without cancellation.
// The losses are summed in double lanes; with weights, the products too (w_c times a softplus
// can leave float's range where a mean over the call does not).
// Like kernel.inl, which includes it, this file has no include guard: it is compiled once per
// instruction set, inside that set's namespace (see kernel.inl for what is defined there).

/// Loop constants of a sigmoid span.
template <class V>
struct bce_constants {
  typename V::reg one, keep, spread, scale;
};

/// The sums of a span: losses in double lanes (lo, and hi for float), and `poison`, which
/// collects NaN logits (0 otherwise), so that a NaN reaches the sum whatever its weight.
template <class V>
struct bce_sums {
  vd::reg lo, hi;
  typename V::reg poison;
};

/// One register of elements (Tail: the first n): loss and gradient from x, t and, Weighted,
/// the class weights w and positive weights pw from the element's column (either may be null).
template <class V, class U, bool Weighted, bool Grad, bool Tail>
SHAPEGUARD_SIMD_IN void bce_step(const typename V::value_type* x, const U* t,
                                 typename V::value_type* g, typename V::value_type* l,
                                 std::size_t n, const float* w, const float* pw,
                                 const bce_constants<V>& k, bce_sums<V>& acc) {
  using T = typename V::value_type;
  using reg = typename V::reg;
  const reg zero = V::zero();
  const reg xv = Tail ? V::load_tail(x, n, T(0)) : V::load(x);
  // t and 1 - t, each to T's relative precision: for double targets in float lanes, 1 - t is
  // formed in double (rounding t first would lose all of 1 - t for t near 1)
  reg tv, uv;
  if constexpr (std::is_same_v<T, float> && std::is_same_v<U, double>) {
    constexpr std::size_t H = vd::width;
    const vd::reg one = vd::set1(1.0);
    const vd::reg lo = Tail ? vd::load_tail(t, n < H ? n : H, 0.0) : vd::load(t);
    const vd::reg hi = !Tail ? vd::load(t + H) : (n > H ? vd::load_tail(t + H, n - H, 0.0)
                                                        : vd::zero());
    tv = V::narrow(lo, hi);
    uv = V::narrow(vd::sub(one, lo), vd::sub(one, hi));
  } else {
    tv = Tail ? V::load_tail(t, n, T(0)) : V::load(t);
    uv = V::sub(k.one, tv);
  }
  // the coefficients of softplus(x) and softplus(-x): 1 - t' = (1 - t)(1 - eps) + eps / 2 and
  // t' = t (1 - eps) + eps / 2, both without cancellation
  reg a = V::fmadd(uv, k.keep, k.spread), b = V::fmadd(tv, k.keep, k.spread);
  if constexpr (Weighted) {
    const reg wv = w ? (Tail ? V::load_tail(w, n, T(0)) : V::load(w)) : k.one;
    const reg pv = pw ? (Tail ? V::load_tail(pw, n, T(0)) : V::load(pw)) : k.one;
    a = V::mul(a, wv);
    b = V::mul(b, V::mul(wv, pv));
  }
  if constexpr (Tail) {
    const auto live = V::tail_mask(n);
    a = V::select(live, a, zero);
    b = V::select(live, b, zero);
  }
  // |x| (NaN for NaN, whose lanes are set to NaN at the end), and which side of 0 x is on
  const auto below = V::less(xv, zero);
  const reg ax = V::max_ignore_nan(V::sub(zero, xv), xv);
  const reg e = vexp<V>(V::sub(zero, ax));  // exp(-|x|)
  const reg lg = vlog1p_unit<V>(e);          // log1p(exp(-|x|))
  // softplus(x) = max(x, 0) + lg and softplus(-x) = max(-x, 0) + lg, so that
  // loss = a softplus(x) + b softplus(-x) = c |x| + (a + b) lg, with c = a for x > 0 and b for
  // x < 0; c |x| is left out where c is 0 (an infinite logit on the side its target leaves out)
  const reg c = V::select(below, b, a);
  const reg ax_c = V::select(V::nonzero(c), ax, zero);
  const reg cx = V::mul(c, ax_c);
  const auto number = V::equal(xv, xv);
  acc.poison = V::select(number, acc.poison, xv);

  if constexpr (Grad) {
    // sigmoid(|x|) = 1 / (1 + e) and sigmoid(-|x|) = e / (1 + e); the gradient is
    // a sigmoid(x) - b sigmoid(-x)
    const reg q = V::div(k.one, V::add(k.one, e));
    const reg eq = V::mul(e, q);
    const reg sig = V::select(below, eq, q), sig_neg = V::select(below, q, eq);
    const reg gv = V::select(number, V::mul(k.scale, V::fnmadd(b, sig_neg, V::mul(a, sig))), xv);
    if constexpr (Tail)
      V::store_tail(g, n, gv);
    else
      V::store(g, gv);
  }

  // unweighted, a + b = 1 (but 0 in the lanes past a tail)
  const reg loss = Weighted || Tail ? V::fmadd(V::add(a, b), lg, cx) : V::add(cx, lg);
  if (l) {
    const reg out = V::select(number, loss, xv);
    if constexpr (Tail)
      V::store_tail(l, n, out);
    else
      V::store(l, out);
  }
  if constexpr (std::is_same_v<T, float>) {
    vd::reg lo, hi;
    if constexpr (Weighted) {
      // c |x| in double: a weight times |x| can leave float's range where the sum does not
      vd::reg c_lo, c_hi, ax_lo, ax_hi, lg_lo, lg_hi;
      V::widen(c, c_lo, c_hi);
      V::widen(ax_c, ax_lo, ax_hi);
      V::widen(V::mul(V::add(a, b), lg), lg_lo, lg_hi);
      acc.lo = vd::fmadd(c_lo, ax_lo, vd::add(lg_lo, acc.lo));
      acc.hi = vd::fmadd(c_hi, ax_hi, vd::add(lg_hi, acc.hi));
    } else {
      // c |x| + lg is at most |x| + log 2: finite in float for a finite x
      V::widen(loss, lo, hi);
      acc.lo = vd::add(acc.lo, lo);
      acc.hi = vd::add(acc.hi, hi);
    }
  } else {
    acc.lo = vd::add(acc.lo, loss);
  }
}

/// Elements [0, n) of one span: consecutive elements whose weights are w[0, n) and pw[0, n).
template <class V, class U, bool Weighted, bool Grad>
SHAPEGUARD_SIMD_FN void bce_span(const typename V::value_type* x, const U* t,
                                 typename V::value_type* g, typename V::value_type* l,
                                 std::size_t n, const float* w, const float* pw,
                                 const bce_constants<V>& k, bce_sums<V>& acc) {
  constexpr std::size_t W = V::width;
  std::size_t i = 0;
  for (; i + W <= n; i += W)
    bce_step<V, U, Weighted, Grad, false>(x + i, t + i, Grad ? g + i : g, offset(l, i), W,
                                          offset(w, i), offset(pw, i), k, acc);
  if (i < n)
    bce_step<V, U, Weighted, Grad, true>(x + i, t + i, Grad ? g + i : g, offset(l, i), n - i,
                                         offset(w, i), offset(pw, i), k, acc);
}

// Spans of weighted calls with fewer classes than this read their weights from a table that
// repeats the row's pattern, so that a span runs this many elements across rows; calls with
// more classes run one span per row piece, reading the weights in place.
inline constexpr std::size_t bce_table_span = 256;

/// Elements [i, i + n) of p, with the weights w and pw of element i on (null: none).
template <class V, class U, bool Weighted, bool Grad>
SHAPEGUARD_SIMD_IN void bce_piece(const sigmoid_problem<typename V::value_type, U>& p,
                                  std::size_t i, std::size_t n, const float* w, const float* pw,
                                  const bce_constants<V>& k, bce_sums<V>& acc) {
  bce_span<V, U, Weighted, Grad>(p.logits + i, p.targets + i, Grad ? p.grad + i : nullptr,
                                 offset(p.losses, i), n, w, pw, k, acc);
}

template <class T, class U, bool Weighted, bool Grad>
SHAPEGUARD_SIMD_FN auto bce_elements(const sigmoid_problem<T, U>& p) -> double {
  using V = typename vec_for<T>::type;
  const bce_constants<V> k{V::set1(T(1)), V::set1(T(p.keep)), V::set1(T(p.spread)),
                           V::set1(T(p.grad_scale))};
  bce_sums<V> acc{vd::zero(), vd::zero(), V::zero()};
  if constexpr (!Weighted) {
    bce_piece<V, U, Weighted, Grad>(p, 0, p.count, nullptr, nullptr, k, acc);
  } else {
    constexpr std::size_t S = bce_table_span;
    const std::size_t C = p.classes;
    if (C < S) {
      // tables of C + S entries: the weights of columns c, c + 1, ... (mod C) from any c < C
      float tw[2 * S], tp[2 * S];
      const float* w = nullptr;
      const float* pw = nullptr;
      if (p.class_weights) {
        for (std::size_t j = 0; j < C + S; ++j) tw[j] = p.class_weights[j % C];
        w = tw;
      }
      if (p.pos_weight) {
        for (std::size_t j = 0; j < C + S; ++j) tp[j] = p.pos_weight[j % C];
        pw = tp;
      }
      for (std::size_t i = 0, c = p.column; i < p.count;) {
        const std::size_t n = p.count - i < S ? p.count - i : S;
        bce_piece<V, U, Weighted, Grad>(p, i, n, offset(w, c), offset(pw, c), k, acc);
        i += n;
        c = (c + n) % C;
      }
    } else {
      for (std::size_t i = 0, c = p.column; i < p.count;) {
        const std::size_t n = p.count - i < C - c ? p.count - i : C - c;
        bce_piece<V, U, Weighted, Grad>(p, i, n, offset(p.class_weights, c),
                                        offset(p.pos_weight, c), k, acc);
        i += n;
        c = 0;
      }
    }
  }
  const double total =
      vd::reduce_add(std::is_same_v<T, float> ? vd::add(acc.lo, acc.hi) : acc.lo);
  return total + V::reduce_add(acc.poison);
}

/// The fused sigmoid kernel on this instruction set, for targets of type U.
template <class T, class U>
SHAPEGUARD_SIMD_FN auto sigmoid_rows(const sigmoid_problem<T, U>& p) -> double {
  if constexpr (std::is_same_v<T, float>) {
    // weights whose products w_c p_c reach near float's largest value would overflow the
    // lanes' coefficients; the reference solves such calls in double
    if (p.weight_max > double(std::numeric_limits<float>::max()) / 4) return scalar_sigmoid(p);
  }
  const bool grad = p.grad != nullptr;
  if (p.class_weights || p.pos_weight)
    return grad ? bce_elements<T, U, true, true>(p) : bce_elements<T, U, true, false>(p);
  return grad ? bce_elements<T, U, false, true>(p) : bce_elements<T, U, false, false>(p);
}
