// Fuzz target: sigmoid cross-entropy (torch's binary_cross_entropy_with_logits) with floating
// targets, integer and bool multi-hot labels, logits of rank 1 to 3, pos_weight and class
// weights, every call form (loss, gradient, in place, per-element losses, both) and every
// instruction set; and try_check on pairs whose ranks differ (a compile error for the checked
// calls). The property, as in fuzz_common.hpp:
//
//   either the call throws a shape_error whose kind is one the inputs violate, and the first in
//   the contract's check order (shapes, data pointers, options, outputs, label values, finite
//   logits), and no output byte (nor any input byte) changed; or the inputs violate nothing, the
//   call returns, and the loss, the per-element losses and the gradient agree with a long double
//   reference of the contract's formulas, on every instruction set (NaN exactly where the
//   reference is NaN).
#include "fuzz_loss.hpp"

#include <climits>

namespace fuzz::bce {

using K = sg::error_kind;

// ---------------------------------------------------------------------------------------------
// What the inputs violate. The contract orders the checks by stage; a violation that the
// contract does not pin to one stage (a null output pointer: a data pointer, or part of the
// output checks; reduction against per_sample: an option, or part of the output checks) spans
// the stages it may belong to. A kind may come first iff its violation can be checked no later
// than every other violation's latest stage.

enum stage : int { shapes = 0, data = 1, options = 2, outputs = 3, values = 4, finite = 5 };

// Which checks see a violation.
enum scope : unsigned {
  in_call = 1,       // the loss call, with its outputs
  in_check_out = 2,  // try_check with the same outputs (a check alone: none needs no buffer)
  in_check = 4,      // try_check / check of logits and labels alone
  everywhere = 7,
  with_outputs = in_call | in_check_out,
};

struct violation {
  K kind;
  int lo, hi;
  unsigned where;
  std::string what;
};

struct prediction {
  std::vector<violation> list;
  void add(K kind, int lo, int hi, unsigned where, std::string what) {
    list.push_back({kind, lo, hi, where, std::move(what)});
  }
  auto allowed(unsigned where) const -> std::set<K> {
    int bound = INT_MAX;
    for (const auto& v : list)
      if (v.where & where) bound = std::min(bound, v.hi);
    std::set<K> out;
    for (const auto& v : list)
      if ((v.where & where) && v.lo <= bound) out.insert(v.kind);
    return out;
  }
  // Whether checks a and b see the same violations (not only the same kinds: a violation only
  // the call sees may be its first where try_check's first is another of the same kinds).
  auto same_in(unsigned a, unsigned b) const -> bool {
    for (const auto& v : list)
      if (bool(v.where & a) != bool(v.where & b)) return false;
    return true;
  }
  auto text(unsigned where) const -> std::string {
    std::string out = "{";
    for (const auto& v : list)
      if (v.where & where)
        out += fmt::format(" {}[{}..{}]:{}", sg::to_string(v.kind), v.lo, v.hi, v.what);
    return out + " }";
  }
};

inline auto kinds_text(const std::set<K>& k) -> std::string {
  std::string out = "{";
  for (auto x : k) out += fmt::format(" {}", sg::to_string(x));
  return out + " }";
}

// ---------------------------------------------------------------------------------------------
// Statistics of this target, beside fuzz_common's.

inline std::atomic<std::uint64_t> rank_cases{0}, thread_differences{0}, checked_with_outputs{0},
    coefficient_rounding{0}, coefficient_dropped{0};
inline void print_bce_stats() {
  std::fprintf(stderr,
               "fuzz_sigmoid stats: rank-mismatch cases %llu, try_check with outputs %llu, "
               "results that differ bitwise between thread counts %llu, results accepted only "
               "through coefficient rounding %llu (of which a tiny-coefficient term at an "
               "infinite logit left out %llu)\n",
               (unsigned long long)rank_cases, (unsigned long long)checked_with_outputs,
               (unsigned long long)thread_differences, (unsigned long long)coefficient_rounding,
               (unsigned long long)coefficient_dropped);
}

/// The rounding u of the coefficients 1 - t' and t' that a kernel may show (element_ref), beside
/// products below the normal range, which may be off by a few denormals on every set. The
/// contract promises float results within 1e-5 relative of a float64 reference, so every kernel
/// must form them without cancellation, to a relative rounding of its type (the tolerance
/// covers float's); the absolute allowance is that of double (2^-52).
template <class T>
inline auto coefficient_rounding_of(sg::isa) -> long double {
  return 0x1p-52L;
}

// ---------------------------------------------------------------------------------------------
// Values.

/// Labels of type Y: floating targets (hard 0/1, soft, at the edges of [0, 1]; corrupted: out
/// of range, NaN, infinite), integers (0/1; corrupted: 2, -1, the type's edges) or bools.
template <class Y>
void fill_labels(source& s, Y* y, std::size_t n) {
  if constexpr (std::is_same_v<Y, bool>) {
    const std::size_t rate = 1 + s.below(4);
    for (std::size_t i = 0; i < n; ++i) y[i] = s.next() % rate == 0;
    return;
  } else {
    const bool corrupt = s.one_in(4);
    const std::size_t rate = 1 + s.below(64);
    const std::uint8_t style = s.byte();
    using L = std::numeric_limits<Y>;
    for (std::size_t i = 0; i < n; ++i) {
      Y v{};
      if constexpr (std::is_floating_point_v<Y>) {
        if (style < 100) {
          v = Y(s.next() % 2);
        } else if (style < 180) {
          v = Y(s.unit());
        } else {
          const Y edges[] = {Y(0),           Y(1),          Y(0.5),
                             L::denorm_min(), Y(1) - L::epsilon() / 2, L::min(),
                             Y(1e-30),       -Y(0),         Y(1) - L::epsilon(),
                             Y(s.unit())};
          v = edges[s.next() % 10];
        }
        if (corrupt && s.next() % rate == 0) {
          const Y bad[] = {Y(-1e-3),       -L::denorm_min(), L::quiet_NaN(), L::infinity(),
                           -L::infinity(), Y(1) + L::epsilon(), Y(2),       Y(-1),
                           Y(1e30),        L::lowest()};
          v = bad[s.next() % 10];
        }
      } else {
        v = Y(s.next() % 2);
        if (corrupt && s.next() % rate == 0) {
          const Y bad[] = {Y(2), static_cast<Y>(-1), L::max(), L::min(), static_cast<Y>(255),
                           Y(100), static_cast<Y>(s.next())};
          v = bad[s.next() % 7];
        }
      }
      y[i] = v;
    }
  }
}

/// pos_weight or class_weights: mostly absent; otherwise one per class, sometimes a wrong
/// count, invalid entries, or a null pointer with entries.
struct weights_input {
  std::vector<float> values;
  bool null_data = false;
  auto present() const -> bool { return !values.empty(); }
};

inline auto weights_value(source& s, std::size_t classes) -> weights_input {
  weights_input w;
  if (s.below(5) >= 2) return w;
  std::size_t n = std::min(classes, max_elements);
  if (s.one_in(12)) n = s.pick({n + 1, n > 0 ? n - 1 : 2, std::size_t{1}, n * 2, std::size_t{2}});
  n = std::min(n, max_elements);
  const bool invalid_allowed = s.one_in(8);
  const bool uniform = s.one_in(4);
  w.values.resize(n);
  const float first = weight_value(s, invalid_allowed);
  for (auto& v : w.values) v = uniform ? first : weight_value(s, invalid_allowed);
  w.null_data = !w.values.empty() && s.one_in(40);
  return w;
}

inline auto bce_options_value(source& s, bool form_has_losses) -> sg::bce_options {
  sg::bce_options o;
  if (s.one_in(24)) {
    static const int values[] = {0, 1, 2, 3, 255, -1};
    o.reduction = static_cast<sg::reduction>(s.pick(values));
  } else if (form_has_losses) {
    o.reduction = sg::reduction::none;
  } else {
    o.reduction = s.one_in(2) ? sg::reduction::mean : sg::reduction::sum;
  }
  o.label_smoothing = smoothing_value(s);
  o.check_finite = s.one_in(4);
  const std::uint8_t t = s.byte();
  o.threads = t < 180 ? 1 : t < 220 ? 2 : t < 250 ? 3 : 0;
  o.denominator = denominator_value(s);
  return o;
}

// ---------------------------------------------------------------------------------------------
// The reference, in long double, from the contract's formulas.

inline auto softplus(long double x) -> long double {
  const long double inf = std::numeric_limits<long double>::infinity();
  if (x == inf) return inf;
  if (x == -inf) return 0;
  if (x > 0) return x + std::log1p(std::exp(-x));
  return std::log1p(std::exp(x));
}
inline auto sigmoid(long double x) -> long double {
  if (x >= 0) return 1 / (1 + std::exp(-x));
  const long double e = std::exp(x);
  return e / (1 + e);
}

/// The relative tolerance of the contract: 1e-5 for float; for double, that of the softmax
/// kernels' double lanes.
template <class T>
constexpr long double rtol = std::is_same_v<T, float> ? 1e-5L : 1e-12L;

struct element_ref {
  long double loss = 0, loss_slack = 0, grad = 0, grad_slack = 0;
  // Coefficient rounding: a kernel that forms 1 - t' and t' in its arithmetic type may be off
  // by u (that type's rounding) in each. The loss and gradient may then move by u times these
  // factors (finite softplus terms only), and a term at an infinite softplus whose coefficient
  // is at most u may come out 0 and be left out: loss_dropped is the loss without it.
  long double loss_factor = 0, grad_factor = 0, loss_dropped = 0;
  // Products that fall below the normal range of the kernel's type (a denormal class weight
  // times t') are off by a few of its smallest denormals: these factors per unit of it.
  long double loss_denormal = 0, grad_denormal = 0;
  long double A = 0, B = 0, w = 0, wp = 0;  // w (1 - t'), w p t', w, w p
  bool inf_pos = false, inf_neg = false;  // softplus(x), softplus(-x) infinite
  // a partial result of the formula, evaluated literally in double (as a float64 reference
  // would), leaves double's range while the long double value does not
  bool past_double = false;
};

// ---------------------------------------------------------------------------------------------

template <class T, class Y, std::size_t R>
void run_sigmoid(source& s) {
  static_assert(R >= 1 && R <= 3);
  auto& st = stats();
  ++st.inputs;
  constexpr std::size_t last = R - 1;

  // --- shapes ---
  std::array<std::size_t, R> xe{};
  for (std::size_t a = 0; a < last; ++a) xe[a] = batch_extent(s);
  xe[last] = (R == 1 && s.one_in(2)) ? batch_extent(s) : class_extent(s);
  std::array<std::size_t, R> ye = xe;
  if (s.one_in(10)) mutate_axis(s, ye, last);
  const int form = static_cast<int>(s.below(4));  // loss, +grad, +per-element, +both
  const bool has_grad = form == 1 || form == 3, has_losses = form >= 2;
  const bool in_place = has_grad && s.one_in(4);
  std::array<std::size_t, R> ge = xe, le = xe;
  if (has_grad && !in_place && s.one_in(16)) mutate_axis(s, ge, last);
  if (has_losses && s.one_in(16)) mutate_axis(s, le, last);
  const bool arena = s.one_in(10);
  const bool losses_first = form == 3 && s.one_in(2);
  const bool as_spans = R == 1 && s.one_in(3);

  {
    const bool valid = extents_valid(xe) && extents_valid(ye) &&
                       (!has_grad || extents_valid(ge)) && (!has_losses || extents_valid(le));
    if (!valid) {
      ++st.bad_extents;
      T dummy_t{};
      Y dummy_y{};
      try {
        (void)make_view(&dummy_t, xe);
        (void)make_view(&dummy_y, ye);
        if (has_grad) (void)make_view(&dummy_t, ge);
        if (has_losses) (void)make_view(&dummy_t, le);
      } catch (const sg::shape_error& e) {
        FUZZ_REQUIRE(e.kind() == K::invalid_option, "kind {}: {}", sg::to_string(e.kind()),
                     e.what());
        return;
      }
      fail("extents that overflow std::size_t (or equal sg::dyn) were accepted");
    }
  }
  const std::size_t x_size = *product(xe), y_size = *product(ye);
  const std::size_t g_size = *product(ge), l_size = *product(le);
  const std::size_t classes = R >= 2 ? xe[last] : 1;  // rank 1: N samples of one class

  bool batch_differs = false;
  for (std::size_t a = 0; a < last; ++a) batch_differs |= ye[a] != xe[a];
  const bool last_differs = ye[last] != xe[last];
  const bool labels_mismatch = batch_differs || last_differs;
  const bool grad_mismatch = has_grad && ge != xe;
  const bool losses_mismatch = has_losses && le != xe;

  const bool big_x = x_size > max_elements, big_y = y_size > max_elements;
  if (!labels_mismatch && (big_x || big_y)) {
    ++st.skipped;
    return;
  }

  // --- buffers ---
  std::vector<T> arena_storage;
  auto x_buf = buffer<T>::make(s, big_x ? std::nullopt : std::optional(x_size), true);
  auto y_buf = buffer<Y>::make(s, big_y ? std::nullopt : std::optional(y_size), true);
  auto g_buf = buffer<T>{};
  auto l_buf = buffer<T>{};
  if (has_grad && !in_place)
    g_buf = buffer<T>::make(s, g_size > max_elements ? std::nullopt : std::optional(g_size), true);
  if (has_losses)
    l_buf = buffer<T>::make(s, l_size > max_elements ? std::nullopt : std::optional(l_size), true);

  sg::bce_options o = bce_options_value(s, has_losses);
  weights_input pw = weights_value(s, classes), cw = weights_value(s, classes);
  const float* pw_data = pw.null_data ? nullptr : pw.values.data();
  const float* cw_data = cw.null_data ? nullptr : cw.values.data();

  T* x_ptr = x_buf.data;
  Y* y_ptr = y_buf.data;
  T* g_ptr = in_place ? x_buf.data : g_buf.data;
  T* l_ptr = l_buf.data;
  const std::size_t x_n = x_buf.size, y_n = y_buf.size, g_n = in_place ? x_n : g_buf.size,
                    l_n = l_buf.size;
  if (arena && !big_x && !big_y && !x_buf.stand_in && !g_buf.stand_in && !l_buf.stand_in) {
    constexpr bool labels_in = std::is_same_v<Y, T>;
    constexpr bool weights_in = std::is_same_v<T, float>;
    const std::size_t total = x_n + g_n + l_n + (labels_in ? y_n : 0) +
                              (weights_in ? pw.values.size() + cw.values.size() : 0) + 8;
    arena_storage.assign(total, T(0));
    T* base = arena_storage.data();
    auto place = [&](std::size_t n) -> T* {
      return base + (s.one_in(2) ? s.below(total - n + 1) : total - n);
    };
    if (x_ptr) x_ptr = base;
    if (has_grad && !in_place && g_ptr) g_ptr = place(g_n);
    if (in_place) g_ptr = x_ptr;
    if (has_losses && l_ptr) l_ptr = place(l_n);
    if constexpr (labels_in) {
      if (y_ptr && s.one_in(2)) y_ptr = reinterpret_cast<Y*>(place(y_n));
    }
    if constexpr (weights_in) {
      if (pw_data && s.one_in(2)) pw_data = reinterpret_cast<float*>(place(pw.values.size()));
      if (cw_data && s.one_in(2)) cw_data = reinterpret_cast<float*>(place(cw.values.size()));
    }
  }

  // --- values, in the order the arena's overlaps resolve ---
  const regime rx = pick_regime(s);
  for (std::size_t i = 0; i < x_n && x_ptr; ++i) x_ptr[i] = logit_value<T>(s, rx);
  if (y_ptr && !y_buf.stand_in) fill_labels(s, y_ptr, y_n);
  if (cw_data && cw_data != cw.values.data())
    std::copy(cw.values.begin(), cw.values.end(), const_cast<float*>(cw_data));
  if (pw_data && pw_data != pw.values.data())
    std::copy(pw.values.begin(), pw.values.end(), const_cast<float*>(pw_data));
  o.pos_weight = std::span<const float>(pw_data, pw.values.size());
  o.class_weights = std::span<const float>(cw_data, cw.values.size());
  // outputs start as a pattern (0x7f bytes), so that an entry left unwritten disagrees
  if (g_ptr && !in_place && arena_storage.empty()) std::memset(g_ptr, 0x7f, g_n * sizeof(T));
  if (l_ptr && arena_storage.empty()) std::memset(l_ptr, 0x7f, l_n * sizeof(T));

  // --- the prediction, from the contract ---
  prediction p;
  if (batch_differs) p.add(K::batch_mismatch, shapes, shapes, everywhere, "labels' batch axis");
  if (last_differs) {
    // (rank 1: the one axis is both the samples' and the last)
    p.add(K::class_mismatch, shapes, shapes, everywhere, "labels' last axis");
    if (R == 1) p.add(K::batch_mismatch, shapes, shapes, everywhere, "labels' sample axis");
  }
  if (!x_ptr && x_size != 0) p.add(K::invalid_option, data, data, everywhere, "null logits");
  if (!y_ptr && y_size != 0) p.add(K::invalid_option, data, data, everywhere, "null labels");
  const bool reduction_valid = o.reduction == sg::reduction::mean ||
                               o.reduction == sg::reduction::sum ||
                               o.reduction == sg::reduction::none;
  if (!reduction_valid) p.add(K::invalid_option, options, options, everywhere, "reduction");
  if (!(o.label_smoothing >= 0.0f && o.label_smoothing <= 1.0f))
    p.add(K::invalid_option, options, options, everywhere, "label_smoothing");
  auto weights_violations = [&](const weights_input& w, const float* d, const char* name) {
    if (!w.present()) return;
    if (w.values.size() != classes)
      p.add(K::invalid_option, options, options, everywhere, fmt::format("{} count", name));
    if (!d) {
      p.add(K::invalid_option, options, options, everywhere, fmt::format("{} null", name));
      return;
    }
    for (std::size_t k = 0; k < w.values.size(); ++k)
      if (!(d[k] >= 0.0f) || !std::isfinite(d[k])) {
        p.add(K::invalid_option, options, options, everywhere, fmt::format("{} entry", name));
        break;
      }
  };
  weights_violations(pw, pw_data, "pos_weight");
  weights_violations(cw, cw_data, "class_weights");
  if (o.threads == 0) p.add(K::invalid_option, options, options, everywhere, "threads");
  if (denominator_refused(o.denominator, o.reduction))
    p.add(K::invalid_option, options, options, everywhere, "denominator");
  if (!has_losses && o.reduction == sg::reduction::none)
    p.add(K::invalid_option, options, outputs, in_call, "none without per_sample");
  if (has_losses && o.reduction != sg::reduction::none)
    p.add(K::invalid_option, options, outputs, with_outputs, "per_sample without none");
  const std::size_t x_bytes = x_size * sizeof(T), y_bytes = y_size * sizeof(Y);
  const std::size_t pw_bytes = pw.values.size() * sizeof(float),
                    cw_bytes = cw.values.size() * sizeof(float);
  auto overlaps_inputs = [&](const void* out, std::size_t n, bool may_be_logits) {
    return ((!may_be_logits || out != x_ptr) && overlap(out, n, x_ptr, x_bytes)) ||
           overlap(out, n, y_ptr, y_bytes) || overlap(out, n, pw_data, pw_bytes) ||
           overlap(out, n, cw_data, cw_bytes);
  };
  const std::size_t gb = g_size * sizeof(T), lb = l_size * sizeof(T);
  if (has_grad) {
    if (grad_mismatch) p.add(K::output_mismatch, outputs, outputs, with_outputs, "grad shape");
    if (!g_ptr && g_size != 0) p.add(K::invalid_option, data, outputs, with_outputs, "null grad");
    if (!g_buf.stand_in && overlaps_inputs(g_ptr, gb, true))
      p.add(K::output_mismatch, outputs, outputs, with_outputs, "grad overlaps an input");
  }
  if (has_losses) {
    if (losses_mismatch)
      p.add(K::output_mismatch, outputs, outputs, with_outputs, "losses shape");
    if (!l_ptr && l_size != 0)
      p.add(K::invalid_option, data, outputs, with_outputs, "null losses");
    if (!l_buf.stand_in &&
        (overlaps_inputs(l_ptr, lb, false) || (has_grad && overlap(l_ptr, lb, g_ptr, gb))))
      p.add(K::output_mismatch, outputs, outputs, with_outputs, "losses overlap");
  }
  const bool values_known = !labels_mismatch && (x_ptr || x_size == 0) && (y_ptr || y_size == 0);
  if (values_known) {
    for (std::size_t i = 0; i < y_size; ++i) {
      const Y y = y_ptr[i];
      if constexpr (std::is_floating_point_v<Y>) {
        if (!(y >= Y(0) && y <= Y(1))) {
          p.add(K::invalid_probabilities, values, values, everywhere,
                fmt::format("target {} at {}", y, i));
          break;
        }
      } else if constexpr (!std::is_same_v<Y, bool>) {
        if (y != Y(0) && y != Y(1)) {
          p.add(K::label_out_of_range, values, values, everywhere,
                fmt::format("label {} at {}", +y, i));
          break;
        }
      }
    }
  }
  if (o.check_finite && x_ptr)
    for (std::size_t i = 0; i < x_n; ++i)
      if (!std::isfinite(x_ptr[i])) {
        p.add(K::non_finite, finite, finite, everywhere, "a logit");
        break;
      }
  const auto allowed_call = p.allowed(in_call), allowed_check_out = p.allowed(in_check_out),
             allowed_check = p.allowed(in_check);
  if (!values_known && allowed_call.empty()) fail("a case without values expected to succeed");

  // --- snapshots ---
  auto bytes_of = [](const void* ptr, std::size_t n) {
    return std::span<const unsigned char>{static_cast<const unsigned char*>(ptr), ptr ? n : 0};
  };
  const bool in_arena = !arena_storage.empty();
  const auto x_span = bytes_of(x_ptr, (in_arena ? x_n : x_buf.in_memory()) * sizeof(T));
  const auto y_span =
      bytes_of(y_ptr, (y_ptr == y_buf.data ? y_buf.in_memory() : y_n) * sizeof(Y));
  const auto pw_span = bytes_of(pw_data, pw_bytes), cw_span = bytes_of(cw_data, cw_bytes);
  const auto g_span = bytes_of(
      g_ptr, (in_place ? (in_arena ? x_n : x_buf.in_memory())
                       : (g_ptr == g_buf.data ? g_buf.in_memory() : g_n)) *
                 sizeof(T));
  const auto l_span =
      bytes_of(l_ptr, (l_ptr == l_buf.data ? l_buf.in_memory() : l_n) * sizeof(T));
  const std::span<const unsigned char> a_span{
      reinterpret_cast<const unsigned char*>(arena_storage.data()),
      arena_storage.size() * sizeof(T)};
  const auto x_snap = snapshot(x_span), y_snap = snapshot(y_span), pw_snap = snapshot(pw_span),
             cw_snap = snapshot(cw_span), g_snap = snapshot(g_span), l_snap = snapshot(l_span),
             a_snap = snapshot(a_span);
  auto restore = [&] {
    if (!a_snap.empty()) std::memcpy(arena_storage.data(), a_snap.data(), a_snap.size());
    if (!x_snap.empty()) std::memcpy(x_ptr, x_snap.data(), x_snap.size());
    if (!g_snap.empty()) std::memcpy(g_ptr, g_snap.data(), g_snap.size());
    if (!l_snap.empty()) std::memcpy(l_ptr, l_snap.data(), l_snap.size());
  };
  auto untouched = [&](const std::string& when) {
    FUZZ_REQUIRE(same_bytes(a_span, a_snap), "{}: the arena changed", when);
    FUZZ_REQUIRE(same_bytes(x_span, x_snap), "{}: the logits changed", when);
    FUZZ_REQUIRE(same_bytes(y_span, y_snap), "{}: the labels changed", when);
    FUZZ_REQUIRE(same_bytes(pw_span, pw_snap), "{}: pos_weight changed", when);
    FUZZ_REQUIRE(same_bytes(cw_span, cw_snap), "{}: class_weights changed", when);
    FUZZ_REQUIRE(same_bytes(g_span, g_snap), "{}: the gradient buffer was written", when);
    FUZZ_REQUIRE(same_bytes(l_span, l_snap), "{}: the per-element buffer was written", when);
  };

  // --- views ---
  const auto xv = make_view(static_cast<const T*>(x_ptr), xe);
  const auto yv = make_view(static_cast<const Y*>(y_ptr), ye);
  const auto gv = make_view(g_ptr, in_place ? xe : ge);
  const auto lv = make_view(l_ptr, le);
  // rank 1: sometimes spans instead of views (a null pointer only without elements)
  const bool spans = as_spans && (x_ptr || x_size == 0) && (y_ptr || y_size == 0) &&
                     (!has_grad || g_ptr || g_size == 0) && (!has_losses || l_ptr || l_size == 0);

  struct outcome {
    bool ok = true;
    K kind{};
    std::string message;
    T loss{};
  };
  const sg::bce_options defaults{};
  const bool default_options = o.reduction == defaults.reduction && o.pos_weight.empty() &&
                               o.class_weights.empty() && o.label_smoothing == 0.0f &&
                               o.threads == 1 && !o.check_finite && o.denominator == 0;
  auto call_with = [&](const auto& x, const auto& y, auto g, auto l,
                       const sg::bce_options& opt, bool omit_options) -> outcome {
    outcome out;
    try {
      switch (form) {
        case 0:
          if constexpr (requires { sg::sigmoid_cross_entropy(x, y); }) {
            if (omit_options) {
              out.loss = sg::sigmoid_cross_entropy(x, y);
              break;
            }
          }
          out.loss = sg::sigmoid_cross_entropy(x, y, opt);
          break;
        case 1: out.loss = sg::sigmoid_cross_entropy(x, y, g, opt); break;
        case 2: sg::sigmoid_cross_entropy(x, y, sg::per_sample(l), opt); break;
        default:
          if constexpr (requires { sg::sigmoid_cross_entropy(x, y, sg::per_sample(l), g, opt); }) {
            if (losses_first) {
              sg::sigmoid_cross_entropy(x, y, sg::per_sample(l), g, opt);
              break;
            }
          }
          sg::sigmoid_cross_entropy(x, y, g, sg::per_sample(l), opt);
          break;
      }
    } catch (const sg::shape_error& e) {
      out.ok = false;
      out.kind = e.kind();
      out.message = e.what();
    }
    return out;
  };
  auto call = [&](const sg::bce_options& opt, bool omit_options) -> outcome {
    if constexpr (R == 1) {
      if (spans)
        return call_with(std::span<const T>(x_ptr, x_size), std::span<const Y>(y_ptr, y_size),
                         std::span<T>(g_ptr, has_grad ? gv.size() : 0),
                         std::span<T>(l_ptr, has_losses ? l_size : 0), opt, omit_options);
    }
    return call_with(xv, yv, gv, lv, opt, omit_options);
  };
  // try_check of logits and labels alone; and with the call's outputs, where the API has it
  auto try_check_alone = [&]() -> sg::check_result {
    if constexpr (R == 1) {
      if (spans)
        return sg::try_check(std::span<const T>(x_ptr, x_size),
                             std::span<const Y>(y_ptr, y_size), o);
    }
    return sg::try_check(xv, yv, o);
  };
  auto try_check_outputs = [&]() -> std::optional<sg::check_result> {
    if constexpr (requires { sg::try_check(xv, yv, gv, sg::per_sample(lv), o); }) {
      switch (form) {
        case 0: return sg::try_check(xv, yv, o);
        case 1: return sg::try_check(xv, yv, gv, o);
        case 2: return sg::try_check(xv, yv, sg::per_sample(lv), o);
        default: return sg::try_check(xv, yv, gv, sg::per_sample(lv), o);
      }
    } else {
      return std::nullopt;
    }
  };

  auto weights_text = [](const weights_input& w, const float* d) -> std::string {
    if (!w.present()) return "none";
    if (!d) return fmt::format("{} entries, null data", w.values.size());
    std::string out = fmt::format("{} entries [", w.values.size());
    for (std::size_t k = 0; k < w.values.size() && k < 8; ++k)
      out += fmt::format("{}{}", k ? ", " : "", d[k]);
    return out + (w.values.size() > 8 ? ", ...]" : "]");
  };
  const std::string setting = fmt::format(
      "logits {} {} labels {} {} grad {} losses {} form {} in_place {} arena {} spans {} "
      "losses_first {} reduction {} smoothing {} pos_weight {} class_weights {} check_finite {} "
      "threads {}; predicted {}",
      xv.extents(), sizeof(T) == 4 ? "float" : "double", yv.extents(),
      std::is_same_v<Y, bool> ? "bool" : std::is_floating_point_v<Y> ? "floating" : "integer",
      has_grad ? fmt::format("{}", gv.extents()) : "-",
      has_losses ? fmt::format("{}", lv.extents()) : "-", form, in_place, in_arena, spans,
      losses_first, static_cast<int>(o.reduction), o.label_smoothing, weights_text(pw, pw_data),
      weights_text(cw, cw_data), o.check_finite, o.threads, p.text(everywhere));

  // --- the checks alone: they write nothing and raise the first violation ---
  auto hold_check = [&](const sg::check_result& r, const std::set<K>& allowed, const char* what) {
    untouched(fmt::format("after {}", what));
    if (!allowed.empty()) {
      FUZZ_REQUIRE(!r.ok(), "{} passed inputs that violate the contract (first: {}): {}", what,
                   kinds_text(allowed), setting);
      FUZZ_REQUIRE(allowed.count(r.kind()) != 0,
                   "{} raised {} but the first violation is one of {}: {}; {}", what,
                   sg::to_string(r.kind()), kinds_text(allowed), r.message(), setting);
      FUZZ_REQUIRE(!r.message().empty(), "{}: an empty message", what);
    } else {
      FUZZ_REQUIRE(r.ok(), "{} rejected valid inputs: {}: {}; {}", what,
                   sg::to_string(r.kind()), r.message(), setting);
    }
  };
  const sg::check_result alone = try_check_alone();
  hold_check(alone, allowed_check, "try_check(logits, labels, options)");
  if (!alone.ok()) ++st.by_kind[static_cast<std::size_t>(alone.kind())];
  {
    bool threw = false;
    try {
      sg::check(xv, yv, o);
    } catch (const sg::shape_error& e) {
      threw = true;
      FUZZ_REQUIRE(!alone.ok() && e.kind() == alone.kind(),
                   "check raised {} but try_check said {}: {}", sg::to_string(e.kind()),
                   alone.ok() ? "ok" : sg::to_string(alone.kind()), setting);
    }
    FUZZ_REQUIRE(threw == !alone.ok(), "check and try_check disagree: {}", setting);
    untouched("after check");
  }
  const std::optional<sg::check_result> with_out = try_check_outputs();
  if (with_out) {
    ++checked_with_outputs;
    hold_check(*with_out, allowed_check_out, "try_check with outputs");
  }

  // --- the reference, for inputs the call accepts ---
  const bool expect_error = !allowed_call.empty();
  std::vector<element_ref> ref;
  long double total = 0, total_slack = 0;
  bool total_past_double = false;
  const bool mean = o.reduction == sg::reduction::mean;
  // what the mean divides by: the caller's denominator, or the element count
  const long double den = o.denominator > 0 ? static_cast<long double>(o.denominator)
                                            : static_cast<long double>(x_size);
  std::vector<T> x_orig(x_ptr, x_ptr + (x_ptr ? x_n : 0));  // (the gradient may overwrite them)
  if (!expect_error) {
    ++st.accepted;
    const long double eps = o.label_smoothing;
    const long double n = static_cast<long double>(x_size);
    const long double scale = mean ? (den > 0 ? 1 / den : 0) : 1;
    const long double flush = 8 * static_cast<long double>(std::numeric_limits<T>::min());
    const long double dmax = static_cast<long double>(std::numeric_limits<double>::max());
    ref.resize(x_size);
    long double sum = 0, slack = 0;
    for (std::size_t e = 0; e < x_size; ++e) {
      const long double x = x_orig[e];
      const long double t = static_cast<long double>(y_ptr[e]);
      const std::size_t c = R >= 2 ? e % classes : 0;
      const long double w = cw.present() ? cw_data[c] : 1.0L;
      const long double pc = pw.present() ? pw_data[c] : 1.0L;
      // 1 - t' and t', each as a sum of non-negative terms
      const long double a = (1 - t) * (1 - eps) + eps / 2;
      const long double b = t * (1 - eps) + eps / 2;
      const long double A = w * a, B = w * pc * b;
      element_ref& r = ref[e];
      if (std::isnan(x)) {
        r.loss = r.grad = std::numeric_limits<long double>::quiet_NaN();
      } else {
        const long double sp = softplus(x), sn = softplus(-x);
        // a term whose coefficient is 0 contributes 0, also at an infinite logit
        const long double l1 = A == 0 ? 0 : A * sp, l2 = B == 0 ? 0 : B * sn;
        r.loss = l1 + l2;
        r.loss_slack = rtol<T> * (std::isinf(r.loss) ? 0 : r.loss) + (A + B) * flush + tiny<T>;
        r.past_double = a * sp > dmax || pc * b * sn > dmax || a * sp + pc * b * sn > dmax ||
                        w * (a * sp + pc * b * sn) > dmax;
        const long double s1 = sigmoid(x), s2 = sigmoid(-x);
        r.grad = scale * (A * s1 - B * s2);
        r.grad_slack = scale * (rtol<T> * (A * s1 + B * s2) + (A + B) * flush) + tiny<T>;
        r.A = A;
        r.B = B;
        r.w = w;
        r.wp = w * pc;
        r.inf_pos = std::isinf(sp);
        r.inf_neg = std::isinf(sn);
        r.loss_factor = w * ((r.inf_pos ? 0 : sp) + pc * (r.inf_neg ? 0 : sn));
        r.grad_factor = scale * w * (s1 + pc * s2);
        r.loss_denormal = 4 * ((r.inf_pos ? 0 : sp) + (r.inf_neg ? 0 : sn));
        r.grad_denormal = 4 * scale * (s1 + s2);
        r.loss_dropped = (r.inf_pos ? 0 : l1) + (r.inf_neg ? 0 : l2);
      }
      sum += r.loss;
      slack += r.loss_slack;
    }
    // the sum of the elements, in double: n roundings of double
    slack += n * 4e-16L * (std::isfinite(sum) ? sum : 0);
    total_past_double = std::isfinite(sum) && sum > dmax;
    if (mean) {
      total = den > 0 ? sum / den : 0;  // empty: 0, not NaN
      total_slack = den > 0 ? slack / den : 0;
    } else {
      total = sum;
      total_slack = slack;
    }
  }
  auto element_text = [&](std::size_t e) -> std::string {
    const std::size_t c = R >= 2 && classes ? e % classes : 0;
    return fmt::format("element {} (class {}): logit {} label {} w {} p {}", e, c, x_orig[e],
                       +y_ptr[e], cw.present() ? fmt::format("{}", cw_data[c]) : "-",
                       pw.present() ? fmt::format("{}", pw_data[c]) : "-");
  };

  // --- every instruction set ---
  std::optional<outcome> first;
  const bool omit = default_options && form == 0 && s.one_in(2);
  for (auto isa : isas()) {
    restore();
    use_isa(isa);
    const outcome out = call(o, omit);
    const std::string where = fmt::format("isa {}: {}", isa_name(isa), setting);
    if (first)
      FUZZ_REQUIRE(out.ok == first->ok && (out.ok || out.kind == first->kind),
                   "{}: the outcome depends on the instruction set", where);
    if (!out.ok) {
      FUZZ_REQUIRE(expect_error, "{}: the call rejected valid inputs: {}: {}", where,
                   sg::to_string(out.kind), out.message);
      FUZZ_REQUIRE(allowed_call.count(out.kind) != 0,
                   "{}: the call raised {} but the first violation is one of {}: {}", where,
                   sg::to_string(out.kind), kinds_text(allowed_call), out.message);
      if (with_out && p.same_in(in_call, in_check_out))
        FUZZ_REQUIRE(!with_out->ok() && with_out->kind() == out.kind,
                     "{}: the call raised {} but try_check with its outputs said {}", where,
                     sg::to_string(out.kind),
                     with_out->ok() ? "ok" : sg::to_string(with_out->kind()));
      untouched(where);
      if (!first) first = out;
      continue;
    }
    FUZZ_REQUIRE(!expect_error, "{}: the call accepted inputs that violate the contract", where);
    ++st.kernel_runs;
    FUZZ_REQUIRE(same_bytes(y_span, y_snap), "{}: the labels changed", where);
    FUZZ_REQUIRE(same_bytes(pw_span, pw_snap), "{}: pos_weight changed", where);
    FUZZ_REQUIRE(same_bytes(cw_span, cw_snap), "{}: class_weights changed", where);
    if (!(has_grad && g_ptr == x_ptr))
      FUZZ_REQUIRE(same_bytes(x_span, x_snap), "{}: the logits changed", where);
    bool nonfinite = false;
    // coefficient rounding on this set (element_ref)
    const long double u = coefficient_rounding_of<T>(isa);
    // the smallest denormal of the type the kernel forms the coefficients in
    const long double dn = isa == sg::isa::scalar || std::is_same_v<T, double>
                               ? std::numeric_limits<double>::denorm_min()
                               : std::numeric_limits<float>::denorm_min();
    auto droppable = [&](const element_ref& r) {
      return (r.inf_pos && r.A > 0 && r.A <= u * r.w + 4 * dn) ||
             (r.inf_neg && r.B > 0 && r.B <= u * r.wp + 4 * dn);
    };
    // an element's loss: strictly, with coefficient rounding, or with a tiny term left out
    auto loss_agrees = [&](T v, const element_ref& r) {
      if (agrees(v, r.loss, r.loss_slack)) return true;
      if (r.past_double && v == std::numeric_limits<T>::infinity()) return ++gap_past_double, true;
      const long double slack = r.loss_slack + u * r.loss_factor + dn * r.loss_denormal;
      if (agrees(v, r.loss, slack)) return ++coefficient_rounding, true;
      if (droppable(r) && agrees(v, r.loss_dropped, slack))
        return ++coefficient_rounding, ++coefficient_dropped, true;
      return false;
    };
    if (form <= 1) {
      bool ok = agrees(out.loss, total, total_slack) ||
                (total_past_double && out.loss == std::numeric_limits<T>::infinity() &&
                 (++gap_past_double, true));
      if (!ok) {
        long double factor = 0, dropped = 0;
        bool any_dropped = false;
        for (const auto& r : ref) {
          factor += u * r.loss_factor + dn * r.loss_denormal;
          const bool d = droppable(r);
          any_dropped |= d;
          dropped += d ? r.loss_dropped : r.loss;
        }
        const long double k = mean ? (den > 0 ? 1.0L / den : 0) : 1;
        const long double slack = total_slack + factor * k;
        if (agrees(out.loss, total, slack)) {
          ok = true;
          ++coefficient_rounding;
        } else if (any_dropped && agrees(out.loss, dropped * k, slack)) {
          ok = true;
          ++coefficient_rounding;
          ++coefficient_dropped;
        }
      }
      if (!ok) {
        // the first element that disagrees, if any, for the message
        std::string detail;
        for (std::size_t e = 0; e < x_size && e < 4; ++e) detail += "; " + element_text(e);
        fail(fmt::format("{}: loss {} but the reference is {} (+- {}){}", where, out.loss,
                         static_cast<double>(total), static_cast<double>(total_slack), detail));
      }
      nonfinite |= !std::isfinite(out.loss);
    }
    if (has_losses) {
      for (std::size_t e = 0; e < x_size; ++e) {
        const T v = l_ptr[e];
        FUZZ_REQUIRE(loss_agrees(v, ref[e]), "{}: loss of {} is {} but the reference is {} (+- {})", where,
                     element_text(e), v, static_cast<double>(ref[e].loss),
                     static_cast<double>(ref[e].loss_slack));
        nonfinite |= !std::isfinite(v);
      }
    }
    if (has_grad) {
      for (std::size_t e = 0; e < x_size; ++e)
        FUZZ_REQUIRE(agrees(g_ptr[e], ref[e].grad, ref[e].grad_slack) ||
                         (agrees(g_ptr[e], ref[e].grad,
                                 ref[e].grad_slack + u * ref[e].grad_factor +
                                     dn * ref[e].grad_denormal) &&
                          (++coefficient_rounding, true)),
                     "{}: grad of {} is {} but the reference is {} (+- {})", where,
                     element_text(e), g_ptr[e], static_cast<double>(ref[e].grad),
                     static_cast<double>(ref[e].grad_slack));
    }
    if (nonfinite) ++st.nonfinite_results;

    // threads: the result must hold with one thread too (checked above for this count); the
    // contract does not promise bitwise equality, so a difference is counted, not fatal
    if (o.threads > 1) {
      std::vector<unsigned char> g_many(g_span.size()), l_many(l_span.size());
      if (!g_many.empty()) std::memcpy(g_many.data(), g_ptr, g_many.size());
      if (!l_many.empty()) std::memcpy(l_many.data(), l_ptr, l_many.size());
      restore();
      sg::bce_options one = o;
      one.threads = 1;
      const outcome single = call(one, false);
      FUZZ_REQUIRE(single.ok, "{}: threads = 1 failed: {}", where, single.message);
      const bool same =
          (std::memcmp(&single.loss, &out.loss, sizeof(T)) == 0 ||
           (std::isnan(single.loss) && std::isnan(out.loss))) &&
          same_bytes({reinterpret_cast<const unsigned char*>(g_ptr), g_many.size()}, g_many) &&
          same_bytes({reinterpret_cast<const unsigned char*>(l_ptr), l_many.size()}, l_many);
      if (!same && thread_differences++ == 0)
        std::fprintf(stderr, "fuzz_sigmoid: results differ bitwise between %zu threads and 1: %s\n",
                     o.threads, where.c_str());
    }
    if (!first) first = out;
  }
  if (expect_error)
    FUZZ_REQUIRE(first && !first->ok, "the call accepted inputs that violate the contract: {}",
                 setting);
}

// ---------------------------------------------------------------------------------------------
// Ranks that differ: the checked calls refuse them at compile time; try_check reports
// rank_mismatch, before anything else, and reads and writes nothing.

template <class T, class Y, std::size_t R, std::size_t LR>
void run_rank_mismatch(source& s) {
  static_assert(R != LR);
  auto& st = stats();
  ++st.inputs;
  ++rank_cases;
  std::array<std::size_t, R> xe{};
  for (std::size_t a = 0; a + 1 < R; ++a) xe[a] = batch_extent(s);
  xe[R - 1] = R == 1 ? batch_extent(s) : class_extent(s);
  std::array<std::size_t, LR> ye{};
  for (std::size_t a = 0; a < LR; ++a) {
    if (a < R && !s.one_in(8)) ye[a] = xe[a];
    else if (a + 1 == LR && s.below(3) != 0) ye[a] = 1;  // [N, 1] vs [N] and the like
    else ye[a] = batch_extent(s);
  }
  if (!extents_valid(xe) || !extents_valid(ye)) {
    ++st.bad_extents;
    return;
  }
  const std::size_t x_size = *product(xe), y_size = *product(ye);
  auto x_buf = buffer<T>::make(s, std::optional(x_size), true);
  auto y_buf = buffer<Y>::make(s, std::optional(y_size), true);
  sg::bce_options o = bce_options_value(s, false);
  const std::size_t classes = R >= 2 ? xe[R - 1] : 1;
  weights_input pw = weights_value(s, classes), cw = weights_value(s, classes);
  o.pos_weight = std::span<const float>(pw.null_data ? nullptr : pw.values.data(), pw.values.size());
  o.class_weights =
      std::span<const float>(cw.null_data ? nullptr : cw.values.data(), cw.values.size());
  const regime rx = pick_regime(s);
  if (!x_buf.stand_in)
    for (std::size_t i = 0; i < x_buf.size && x_buf.data; ++i) x_buf.data[i] = logit_value<T>(s, rx);
  if (!y_buf.stand_in && y_buf.data) fill_labels(s, y_buf.data, y_buf.size);
  const auto x_span = std::span<const unsigned char>(
      reinterpret_cast<const unsigned char*>(x_buf.data), x_buf.data ? x_buf.in_memory() * sizeof(T) : 0);
  const auto y_span = std::span<const unsigned char>(
      reinterpret_cast<const unsigned char*>(y_buf.data), y_buf.data ? y_buf.in_memory() * sizeof(Y) : 0);
  const auto x_snap = snapshot(x_span), y_snap = snapshot(y_span);
  const auto xv = make_view(static_cast<const T*>(x_buf.data), xe);
  const auto yv = make_view(static_cast<const Y*>(y_buf.data), ye);
  const sg::check_result r = sg::try_check(xv, yv, o);
  const std::string setting =
      fmt::format("logits {} labels {} reduction {} smoothing {} pos_weight {} class_weights {}",
                  xv.extents(), yv.extents(), static_cast<int>(o.reduction), o.label_smoothing,
                  pw.values.size(), cw.values.size());
  FUZZ_REQUIRE(!r.ok() && r.kind() == K::rank_mismatch,
               "try_check of ranks {} and {} gave {}: {}; {}", R, LR,
               r.ok() ? "ok" : sg::to_string(r.kind()), r.message(), setting);
  FUZZ_REQUIRE(!r.message().empty(), "an empty message");
  FUZZ_REQUIRE(same_bytes(x_span, x_snap) && same_bytes(y_span, y_snap),
               "try_check changed its inputs: {}", setting);
  ++st.by_kind[static_cast<std::size_t>(r.kind())];
}

}  // namespace fuzz::bce

