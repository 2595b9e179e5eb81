// The short-row tiles: float rows of at most two registers with class-index targets,
// solved a register of rows at a time (one row per lane), every phase (statistics, log, finish)
// a vertical operation on the transposed tile.
// Like kernel.inl, which includes it, this file has no include guard: it is compiled once per
// instruction set, inside that set's namespace (see kernel.inl for what is defined there).

#if SHAPEGUARD_SIMD_TILES
/// Classes [h W, h W + len) of one row of a tile, from base + at, where the tile's rows fill
/// base[0, span). A layer with mask registers (V::mask_registers: AVX-512) loads exactly the
/// row's lanes, a masked load being one plain instruction there. Other layers take one plain
/// load where the register stays inside the span (its lanes past len read the next rows and are
/// replaced by fill) and a masked load only at the span's end: their masked loads and stores
/// cost several plain ones on some machines (AMD Zen 3: a masked store took a quarter of a tile
/// of 10 classes), and rows of 10 classes would take one per row. With mask registers, whole
/// registers across rows cost more instead (Intel Xeon, family 6 model 207: 8192x10 took 1.09x
/// as long, a 64-byte access at 40-byte steps crossing a cache line on every row).
template <class V, class T>
SHAPEGUARD_SIMD_IN auto tile_load(const T* base, std::size_t at, std::size_t span,
                                  std::size_t len, float fill) -> typename V::reg {
  if (len == V::width) return V::load(base + at);
  if (!V::mask_registers && span - at >= V::width)
    return V::select(V::tail_mask(len), V::load(base + at), V::set1(fill));
  return V::load_tail(base + at, len, fill);
}

/// Stores v as classes [h W, h W + len) of one row of a tile, at base + at, as tile_load: without
/// mask registers, one plain store inside the span, whose lanes past len land on the next rows.
/// Those rows are stored after it: a tile's registers are stored in address order.
template <class V, class T>
SHAPEGUARD_SIMD_IN void tile_store(T* base, std::size_t at, std::size_t span, std::size_t len,
                                   typename V::reg v) {
  if (len == V::width || (!V::mask_registers && span - at >= V::width))
    V::store(base + at, v);
  else
    V::store_tail(base + at, len, v);
}

/// How many classes a row's last register may hold for the layer to transpose it on its own
/// (V::load_narrow, V::store_narrow: AVX2), 0 where every register takes the full transpose.
/// The two calls below compile to nothing on such layers (tile_rows' `narrow` is then false).
template <class V>
constexpr std::size_t narrow_tail() {
  if constexpr (requires { V::narrow_tail; })
    return V::narrow_tail;
  else
    return 0;
}
template <class V, class... A>
SHAPEGUARD_SIMD_IN void load_narrow(A&&... a) {
  if constexpr (narrow_tail<V>() != 0) V::load_narrow(a...);
}
template <class V, class... A>
SHAPEGUARD_SIMD_IN void store_narrow(A&&... a) {
  if constexpr (narrow_tail<V>() != 0) V::store_narrow(a...);
}

