// The fused kernels, written once against a vector layer, in phases of their own files:
// math.inl (exp, log, log1p), targets.inl (the target policies in lanes), row_stats.inl (a
// row's max and sums, block by block, rebased as the max grows), finish.inl (the gradient
// from the statistics), tiles.inl (short rows, every phase in lanes), sigmoid.inl (the
// sigmoid loss, whose every element is its own problem), soft_cap.inl (soft-capping, a
// phase before and after the kernel of the capped logits) and slices.inl (the two phases of the
// vocabulary-parallel loss, from the same passes).
// This file puts the softmax phases together for a target policy P (targets.inl): rows of one
// register, longer rows, and the entry points for class-index and per-class-target rows, which
// choose P.
// These files have no include guard on purpose: simd_kernels.hpp includes this one once per
// instruction set, inside that set's namespace, after defining
//   SHAPEGUARD_SIMD_TARGET  the function attribute that enables the set (maybe empty)
//   vf, vd                  the set's vector layer for float and for double
//   SHAPEGUARD_SIMD_TILES   1 when vf has the operations of the tile kernel (a transpose,
//                           label loads, division, exponent split), else 0
// so that every function is compiled for that set and inlines its intrinsics.
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
#include "targets.inl"
#include "row_stats.inl"
#include "finish.inl"
#include "tiles.inl"
#include "sigmoid.inl"
#include "soft_cap.inl"

/// Rows that fit one register, `count` <= short_group of them (indices in `row`), interleaved
/// so that the long dependency chain of each row (max, exp, sums, division) overlaps the
/// others'. Missing members of a short group repeat the last row; their results are dropped.
template <class T, class P, bool Grad>
SHAPEGUARD_SIMD_FN void short_rows(const rows_problem<T, typename P::target>& p,
                                   const std::size_t* row, std::size_t count,
                                   simd::loss_batch<T>& out) {
  using V = typename vec_for<T>::type;
  using F = typename V::value_type;  // the lanes' type: T, or float for 16-bit storage
  using reg = typename V::reg;
  constexpr std::size_t G = simd::short_group;
  constexpr bool by_index = P::by_index;
  using U = typename P::target;
  constexpr F minus_inf = -std::numeric_limits<F>::infinity();
  const std::size_t C = p.classes;
  const index_coeffs coeffs = index_coeffs::of(p);
  const double keep = coeffs.keep, spread = coeffs.spread;
  const double scale = p.grad_scale;
  const float* w = P::weighted ? p.weights : nullptr;
  const reg keep_v = V::set1(F(keep)), spread_v = V::set1(F(spread));
  const reg keep_g = V::set1(F(scale * keep)), spread_g = V::set1(F(scale * spread));

  std::size_t r[G], y[G] = {}, arg[G];
  double wy[G] = {};
  F xy[G] = {}, m[G];
  reg e[G];
  simd::row_sums sums[G];
  SHAPEGUARD_UNROLL(8)
  for (std::size_t k = 0; k < G; ++k) {
    r[k] = row[k < count ? k : count - 1];
    if constexpr (by_index) {
      y[k] = static_cast<std::size_t>(p.index[r[k]]);
      wy[k] = p.weights ? double(p.weights[y[k]]) : 1.0;
      xy[k] = F(p.logits[r[k] * C + y[k]]);
    }
  }
  SHAPEGUARD_UNROLL(8)
  for (std::size_t k = 0; k < G; ++k) {
    const reg xv = V::load_tail(p.logits + r[k] * C, C, minus_inf);
    m[k] = V::reduce_max(V::max_ignore_nan(xv, V::set1(minus_inf)));
    const reg mv = V::set1(m[k]);
    arg[k] = V::first(V::equal(xv, mv));
    e[k] = vexp<V>(V::sub(xv, mv));
    vec_sums<V> acc = sums_zero<V>();
    acc.s = e[k];
    const U* t = by_index ? nullptr : p.targets + r[k] * C;
    P::template terms<V, true>(acc, xv, mv, vd::set1(double(m[k])), t, w, 0, C, keep_v, spread_v);
    fold<V, P>(sums[k], acc);
  }
  SHAPEGUARD_UNROLL(8)
  for (std::size_t k = 0; k < G; ++k) {
    double A = sums[k].a, gap = sums[k].gap;
    if constexpr (by_index) {
      A = coeffs.total(wy[k]);
      gap = coeffs.gap(wy[k], double(m[k]), double(xy[k]), sums[k].gap);
    }
    const bool undefined = m[k] == minus_inf;  // every logit -inf or NaN: NaN as the reference
    if (p.predictions && k < count)
      p.predictions[r[k]] = undefined || std::isnan(sums[k].s) ? -1 : std::int64_t(arg[k]);
    if (k < count) {
      if (undefined)
        out.push(r[k], std::numeric_limits<double>::quiet_NaN(), 1.0, 0.0, 0.0);
      else
        out.push(r[k], sums[k].s, A, gap, double(m[k]));
    }
    if constexpr (Grad) {
      const double a_grad = A + z_grad(p.z_loss, double(m[k]), sums[k].s);
      const F ratio =
          undefined ? std::numeric_limits<F>::quiet_NaN() : F(scale * a_grad / sums[k].s);
      const U* t = by_index ? nullptr : p.targets + r[k] * C;
      reg gv = P::template grad<V, true>(e[k], V::set1(ratio), t, w, 0, C, keep_g, spread_g);
      if constexpr (by_index)
        gv = V::select(V::lane_mask(y[k]), V::sub(gv, V::set1(F(scale * keep * wy[k]))), gv);
      V::store_tail(p.grad + r[k] * C, C, gv);
    }
  }
}