namespace {
using fuzz::case_fn;
using fuzz::bce::run_rank_mismatch;
using fuzz::bce::run_sigmoid;

template <class T>
constexpr case_fn cases[] = {
    // [N, C] with every label type
    &run_sigmoid<T, float, 2>,
    &run_sigmoid<T, double, 2>,
    &run_sigmoid<T, bool, 2>,
    &run_sigmoid<T, std::int8_t, 2>,
    &run_sigmoid<T, std::uint8_t, 2>,
    &run_sigmoid<T, std::int16_t, 2>,
    &run_sigmoid<T, std::uint16_t, 2>,
    &run_sigmoid<T, std::int32_t, 2>,
    &run_sigmoid<T, std::uint32_t, 2>,
    &run_sigmoid<T, std::int64_t, 2>,
    &run_sigmoid<T, std::uint64_t, 2>,
    // [N]: N samples of one class
    &run_sigmoid<T, T, 1>,
    &run_sigmoid<T, bool, 1>,
    &run_sigmoid<T, std::int32_t, 1>,
    &run_sigmoid<T, std::uint8_t, 1>,
    // [N, H, C]
    &run_sigmoid<T, T, 3>,
    &run_sigmoid<T, float, 3>,
    &run_sigmoid<T, std::uint8_t, 3>,
    &run_sigmoid<T, std::int64_t, 3>,
    &run_sigmoid<T, bool, 3>,
    // ranks that differ (try_check only)
    &run_rank_mismatch<T, float, 2, 1>,
    &run_rank_mismatch<T, std::int64_t, 2, 1>,
    &run_rank_mismatch<T, T, 1, 2>,
    &run_rank_mismatch<T, bool, 3, 2>,
    &run_rank_mismatch<T, std::uint8_t, 2, 3>,
    &run_rank_mismatch<T, float, 1, 3>,
};
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init_stats();
  if (std::getenv("SHAPEGUARD_FUZZ_STATS")) std::atexit(&fuzz::bce::print_bce_stats);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::run_case(data, size, cases<float>, cases<double>);
  return 0;
}
