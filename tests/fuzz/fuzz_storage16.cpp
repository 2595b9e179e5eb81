// Fuzz target: the softmax loss on 16-bit storage (sg::bfloat16, sg::float16) against the float
// path on the same values, on every instruction set. The input decodes a small problem: up to 6
// rows of 0 to 70 classes, logits as raw 16-bit patterns (NaN, infinities, subnormals, huge
// values) or moderate values, class indices (some ignored, some out of range) or per-class
// targets of H or of float (raw, or valid probability and one-hot rows), the options and a call
// form (loss, gradient, in place, per-sample losses, predictions), and last the soft cap (0 when
// the input ends before it; both calls cap the same values, float(h), the same way, so what
// follows holds with it as without). The call on H logits and H
// targets is repeated on float logits, float(h) each, with the same labels, and must:
//   - have the same outcome: both return, or both throw shape_error of the same kind and text;
//   - on failure write nothing (every output buffer keeps its sentinels);
//   - on success return the float loss within 2e-5 relative, each gradient entry and per-sample
//     loss within half an ulp of H of the float path's (one rounding, see agrees), and the float
//     path's predictions and count exactly;
//   - never write past an output's end (each buffer has one sentinel element more).
// The float call keeps 16-bit targets as H (the checks give a 16-bit row a sum tolerance of C
// epsilons of H); a third call with those targets in float must then give the second call's
// bits, or refuse the row's sum (float's tighter tolerance).
#include <numeric>

#include "fuzz_common.hpp"