/// Rows of at most one register, simd::short_group at a time (short_rows), ignored rows apart.
template <class T, class P, bool Grad>
SHAPEGUARD_SIMD_FN void short_row_groups(const rows_problem<T, typename P::target>& p,
                                         simd::loss_batch<T>& out) {
  using V = typename vec_for<T>::type;
  constexpr bool by_index = P::by_index;
  const std::size_t C = p.classes;
  // rows of one register: short_rows interleaves simd::short_group of them
  std::size_t group[simd::short_group];
  std::size_t count = 0;
  for (std::size_t i = 0; i < p.rows; ++i) {
    if constexpr (by_index) {
      if (p.index[i] == p.ignore_index) {
        if constexpr (Grad) fill_row<V>(p.grad + i * C, C, 0);
        if (p.losses) p.losses[i] = T(0);
        if (p.predictions) p.predictions[i] = -1;
        continue;
      }
    }
    group[count++] = i;
    if (count == simd::short_group) {
      short_rows<T, P, Grad>(p, group, count, out);
      count = 0;
    }
  }
  if (count != 0) short_rows<T, P, Grad>(p, group, count, out);
}

/// A row of n floats for this thread's exp values (16-bit storage), kept between calls.
inline auto scratch_row(std::size_t n) -> float* {
  thread_local std::vector<float> row;
  if (row.size() < n) row.resize(n);
  return row.data();
}

/// The gradient buffer as the lanes' type: itself, for float and double (unused for 16 bits).
template <class T>
auto as_lanes(T* g) -> typename vec_for<T>::type::value_type* {
  if constexpr (is_16bit_v<T>)
    return nullptr;
  else
    return g;
}