/// Rows of at most R registers with class-index targets, `width` rows at a time with one row
/// per lane: a group is loaded row by row and transposed R registers at a time, so that
/// register c holds class c of every row; max, exp, sums, the log and the gradient are then
/// vertical operations (no horizontal reduction per row, one division and one log per group),
/// and the gradient is transposed back and stored row by row. Layers with SHAPEGUARD_SIMD_TILES.
/// Class weights, smoothing and the gradient are run-time choices here, taken once per tile (a
/// weight of 1 without weights): one function per R serves every class-index call, two tiles
/// per set. A template parameter for smoothing would double the set's largest functions (and
/// its compile time) to save a few per cent of a smoothed call.
///
/// With `Columns`, the rows are the contiguous axis (p.class_stride, rows.hpp): register c is
/// loaded directly from class c of `width` neighbouring rows and the gradient stored the same
/// way, with no transpose (index_columns).
template <std::size_t R, bool Columns = false>
SHAPEGUARD_SIMD_FN auto tile_rows(const rows_problem<float>& p) -> double {
  using V = vf;
  using reg = typename V::reg;
  constexpr std::size_t W = V::width;
  constexpr float minus_inf = -std::numeric_limits<float>::infinity();
  const std::size_t C = p.classes;
  const index_coeffs k = index_coeffs::of(p);
  const bool grad = p.grad != nullptr;
  const bool smooth = p.smoothing != 0;
  const double z = p.z_loss;
  const vd::reg z_d = vd::set1(z);
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

  // the last register's classes, when the layer transposes so few on their own (not for
  // Columns, which has no transpose)
  const bool narrow =
      !Columns && narrow_tail<V>() != 0 && C - (R - 1) * W <= narrow_tail<V>();
  const std::int64_t* const index = p.index;
  std::int64_t* const predictions = p.predictions;
  const std::int64_t ignore = p.ignore_index;
  const float* const weights = p.weights;
  const std::size_t rows = p.rows;
  double total = 0;
  for (std::size_t r0 = 0; r0 < rows; r0 += W) {
    const std::size_t n = rows - r0 < W ? rows - r0 : W;
    // T[h][k], once loaded: class h W + k of every row (lane)
    reg T[R][W];
    if constexpr (Columns) {
      const float* x = p.logits + r0;
      const std::size_t S = p.class_stride;
      SHAPEGUARD_UNROLL(3)
      for (std::size_t h = 0; h < R; ++h) {
        SHAPEGUARD_UNROLL(16)
        for (std::size_t k = 0; k < W; ++k) {
          const std::size_t c = h * W + k;
          if (c < C)
            T[h][k] = n == W ? V::load(x + c * S) : V::load_tail(x + c * S, n, minus_inf);
          else
            T[h][k] = V::set1(minus_inf);
        }
      }
    } else {
      // T[h][j]: classes [h W, h W + W) of row j, transposed below (the narrow last register
      // transposed as it is loaded)
      const float* x = p.logits + r0 * C;
      SHAPEGUARD_UNROLL(2)
      for (std::size_t h = 0; h < R; ++h) {
        const std::size_t len = C - h * W < W ? C - h * W : W;
        if (h == R - 1 && narrow) {
          load_narrow<V>(x + h * W, C, n, len, minus_inf, T[h]);
          continue;
        }
        SHAPEGUARD_UNROLL(16)
        for (std::size_t j = 0; j < W; ++j) {
          if (j < n)
            T[h][j] = tile_load<V>(x, j * C + h * W, n * C, len, minus_inf);
          else
            T[h][j] = V::set1(minus_inf);
        }
      }
    }
    // class and target weight per lane; -1 and 0 for ignored rows and lanes past the end
    reg yv, wy;
    V::load_labels(index + r0, n, ignore, weights, yv, wy);
    // the target's logit x_y (0 for ignored rows and lanes past the end), the sum over classes
    // of x_c where c == y: a compare and a masked add per class in the max loop below (a read
    // from memory per row, tried instead, took longer on Intel)
    reg xy = V::zero();
    if constexpr (!Columns) {
      SHAPEGUARD_UNROLL(2)
      for (std::size_t h = 0; h < R; ++h)
        if (h + 1 < R || !narrow) V::transpose(T[h]);
    }

    // the max, and with predictions the first class of the max (a strict
    // greater keeps the first of equal maxima and skips NaN, as max_ignore_nan does)
    reg m = V::set1(minus_inf), arg = V::zero();
    if (predictions) {
      SHAPEGUARD_UNROLL(32)
      for (std::size_t c = 0; c < R * W; ++c) {
        if (c < C) {
          reg& X_c = T[c / W][c % W];
          arg = V::select(V::greater(X_c, m), V::set1(float(c)), arg);
          m = V::max_ignore_nan(X_c, m);
          xy = V::add(xy, V::select(V::equal(yv, V::set1(float(c))), X_c, V::zero()));
        }
      }
    } else {
      // four chains, the max being exact in any order
      reg mk[4] = {m, m, m, m};
      SHAPEGUARD_UNROLL(32)
      for (std::size_t c = 0; c < R * W; ++c) {
        if (c < C) {
          mk[c % 4] = V::max_ignore_nan(T[c / W][c % W], mk[c % 4]);
          xy = V::add(xy, V::select(V::equal(yv, V::set1(float(c))), T[c / W][c % W], V::zero()));
        }
      }
      m = V::max_ignore_nan(V::max_ignore_nan(mk[0], mk[1]), V::max_ignore_nan(mk[2], mk[3]));
    }
    // for smoothing, the gap sum_c w_c (m - x_c) in double lanes (see gap_lanes); a class of
    // weight 0 is left out, so that its -inf logit adds nothing
    vd::reg m_lo_hi[2];
    V::widen(m, m_lo_hi[0], m_lo_hi[1]);
    gap_lanes dsum = gap_zero();
    if (smooth && weights) {
      SHAPEGUARD_UNROLL(32)
      for (std::size_t c = 0; c < R * W; ++c)
        if (c < C && smooth_w[c] != 0)
          gap_add<V, false>(dsum, T[c / W][c % W], V::set1(smooth_w[c]), m_lo_hi[0],
                            m_lo_hi[1]);
    } else if (smooth) {
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
    const reg A = smooth ? V::add(hit, spread_all) : hit;
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
      if (smooth) gap = vd::fmadd(vd::set1(k.spread), h ? dsum.hi : dsum.lo, gap);
      vd::reg loss = vd::fmadd(A_d[h], log_s_d[h], gap);
      if (z != 0) {
        // z lse^2 with lse = m + log(s); the gradient's A grows by 2 z lse
        const vd::reg lse = vd::add(m_lo_hi[h], log_s_d[h]);
        loss = vd::fmadd(vd::mul(z_d, lse), lse, loss);
        A_d[h] = vd::fmadd(vd::set1(2 * z), lse, A_d[h]);
      }
      loss_d[h] = vd::select(vd::nonzero(live_d[h]), loss, vd::zero());
    }
    total += vd::reduce_add(vd::add(loss_d[0], loss_d[1]));
    if (predictions) {
      // -1 for ignored rows (yv < 0) and rows whose loss is NaN (s NaN, or no logit above -inf)
      const reg none = V::set1(-1.0f);
      reg a = V::select(V::equal(s, s), arg, none);
      a = V::select(V::less(yv, V::zero()), none, a);
      a = V::select(V::equal(m, V::set1(minus_inf)), none, a);
      float a_j[W];
      V::store(a_j, a);
      for (std::size_t j = 0; j < n; ++j) predictions[r0 + j] = std::int64_t(a_j[j]);
    }
    if (p.losses) {
      const reg loss = V::narrow(loss_d[0], loss_d[1]);
      if (n == W)
        V::store(p.losses + r0, loss);
      else
        V::store_tail(p.losses + r0, n, loss);
    }

    if (grad) {
      // grad_c = e_c * scale A / s - scale spread w_c - [c == y] scale keep w_y
      reg ratio;
      if (z == 0) {
        ratio = V::div(V::mul(scale_v, A), s);
      } else {
        // in double lanes: scale (A + 2 z lse) can leave float's range where the ratio does not
        vd::reg s_d[2];
        V::widen(s, s_d[0], s_d[1]);
        const vd::reg scale_d = vd::set1(scale);
        ratio = V::narrow(vd::div(vd::mul(scale_d, A_d[0]), s_d[0]),
                          vd::div(vd::mul(scale_d, A_d[1]), s_d[1]));
      }
      const reg hit_g = V::mul(keep_g, wy);
      SHAPEGUARD_UNROLL(32)
      for (std::size_t c = 0; c < R * W; ++c) {
        if (c < C) {
          reg& X_c = T[c / W][c % W];
          X_c = V::mul(X_c, ratio);
          if (smooth) X_c = V::sub(X_c, V::set1(smooth_g[c]));
          X_c = V::sub(X_c, V::select(V::equal(yv, V::set1(float(c))), hit_g, V::zero()));
        }
      }
      if constexpr (Columns) {
        float* out = p.grad + r0;
        const std::size_t S = p.class_stride;
        SHAPEGUARD_UNROLL(48)
        for (std::size_t c = 0; c < R * W; ++c) {
          if (c < C) {
            // ignored rows get a zero gradient
            const reg g = V::select(dead, V::zero(), T[c / W][c % W]);
            if (n == W)
              V::store(out + c * S, g);
            else
              V::store_tail(out + c * S, n, g);
          }
        }
      } else {
      float* out = p.grad + r0 * C;
      const std::size_t wide = narrow ? R - 1 : R;  // registers of the full transpose
      SHAPEGUARD_UNROLL(2)
      for (std::size_t h = 0; h < wide; ++h) V::transpose(T[h]);
      // row by row, in address order (tile_store)
      SHAPEGUARD_UNROLL(16)
      for (std::size_t j = 0; j < W; ++j) {
        if (j < n) {
          const bool ignored = index[r0 + j] == ignore;
          SHAPEGUARD_UNROLL(2)
          for (std::size_t h = 0; h < wide; ++h) {
            const std::size_t len = C - h * W < W ? C - h * W : W;
            tile_store<V>(out, j * C + h * W, n * C, len, ignored ? V::zero() : T[h][j]);
          }
        }
      }
      if (narrow) {
        // ignored rows get a zero gradient; the narrow register is still in class order
        const std::size_t len = C - (R - 1) * W;
        SHAPEGUARD_UNROLL(4)
        for (std::size_t c = 0; c < 4; ++c)  // len <= narrow_tail<V>() <= 4
          if (c < len) T[R - 1][c] = V::select(dead, V::zero(), T[R - 1][c]);
        store_narrow<V>(out + (R - 1) * W, C, n, len, T[R - 1]);
      }
      }
    }
  }
  return total;
}