namespace {
namespace sg = shapeguard;
using fuzz::source;

template <class H>
struct traits16;
template <>
struct traits16<sg::bfloat16> {
  static constexpr int fraction_bits = 7;
  static constexpr double min_normal = 0x1p-126;
  static constexpr double overflow = 0x1.fep127;  // the largest finite value plus half its ulp
  static constexpr std::uint16_t sentinel = 0x7f9a;  // a signaling NaN, which no kernel writes
  static constexpr const char* name = "bfloat16";
};
template <>
struct traits16<sg::float16> {
  static constexpr int fraction_bits = 10;
  static constexpr double min_normal = 0x1p-14;
  static constexpr double overflow = 65520.0;  // 65504 + 16: rounds to infinity (ties to even)
  static constexpr std::uint16_t sentinel = 0x7d5a;
  static constexpr const char* name = "float16";
};

/// The spacing of H at |v| (the subnormals' below H's smallest normal).
template <class H>
auto ulp(double v) -> double {
  using T = traits16<H>;
  v = std::fabs(v);
  if (v < T::min_normal) return std::ldexp(T::min_normal, -T::fraction_bits);
  int e = 0;
  (void)std::frexp(v, &e);
  return std::ldexp(1.0, e - 1 - T::fraction_bits);
}

// What the comparisons saw, printed at exit with SHAPEGUARD_FUZZ_STATS (per instruction set).
struct {
  std::uint64_t inputs = 0, accepted = 0, capped = 0, predictions = 0, grad_entries = 0,
                to_inf = 0, losses_differing = 0;
  double worst_grad_ulps = 0, worst_loss_relative = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(sg::error_kind::single_class) + 1> refused{};
} tally;

/// Whether h, a 16-bit output read as float, is within half an ulp of H of gf, the float
/// path's output. Both calls form each value in float or double from the same values and round
/// it once: the float call to float (gf), the 16-bit call to H either from gf itself (float
/// lanes, tiles) or from the same double d as gf (the scalar kernels, a long row's target entry,
/// per-sample losses). Rounding gf to H is within 0.5 ulp_H(gf). Rounding d to H is too, with
/// no extra slack: H's values and the midpoints between them are floats, so for d between two
/// neighbours a < a + u of H, gf = round_float(d) stays on d's side of the midpoint (rounding is
/// monotone), where H's rounding of d lies, and |h - gf| <= u / 2 <= 0.5 ulp_H(gf) (gf is in
/// d's binade or above it). This holds among the subnormals too, and at the top: `overflow`,
/// H's largest finite value plus half its ulp, is a float; a finite gf at or beyond it must give
/// H's infinity of its sign (d >= overflow implies gf >= overflow), and only gf == overflow
/// exactly (d just below it) may give the largest finite value, which the bound admits. A
/// truncation, or any error beyond the one rounding, exceeds the bound.
template <class H>
auto agrees(float h, float gf) -> bool {
  if (std::isnan(gf)) return std::isnan(h);
  if (std::isnan(h)) return false;
  if (std::isinf(gf)) return h == gf;
  if (std::isinf(h)) {
    ++tally.to_inf;
    return (h > 0) == (gf > 0) && std::fabs(double(gf)) >= traits16<H>::overflow;
  }
  return std::fabs(double(h) - double(gf)) <= 0.5 * ulp<H>(gf);
}

template <class X>
auto sentinel() -> X {
  if constexpr (std::is_same_v<X, float>)
    return std::bit_cast<float>(0x7fa5a5a5u);  // a signaling NaN
  else
    return X::from_bits(traits16<X>::sentinel);
}

enum class labels_kind { indices, probabilities16, probabilities32, one_hot16, one_hot32 };

template <class H>
struct problem {
  std::size_t rows = 0, classes = 0;
  std::vector<H> x16;
  std::vector<float> xf;  // float(x16[k]), exact
  std::vector<std::int64_t> y;
  std::vector<H> t16;     // targets of H
  std::vector<float> tf;  // float(t16[k]), or the float targets
  std::vector<float> weights;
  sg::ce_options o;
  // 0 loss, 1 loss + predictions, 2 gradient, 3 gradient + predictions, 4 per-sample losses,
  // 5 per-sample losses + gradient, 6 per-sample losses + predictions
  int form = 0;
  bool in_place = false;
  bool count = false;  // predictions with the count of rows predicted right
  auto grad() const -> bool { return form == 2 || form == 3 || form == 5; }
  auto losses() const -> bool { return form >= 4; }
  auto pred() const -> bool { return form == 1 || form == 3 || form == 6; }
};

/// One call's buffers, each one element longer than the call's view of it.
template <class X>
struct buffers {
  std::vector<X> x, g, l;
  std::vector<std::int64_t> pred;
  std::size_t correct = 99;
  std::vector<unsigned char> g0, l0;  // the bytes before the call
  buffers(const std::vector<X>& logits, std::size_t rows, bool in_place)
      : x(logits), g(in_place ? logits : std::vector<X>(logits.size() - 1, sentinel<X>())),
        l(rows + 1, sentinel<X>()), pred(rows + 1, -7) {
    if (!in_place) g.push_back(sentinel<X>());
    g0 = bytes(g);
    l0 = bytes(l);
  }
  /// Whether a and b hold the same values: the same bits, or NaN in both. Which NaN an
  /// operation on two NaNs returns depends on the order of its operands, which the compiler
  /// may swap (a call on 16-bit targets and one on float gave 0xffff0000 and 0x7fc00000 for a
  /// row of NaN logits when the harness was compiled at -O0, the same bits at -O1).
  static auto same_values(const std::vector<X>& a, const std::vector<X>& b) -> bool {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k) {
      const float x = float(a[k]), y = float(b[k]);
      if (std::memcmp(&a[k], &b[k], sizeof(X)) != 0 && !(std::isnan(x) && std::isnan(y)))
        return false;
    }
    return true;
  }
  static auto bytes(const std::vector<X>& v) -> std::vector<unsigned char> {
    const auto* p = reinterpret_cast<const unsigned char*>(v.data());
    return {p, p + v.size() * sizeof(X)};
  }
  /// Whether the call left the output buffers it was not given (all of them if `failed`), and
  /// the last element of each, as they were.
  auto untouched(bool grad, bool losses, bool pred_given, bool count, bool failed) const -> bool {
    auto same = [](const std::vector<unsigned char>& now, const std::vector<unsigned char>& was,
                   bool whole) {
      const std::size_t from = whole ? 0 : now.size() - sizeof(X);
      return std::memcmp(now.data() + from, was.data() + from, now.size() - from) == 0;
    };
    bool ok = same(bytes(g), g0, failed || !grad) && same(bytes(l), l0, failed || !losses);
    for (std::size_t i = 0; i < pred.size(); ++i)
      ok &= pred[i] == -7 || (!failed && pred_given && i + 1 < pred.size());
    return ok && (correct == 99 || (!failed && pred_given && count));
  }
};