/// Rows of more than one register, one at a time: block_sums, then the gradient pass over the
/// blocks (block_sums' references), or recomputed from the logits for rows beyond
/// cached_row_bytes.
template <class T, class P, bool Grad>
SHAPEGUARD_SIMD_FN void long_rows(const rows_problem<T, typename P::target>& p,
                                  simd::loss_batch<T>& out) {
  using V = typename vec_for<T>::type;
  using F = typename V::value_type;
  constexpr bool by_index = P::by_index;
  using U = typename P::target;
  constexpr F nan = std::numeric_limits<F>::quiet_NaN();
  constexpr F minus_inf = -std::numeric_limits<F>::infinity();
  const std::size_t C = p.classes;
  const index_coeffs coeffs = index_coeffs::of(p);
  const double keep = coeffs.keep, spread = coeffs.spread;
  const double scale = p.grad_scale;
  const float* w = P::weighted ? p.weights : nullptr;
  // loop constants: exp_pass wants a_c's factors, grad_pass the same times scale
  const F keep_t = F(keep), spread_t = F(spread);
  const F keep_g = F(scale * keep), spread_g = F(scale * spread);
  // Rows whose exp values fit cached_row_bytes keep them until the scaling pass: in the
  // gradient itself, or for 16-bit storage in a float row of this thread's (rounded to 16 bits
  // they would make the gradient more than one rounding off).
  const bool fits = C * sizeof(F) <= simd::cached_row_bytes;
  F* scratch = nullptr;
  if constexpr (is_16bit_v<T>)
    if (Grad && fits) scratch = scratch_row(C);
  F ref[simd::cached_row_bytes / simd::block_bytes];

  for (std::size_t i = 0; i < p.rows; ++i) {
    const T* x = p.logits + i * C;
    T* g = Grad ? p.grad + i * C : nullptr;
    F* const e = Grad && fits ? (is_16bit_v<T> ? scratch : as_lanes(g)) : nullptr;
    const U* t = by_index ? nullptr : p.targets + i * C;
    std::size_t y = 0;
    double wy = 0;
    F xy = 0;
    if constexpr (by_index) {
      if (p.index[i] == p.ignore_index) {
        if constexpr (Grad) fill_row<V>(g, C, 0);
        if (p.losses) p.losses[i] = T(0);
        if (p.predictions) p.predictions[i] = -1;
        continue;
      }
      y = static_cast<std::size_t>(p.index[i]);
      wy = p.weights ? double(p.weights[y]) : 1.0;
      xy = F(x[y]);  // read before the gradient may overwrite it (in place)
    }

    F m;
    simd::row_sums sums;
    std::size_t arg = 0;
    std::size_t* const want_arg = p.predictions ? &arg : nullptr;
    if (Grad && fits) {
      sums = block_sums<V, P, true>(x, e, t, w, C, keep_t, spread_t,
                                    i + 1 < p.rows ? x + C : nullptr, m, ref, want_arg);
    } else {
      sums = block_sums<V, P, false>(x, nullptr, t, w, C, keep_t, spread_t,
                                     i + 1 < p.rows ? x + C : nullptr, m, nullptr, want_arg);
    }
    // s is NaN with a NaN or +inf logit: the loss is NaN, and there is no prediction
    if (p.predictions)
      p.predictions[i] = m == minus_inf || std::isnan(sums.s) ? -1 : std::int64_t(arg);

    if (m == minus_inf) {  // every logit -inf or NaN: NaN like the reference
      if constexpr (Grad) fill_row<V>(g, C, nan);
      out.push(i, double(nan), 1.0, 0.0, 0.0);
      continue;
    }

    // A = sum a_c and the gap sum_{a_c != 0} a_c (m - x_c)
    double A = sums.a, gap = sums.gap, a_y = 0;
    if constexpr (by_index) {
      A = coeffs.total(wy);
      gap = coeffs.gap(wy, double(m), double(xy), sums.gap);
      a_y = coeffs.target(wy);
    }
    out.push(i, sums.s, A, gap, double(m));

    if constexpr (Grad) {
      const double ratio = scale * (A + z_grad(p.z_loss, double(m), sums.s)) / sums.s;
      const F r = F(ratio);
      if (fits) {
        constexpr std::size_t B = simd::block_bytes / sizeof(F);
        for (std::size_t c = 0, b = 0; c < C; c += B, ++b) {
          const F r_b = ref[b] == m ? r : F(ratio * std::exp(double(ref[b]) - double(m)));
          grad_pass<V, P, false>(x + c, e + c, g + c, offset(t, c), offset(w, c),
                                 C - c < B ? C - c : B, m, r_b, keep_g, spread_g);
        }
        if constexpr (by_index)
          g[y] = T(ratio * std::exp(double(xy) - double(m)) - scale * a_y);
      } else {
        grad_pass<V, P, true>(x, nullptr, g, t, w, C, m, r, keep_g, spread_g);
        if constexpr (by_index)
          g[y] = T(ratio * std::exp(double(xy) - double(m)) - scale * a_y);
      }
    }
  }
}