/// Rows of at most R registers with per-class targets (probabilities, one-hot, multi-hot),
/// `width` rows at a time with one row per lane, as tile_rows: the logits and the targets are
/// loaded row by row into float lanes and transposed, so that the max, exp, the sums s and A =
/// sum_c a_c and the gap sum_c a_c (m - x_c) (in double lanes, a_c = 0 left out as in
/// dense_target) are vertical operations. Each row's statistics then go to loss_batch, and its
/// gradient factor is formed in double, as short_rows does for one row. Logits T and targets U
/// float, or 16-bit (read exactly into float lanes, the gradient rounded once when stored): the
/// 16-bit results are the float call's on the same values.
template <std::size_t R, class T, class U>
SHAPEGUARD_SIMD_FN auto dense_tile_rows(const rows_problem<T, U>& p) -> double {
  using V = vf;
  using reg = typename V::reg;
  constexpr std::size_t W = V::width;
  constexpr float minus_inf = -std::numeric_limits<float>::infinity();
  const std::size_t C = p.classes;
  const index_coeffs k = index_coeffs::of(p);
  const double scale = p.grad_scale;
  const reg keep_v = V::set1(float(k.keep)), spread_v = V::set1(float(k.spread));
  const reg keep_g = V::set1(float(scale * k.keep)), spread_g = V::set1(float(scale * k.spread));
  float w[R * W];
  for (std::size_t c = 0; c < R * W; ++c) w[c] = c < C && p.weights ? p.weights[c] : 1.0f;
  const bool weighted = p.weights != nullptr;
  simd::loss_batch<T> out(p.losses, p.z_loss);

  for (std::size_t r0 = 0; r0 < p.rows; r0 += W) {
    const std::size_t n = p.rows - r0 < W ? p.rows - r0 : W;
    // X[h][j], Y[h][j]: classes [h W, h W + W) of row j, logits and targets, then transposed:
    // X[h][k], Y[h][k] hold class h W + k of every row
    reg X[R][W], Y[R][W];
    SHAPEGUARD_UNROLL(2)
    for (std::size_t h = 0; h < R; ++h) {
      const std::size_t len = C - h * W < W ? C - h * W : W;
      SHAPEGUARD_UNROLL(16)
      for (std::size_t j = 0; j < W; ++j) {
        const std::size_t at = j * C + h * W;
        if (j < n) {
          X[h][j] = tile_load<V>(p.logits + r0 * C, at, n * C, len, minus_inf);
          Y[h][j] = tile_load<V>(p.targets + r0 * C, at, n * C, len, 0.0f);
        } else {
          X[h][j] = V::set1(minus_inf);
          Y[h][j] = V::zero();
        }
      }
      V::transpose(X[h]);
      V::transpose(Y[h]);
    }
    // the max and the first class of it (a strict greater skips NaN and keeps the first)
    reg m = V::set1(minus_inf), arg = V::zero();
    SHAPEGUARD_UNROLL(32)
    for (std::size_t c = 0; c < R * W; ++c) {
      if (c < C) {
        const reg& X_c = X[c / W][c % W];
        arg = V::select(V::greater(X_c, m), V::set1(float(c)), arg);
        m = V::max_ignore_nan(X_c, m);
      }
    }
    vd::reg m_d[2];
    V::widen(m, m_d[0], m_d[1]);
    // s, A and the gap; X becomes e = exp(x - m), Y the coefficient a_c
    reg s = V::zero(), A = V::zero();
    gap_lanes gap = gap_zero();
    SHAPEGUARD_UNROLL(32)
    for (std::size_t c = 0; c < R * W; ++c) {
      if (c < C) {
        reg& X_c = X[c / W][c % W];
        reg& Y_c = Y[c / W][c % W];
        reg a = V::fmadd(Y_c, keep_v, spread_v);
        if (weighted) a = V::mul(a, V::set1(w[c]));
        A = V::add(A, a);
        gap_add<V, false>(gap, V::select(V::nonzero(a), X_c, m), a, m_d[0], m_d[1]);
        X_c = vexp<V>(V::sub(X_c, m));
        s = V::add(s, X_c);
      }
    }
    // per row: the loss's statistics, the prediction, and the gradient's factor
    float s_j[W], A_j[W], m_j[W], arg_j[W], ratio_j[W];
    double gap_j[W];
    V::store(s_j, s);
    V::store(A_j, A);
    V::store(m_j, m);
    V::store(arg_j, arg);
    vd::store(gap_j, gap.lo);
    vd::store(gap_j + W / 2, gap.hi);
    for (std::size_t j = 0; j < W; ++j) {
      const bool undefined = m_j[j] == minus_inf;  // every logit -inf or NaN
      ratio_j[j] = std::numeric_limits<float>::quiet_NaN();
      if (j >= n) continue;
      const std::size_t row = r0 + j;
      if (p.predictions)
        p.predictions[row] = undefined || std::isnan(s_j[j]) ? -1 : std::int64_t(arg_j[j]);
      if (undefined) {
        out.push(row, std::numeric_limits<double>::quiet_NaN(), 1.0, 0.0, 0.0);
        continue;
      }
      out.push(row, s_j[j], A_j[j], gap_j[j], m_j[j]);
      const double a_grad = double(A_j[j]) + z_grad(p.z_loss, double(m_j[j]), double(s_j[j]));
      ratio_j[j] = float(scale * a_grad / double(s_j[j]));
    }
    if (!p.grad) continue;
    const reg ratio = V::load(ratio_j);
    SHAPEGUARD_UNROLL(2)
    for (std::size_t h = 0; h < R; ++h) {
      SHAPEGUARD_UNROLL(16)
      for (std::size_t k2 = 0; k2 < W; ++k2) {
        const std::size_t c = h * W + k2;
        if (c < C) {
          reg a = V::fmadd(Y[h][k2], keep_g, spread_g);
          if (weighted) a = V::mul(a, V::set1(w[c]));
          X[h][k2] = V::sub(V::mul(X[h][k2], ratio), a);
        }
      }
      V::transpose(X[h]);
    }
    // row by row, in address order (tile_store)
    SHAPEGUARD_UNROLL(16)
    for (std::size_t j = 0; j < W; ++j) {
      if (j < n) {
        SHAPEGUARD_UNROLL(2)
        for (std::size_t h = 0; h < R; ++h) {
          const std::size_t len = C - h * W < W ? C - h * W : W;
          tile_store<V>(p.grad + r0 * C, j * C + h * W, n * C, len, X[h][j]);
        }
      }
    }
  }
  return out.finish();
}