struct outcome {
  bool ok = false;
  sg::error_kind kind{};
  std::string message;
  float loss = std::numeric_limits<float>::quiet_NaN();
};

template <class X, class Labels, class H>
auto call(const Labels& y, buffers<X>& b, const problem<H>& p) -> outcome {
  const std::size_t N = p.rows, C = p.classes;
  const sg::tensor_view<const X, sg::dims<2>> x(p.in_place ? b.g.data() : b.x.data(), N, C);
  const sg::tensor_view<X, sg::dims<2>> g(b.g.data(), N, C);
  const auto l = sg::per_sample(sg::tensor_view<X, sg::dims<1>>(b.l.data(), N));
  auto pr = sg::predictions(sg::tensor_view<std::int64_t, sg::dims<1>>(b.pred.data(), N),
                            b.correct);
  if (!p.count) pr.correct = nullptr;
  const sg::ce_options& o = p.o;
  outcome r;
  try {
    switch (p.form) {
      case 0: r.loss = sg::softmax_cross_entropy(x, y, o); break;
      case 1: r.loss = sg::softmax_cross_entropy(x, y, pr, o); break;
      case 2: r.loss = sg::softmax_cross_entropy(x, y, g, o); break;
      case 3: r.loss = sg::softmax_cross_entropy(x, y, g, pr, o); break;
      case 4: sg::softmax_cross_entropy(x, y, l, o); break;
      case 5: sg::softmax_cross_entropy(x, y, l, g, o); break;
      default: sg::softmax_cross_entropy(x, y, l, pr, o); break;
    }
    r.ok = true;
  } catch (const sg::shape_error& e) {
    r.kind = e.kind();
    r.message = e.what();
  }
  return r;
}