template <class T, class P, bool Grad>
SHAPEGUARD_SIMD_FN auto solve_rows(const rows_problem<T, typename P::target>& p) -> double {
  using V = typename vec_for<T>::type;
  simd::loss_batch<T> out(p.losses, p.z_loss);
  // float class-index rows of one register go to the tiles (index_rows): no short_rows for them
  constexpr bool tiled =
      SHAPEGUARD_SIMD_TILES && (std::is_same_v<T, float> || is_16bit_v<T>) && P::by_index;
  if constexpr (!tiled) {
    if (p.classes <= V::width) {
      short_row_groups<T, P, Grad>(p, out);
      return out.finish();
    }
  }
  long_rows<T, P, Grad>(p, out);
  return out.finish();
}

/// solve_rows for target policy P, with or without the gradient.
template <class T, class P>
SHAPEGUARD_SIMD_IN auto solve(const rows_problem<T, typename P::target>& p) -> double {
  return p.grad ? solve_rows<T, P, true>(p) : solve_rows<T, P, false>(p);
}

/// Calls that T lanes cannot solve without overflow or underflow, which the scalar reference
/// (in double) solves instead.
template <class T, class U>
SHAPEGUARD_SIMD_IN auto needs_reference(const rows_problem<T, U>& p) -> bool {
  if (p.classes == 0) return true;
  // A smoothing whose share eps / C is below T's normal range rounds to 0 (or to a few bits) in
  // T lanes, where 0 times a term that overflowed gives NaN.
  using F = typename vec_for<T>::type::value_type;
  if (p.smoothing > 0 && p.smoothing / double(p.classes) < double(std::numeric_limits<F>::min()))
    return true;
  if constexpr (std::is_same_v<F, float>) {
    // Float lanes sum class weights (up to weight_sum) and hold gradient constants of up to
    // grad_scale * max(1, weight_sum) (scale * A / s, scale * (1 - eps), scale * eps / C).
    // Class weights summing near float's largest value, or a mean over target weights below
    // its normal range, would overflow them.
    constexpr double limit = double(std::numeric_limits<float>::max()) / 4;
    if (p.weights && (p.weight_sum > limit ||
                      (p.grad && p.grad_scale * (p.weight_sum > 1 ? p.weight_sum : 1.0) > limit)))
      return true;
    // With the z-loss, the gradient's factor scale (A + 2 z lse) / s: |lse| is at most float's
    // largest value (plus log C); a z large enough against the scale to overflow it goes to the
    // reference too.
    if (p.grad && p.z_loss != 0 &&
        p.grad_scale * ((p.weight_sum > 1 ? p.weight_sum : 1.0) +
                        2 * p.z_loss * 1.01 * double(std::numeric_limits<float>::max())) > limit)
      return true;
  }
  return false;
}