/// tile_rows for 16-bit storage S: blocks of rows converted to float, solved by the float tiles,
/// their gradient and losses rounded back, so that the results are the float path's on the same
/// values, rounded once.
template <std::size_t R, class S>
SHAPEGUARD_SIMD_FN auto tile_rows16(const rows_problem<S>& p) -> double {
  constexpr std::size_t rows_per_block = 64;
  const std::size_t C = p.classes;
  float x[rows_per_block * R * vf::width], g[rows_per_block * R * vf::width];
  float losses[rows_per_block];
  rows_problem<float> q;
  q.weights = p.weights;
  q.classes = C;
  q.ignore_index = p.ignore_index;
  q.smoothing = p.smoothing;
  q.weight_sum = p.weight_sum;
  q.grad_scale = p.grad_scale;
  q.z_loss = p.z_loss;
  double total = 0;
  for (std::size_t r0 = 0; r0 < p.rows; r0 += rows_per_block) {
    const std::size_t n = p.rows - r0 < rows_per_block ? p.rows - r0 : rows_per_block;
    convert_array(p.logits + r0 * C, x, n * C);
    q.rows = n;
    q.logits = x;
    q.grad = p.grad ? g : nullptr;
    q.losses = p.losses ? losses : nullptr;
    q.index = p.index + r0;
    q.predictions = p.predictions ? p.predictions + r0 : nullptr;
    total += tile_rows<R>(q);
    if (p.grad) convert_array(g, p.grad + r0 * C, n * C);
    if (p.losses) convert_array(losses, p.losses + r0, n);
  }
  return total;
}
#endif  // SHAPEGUARD_SIMD_TILES