template <class H, class L16, class L32, class LC>
void compare(const problem<H>& p, const L16& y16, const L32& y32, const LC& yc) {
  const std::size_t N = p.rows, C = p.classes;
  const std::string setting =
      fmt::format("{} [{}, {}], form {}{}, reduction {}, smoothing {}, {} weights, z {}, cap {}",
                  traits16<H>::name, N, C, p.form, p.in_place ? " in place" : "",
                  sg::to_string(p.o.reduction), p.o.label_smoothing, p.weights.size(), p.o.z_loss,
                  p.o.soft_cap);
  for (auto isa : fuzz::isas()) {
    fuzz::use_isa(isa);
    buffers<H> bh(p.x16, N, p.in_place);
    buffers<float> bf(p.xf, N, p.in_place);
    const outcome h = call(y16, bh, p), f = call(y32, bf, p);
    const std::string where = fuzz::isa_name(isa) + ": " + setting;
    FUZZ_REQUIRE(h.ok == f.ok, "{}: 16-bit {}, float {}", where, h.ok ? "ok" : h.message,
                 f.ok ? "ok" : f.message);
    FUZZ_REQUIRE(h.ok || (h.kind == f.kind && h.message == f.message),
                 "{}: 16-bit {}: {}; float {}: {}", where, sg::to_string(h.kind), h.message,
                 sg::to_string(f.kind), f.message);
    FUZZ_REQUIRE(bh.untouched(p.grad(), p.losses(), p.pred(), p.count, !h.ok),
                 "{}: the 16-bit call wrote where it must not", where);
    FUZZ_REQUIRE(bf.untouched(p.grad(), p.losses(), p.pred(), p.count, !f.ok),
                 "{}: the float call wrote where it must not", where);
    FUZZ_REQUIRE(
        p.in_place || (bh.bytes(bh.x) == bh.bytes(p.x16) && bf.bytes(bf.x) == bf.bytes(p.xf)),
        "{}: the logits changed", where);
    if (!h.ok) {
      ++tally.refused[static_cast<std::size_t>(h.kind)];
    } else {
      ++tally.accepted;
      if (p.o.soft_cap > 0) ++tally.capped;
      if (p.form <= 3) {
        const double lh = h.loss, lf = f.loss;
        const bool same = std::isnan(lf) ? std::isnan(lh)
                          : std::isinf(lf) || std::isinf(lh)
                              ? lh == lf
                              : std::fabs(lh - lf) <= 2e-5 * std::fabs(lf) + 1e-30;
        FUZZ_REQUIRE(same, "{}: loss {} in 16 bits, {} in float", where, h.loss, f.loss);
        if (std::isfinite(lf) && lh != lf) {
          ++tally.losses_differing;
          tally.worst_loss_relative =
              std::max(tally.worst_loss_relative, std::fabs(lh - lf) / std::fabs(lf));
        }
      }
      for (std::size_t k = 0; p.grad() && k < N * C; ++k) {
        const float gh = bh.g[k], gf = bf.g[k];
        FUZZ_REQUIRE(agrees<H>(gh, gf),
                     "{}: grad[{}] (row {}, class {}) is {} in 16 bits ({:#06x}), {} in float "
                     "(bound {})",
                     where, k, k / C, k % C, gh, bh.g[k].bits, gf, 0.5 * ulp<H>(gf));
        if (std::isfinite(gf) && std::isfinite(gh)) {
          ++tally.grad_entries;
          tally.worst_grad_ulps =
              std::max(tally.worst_grad_ulps, std::fabs(double(gh) - double(gf)) / ulp<H>(gf));
        }
      }
      for (std::size_t i = 0; p.losses() && i < N; ++i)
        FUZZ_REQUIRE(agrees<H>(bh.l[i], bf.l[i]),
                     "{}: per-sample loss {} is {} in 16 bits, {} in float", where, i,
                     float(bh.l[i]), bf.l[i]);
      if (p.pred()) {
        FUZZ_REQUIRE(bh.pred == bf.pred && bh.correct == bf.correct,
                     "{}: predictions differ (16 bits count {}, float {})", where, bh.correct,
                     bf.correct);
        ++tally.predictions;
      }
    }
    // 16-bit targets passed as their float values to the float call: the same bits, unless
    // float's tolerance refuses a row's sum
    if constexpr (!std::is_same_v<LC, std::nullptr_t>) {
      buffers<float> bc(p.xf, N, p.in_place);
      const outcome c = call(yc, bc, p);
      const bool sum_refused = !c.ok && c.kind == sg::error_kind::invalid_probabilities;
      FUZZ_REQUIRE(bc.untouched(p.grad(), p.losses(), p.pred(), p.count, !c.ok),
                   "{}: the call on float targets wrote where it must not", where);
      if (f.ok) {
        FUZZ_REQUIRE(sum_refused || c.ok, "{}: float targets refused: {}", where, c.message);
        FUZZ_REQUIRE(
            !c.ok || ((std::memcmp(&c.loss, &f.loss, sizeof(float)) == 0 ||
                       (std::isnan(c.loss) && std::isnan(f.loss))) &&
                      buffers<float>::same_values(bc.g, bf.g) &&
                      buffers<float>::same_values(bc.l, bf.l) &&
                      bc.pred == bf.pred && bc.correct == bf.correct),
            "{}: the targets as float give other results (loss {} against {})", where, c.loss,
            f.loss);
      } else {
        FUZZ_REQUIRE(sum_refused || (!c.ok && c.kind == f.kind && c.message == f.message),
                     "{}: targets of H: {}; as float: {}", where, f.message,
                     c.ok ? "ok" : c.message);
      }
    }
  }
}

/// A valid row: one-hot at a class, or byte-weighted probabilities rounded to U with each
/// rounding error carried into the next entry, largest first (the row sums to 1 within half a
/// spacing of its smallest entry).
template <class U>
void valid_row(source& s, U* out, std::size_t C, bool one_hot) {
  if (C == 0) return;
  std::vector<double> w(C, 0.0);
  double sum = 0;
  if (one_hot) {
    w[s.below(C)] = 1.0;
    sum = 1.0;
  }
  for (std::size_t c = 0; !one_hot && c < C; ++c) {
    const std::uint8_t b = s.byte();
    w[c] = b < 64 ? 0.0 : double(b);
    sum += w[c];
  }
  if (sum == 0) sum = w[0] = 1.0;
  std::vector<std::size_t> order(C);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return w[a] > w[b]; });
  double carry = 0;
  for (std::size_t c : order) {
    const double want = w[c] / sum;
    out[c] = U(want == 0 ? 0.0 : std::max(want + carry, 0.0));
    carry += want - double(float(out[c]));
  }
}