/// The fused kernel for class-index rows (p.index set) on this instruction set. The target
/// type plays no part: one instance per logit type serves every label type.
template <class T>
SHAPEGUARD_SIMD_FN auto index_rows(const rows_problem<T>& p) -> double {
  if (p.soft_cap > 0) {
    using F = typename vec_for<T>::type::value_type;
    return soft_capped_rows<F>(p, [](const rows_problem<F>& q) { return index_rows(q); });
  }
  if (needs_reference(p)) return scalar_rows(p);
  const bool weighted = p.weights != nullptr;
#if SHAPEGUARD_SIMD_TILES
  if constexpr (std::is_same_v<T, float>) {
    if (p.classes <= vf::width) return tile_rows<1>(p);
    if (p.classes <= 2 * vf::width) return tile_rows<2>(p);
  } else if constexpr (is_16bit_v<T>) {
    if (p.classes <= vf::width) return tile_rows16<1>(p);
    if (p.classes <= 2 * vf::width) return tile_rows16<2>(p);
  }
#endif
  if (p.smoothing == 0) return solve<T, index_target<T>>(p);
  if (weighted) return solve<T, smoothed_target<T, true>>(p);
  return solve<T, smoothed_target<T, false>>(p);
}

#if SHAPEGUARD_SIMD_TILES
/// The most classes index_columns takes: three registers.
inline constexpr std::size_t column_classes = 3 * vf::width;

/// The fused kernel for float class-index rows whose classes are strided and whose rows are the
/// contiguous axis (p.class_stride, rows.hpp), at most column_classes classes: the tiles without
/// their transposes, each register loaded straight from one class of `width` rows. No
/// soft-capping (the caller copies those rows). Calls the reference would take (needs_reference)
/// are copied into row-major order and solved by it.
template <class T>
SHAPEGUARD_SIMD_FN auto index_columns(const rows_problem<T>& p) -> double {
  static_assert(std::is_same_v<T, float>);
  if (needs_reference(p)) {
    const std::size_t C = p.classes, S = p.class_stride;
    std::vector<float> x(p.rows * C);
    for (std::size_t r = 0; r < p.rows; ++r)
      for (std::size_t c = 0; c < C; ++c) x[r * C + c] = p.logits[c * S + r];
    rows_problem<float> q = p;
    q.class_stride = 1;
    q.logits = x.data();
    q.grad = p.grad ? x.data() : nullptr;
    const double total = scalar_rows(q);
    if (p.grad)
      for (std::size_t r = 0; r < p.rows; ++r)
        for (std::size_t c = 0; c < C; ++c) p.grad[c * S + r] = x[r * C + c];
    return total;
  }
  if (p.classes <= vf::width) return tile_rows<1, true>(p);
  if (p.classes <= 2 * vf::width) return tile_rows<2, true>(p);
  return tile_rows<3, true>(p);
}
#endif

/// The fused kernel for rows of per-class targets of type U (p.targets set).
template <class T, class U>
SHAPEGUARD_SIMD_FN auto dense_rows(const rows_problem<T, U>& p) -> double {
  if (p.soft_cap > 0) {
    using F = typename vec_for<T>::type::value_type;
    return soft_capped_rows<U>(p, [](const rows_problem<F, U>& q) { return dense_rows(q); });
  }
  if (needs_reference(p)) return scalar_rows(p);
#if SHAPEGUARD_SIMD_TILES
  // float or 16-bit logits and targets (so that 16-bit calls, and soft-capped ones, which cap
  // into float, take the path of the float call on the same values)
  if constexpr ((std::is_same_v<T, float> || is_16bit_v<T>) &&
                (std::is_same_v<U, float> || is_16bit_v<U>)) {
    if (p.classes <= vf::width) return dense_tile_rows<1>(p);
    if (p.classes <= 2 * vf::width) return dense_tile_rows<2>(p);
  }
#endif
  if (p.weights) return solve<T, dense_target<T, U, true>>(p);
  return solve<T, dense_target<T, U, false>>(p);
}

#include "slices.inl"

#undef SHAPEGUARD_SIMD_FN
#undef SHAPEGUARD_SIMD_IN