template <class U>
auto raw_value(source& s) -> U {
  if constexpr (std::is_same_v<U, float>)
    return std::bit_cast<float>(s.u32());
  else
    return U::from_bits(s.u16());
}

template <class U>
void fill_targets(source& s, std::vector<U>& t, std::size_t N, std::size_t C, bool one_hot) {
  t.assign(N * C + 1, U(0.0f));
  const std::uint8_t mode = s.byte();  // < 100 valid, < 140 raw, else valid with raw entries
  for (std::size_t i = 0; i < N; ++i) {
    if (mode < 100 || mode >= 140) valid_row(s, t.data() + i * C, C, one_hot || s.byte() < 96);
    for (std::size_t c = 0; c < C; ++c)
      if ((mode >= 100 && mode < 140) || (mode >= 140 && s.one_in(16)))
        t[i * C + c] = raw_value<U>(s);
  }
}

template <class H>
void run(source& s, labels_kind kind) {
  static const std::size_t edges[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                                      13, 14, 15, 16, 17, 31, 32, 33, 63, 64, 65, 70};
  problem<H> p;
  p.rows = s.below(7);
  const std::uint8_t cb = s.byte();
  p.classes = cb < 160 ? edges[std::size_t{cb} % std::size(edges)] : std::size_t{cb} % 71;
  const std::size_t N = p.rows, C = p.classes;
  p.form = static_cast<int>(s.below(7));
  p.in_place = p.grad() && s.one_in(4);
  // the count needs a class per row: refused for probability rows
  const bool by_class =
      kind != labels_kind::probabilities16 && kind != labels_kind::probabilities32;
  p.count = p.pred() && s.byte() < (by_class ? 224 : 16);
  sg::ce_options& o = p.o;
  const std::uint8_t rb = s.byte();  // mostly the reduction the form needs
  o.reduction = rb >= 240 ? static_cast<sg::reduction>(rb % 3)
                : p.losses() ? sg::reduction::none
                             : (rb % 2 ? sg::reduction::mean : sg::reduction::sum);
  const std::uint8_t sb = s.byte();
  o.label_smoothing = sb < 160 ? 0.0f : sb < 200 ? 0.1f : sb < 250 ? float(s.byte()) / 255.0f
                                                        : s.pick({-0.1f, 1.5f, NAN});
  const std::uint8_t wb = s.byte();
  if (wb >= 170) {
    p.weights.resize(C);
    for (auto& w : p.weights) {
      const std::uint8_t b = s.byte();
      w = b < 24 ? 0.0f : float(b) / 64.0f;
    }
    if (wb >= 245 && C > 0) p.weights[s.below(C)] = s.pick({-1.0f, -0.0f, NAN, INFINITY});
    o.class_weights = p.weights;
  }
  const std::uint8_t zb = s.byte();
  o.z_loss = zb < 170 ? 0.0 : zb < 210 ? 1e-4 : zb < 250 ? double(s.byte()) / 4096.0 : -1e-4;
  if (s.byte() >= (kind == labels_kind::indices ? 180 : 250)) {
    const std::int64_t c = static_cast<std::int64_t>(C);
    o.ignore_index = s.pick({std::int64_t{0}, std::int64_t{-1}, c - 1, c, std::int64_t{3}});
  }
  o.check_finite = s.byte() < 20;
  if (s.byte() < 8) o.denominator = 3.0;
  // the soft cap is read after the labels (soft_cap below), so that the logits keep their
  // place in the input
  auto soft_cap = [&] { o.soft_cap = fuzz::soft_cap_value(s); };

  // logits: raw bits, moderate values (k / 8, |k| <= 128), or moderate with raw ones
  const std::uint8_t lb = s.byte();
  p.x16.resize(N * C + 1, sentinel<H>());
  for (std::size_t k = 0; k < N * C; ++k) {
    const bool raw = lb < 100 || (lb >= 200 && s.one_in(8));
    p.x16[k] = raw ? H::from_bits(s.u16()) : H(float(static_cast<std::int8_t>(s.byte())) / 8.0f);
  }
  for (const H& v : p.x16) p.xf.push_back(float(v));
  p.xf.back() = sentinel<float>();

  auto with_targets16 = [&](bool one_hot) {
    fill_targets(s, p.t16, N, C, one_hot);
    for (const H& v : p.t16) p.tf.push_back(float(v));
    return std::pair(sg::tensor_view<const H, sg::dims<2>>(p.t16.data(), N, C),
                     sg::tensor_view<const float, sg::dims<2>>(p.tf.data(), N, C));
  };
  switch (kind) {
    case labels_kind::indices: {
      p.y.resize(N + 1, 0);
      for (std::size_t i = 0; i < N; ++i) {
        const std::uint8_t b = s.byte();
        const std::int64_t c = static_cast<std::int64_t>(C);
        p.y[i] = b < 200 ? (C == 0 ? 0 : static_cast<std::int64_t>(std::size_t{b} % C))
                 : b < 225 ? o.ignore_index
                           : s.pick({c, c + 1, std::int64_t{-1}, std::int64_t{-100},
                                     std::numeric_limits<std::int64_t>::max(),
                                     std::numeric_limits<std::int64_t>::min()});
      }
      const sg::tensor_view<const std::int64_t, sg::dims<1>> y(p.y.data(), N);
      soft_cap();
      compare(p, y, y, nullptr);
      break;
    }
    case labels_kind::probabilities16: {
      const auto [h, f] = with_targets16(false);
      soft_cap();
      compare(p, h, h, f);
      break;
    }
    case labels_kind::one_hot16: {
      const auto [h, f] = with_targets16(true);
      soft_cap();
      compare(p, sg::one_hot(h), sg::one_hot(h), sg::one_hot(f));
      break;
    }
    case labels_kind::probabilities32:
    case labels_kind::one_hot32: {
      const bool one_hot = kind == labels_kind::one_hot32;
      fill_targets(s, p.tf, N, C, one_hot);
      soft_cap();
      const sg::tensor_view<const float, sg::dims<2>> f(p.tf.data(), N, C);
      if (one_hot)
        compare(p, sg::one_hot(f), sg::one_hot(f), nullptr);
      else
        compare(p, f, f, nullptr);
      break;
    }
  }
}

void print_tally() {
  auto& t = tally;
  std::fprintf(stderr,
               "fuzz_storage16: inputs %llu; calls per instruction set accepted %llu (soft-capped "
               "%llu), predictions compared %llu; finite gradient entries compared %llu, the "
               "largest error %.3g ulps of H; outputs infinite from a finite float %llu; losses "
               "not bit-identical %llu (the largest relative difference %.3g); refused:",
               (unsigned long long)t.inputs, (unsigned long long)t.accepted,
               (unsigned long long)t.capped, (unsigned long long)t.predictions,
               (unsigned long long)t.grad_entries, t.worst_grad_ulps, (unsigned long long)t.to_inf,
               (unsigned long long)t.losses_differing, t.worst_loss_relative);
  for (std::size_t k = 0; k < t.refused.size(); ++k)
    std::fprintf(stderr, " %s %llu", sg::to_string(static_cast<sg::error_kind>(k)).data(),
                 (unsigned long long)t.refused[k]);
  std::fprintf(stderr, "\n");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (std::getenv("SHAPEGUARD_FUZZ_STATS")) std::atexit(&print_tally);
  return 0;
}

// The first byte: bit 0 picks float16 (set) or bfloat16, the rest the labels (class indices
// twice as often as each kind of per-class targets).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  source s(data, size);
  ++tally.inputs;
  const std::uint8_t head = s.byte();
  static const labels_kind kinds[] = {labels_kind::indices,         labels_kind::indices,
                                      labels_kind::probabilities16, labels_kind::probabilities32,
                                      labels_kind::one_hot16,       labels_kind::one_hot32};
  const labels_kind kind = kinds[(head >> 1) % 6];
  if (head & 1)
    run<sg::float16>(s, kind);
  else
    run<sg::bfloat16>(s, kind);
  return 0;
}
