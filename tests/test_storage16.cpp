// 16-bit storage in the softmax loss: sg::bfloat16 and sg::float16 logits, gradients,
// per-sample losses and targets against the float path on the same rounded values. Each call
// on 16-bit logits is repeated on their float copies (float(h), exact), with the same labels
// (16-bit targets as their floats), options and call form, and
//   - the loss (float in both) agrees to 2e-5 relative,
//   - each gradient entry is within one 16-bit rounding of the float path's:
//       |float(g16) - gf| <= 0.5 ulp_H(gf) + 1e-6 |gf| + 1e-30,
//     ulp_H(v) the spacing of H at |v| (subnormals included); a gradient truncated instead of
//     rounded, or rounded twice, exceeds it, and the test checks that the bound refuses the
//     truncation of the float gradient for some entries,
//   - per-sample losses (in H) agree to 0.5 ulp_H + 2e-5 relative,
//   - predictions are the float path's exactly (the same values have the same argmax).
// Class counts 2 to 40, 63 to 65, 1000 and 8191 to 8193, 33000 hit every vector tail, the
// one-register rows, the blocked rows (one block and several) of each instruction set; CTest
// runs the program once per set (force_isa). Labels: class indices (some rows ignored), one-hot
// and probability rows of H and of float, unwrapped H rows. Options: none, smoothing, class
// weights, z-loss, sum, none with per-sample losses, in place, two threads. Then the
// compile-time pairs, a case worked by hand, and the checks on 16-bit inputs.
#include <shapeguard/shapeguard.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

namespace sg = shapeguard;

namespace {

template <class T>
using matrix = sg::tensor_view<const T, sg::extents<sg::dyn, sg::dyn>>;
template <class T>
using mutable_matrix = sg::tensor_view<T, sg::extents<sg::dyn, sg::dyn>>;

template <class H>
constexpr bool is_bfloat16 = std::is_same_v<H, sg::bfloat16>;

template <class H>
auto type_name() -> const char* {
  return is_bfloat16<H> ? "bfloat16" : "float16";
}

/// The spacing of H at |v|: 2^(e - fraction bits) for |v| in [2^e, 2^(e+1)), and the subnormals'
/// spacing below the smallest normal (bfloat16 2^-133, float16 2^-24).
template <class H>
auto ulp(double v) -> double {
  constexpr double smallest_normal = is_bfloat16<H> ? 0x1p-126 : 0x1p-14;
  constexpr int fraction_bits = is_bfloat16<H> ? 7 : 10;
  v = std::fabs(v);
  if (v < smallest_normal) return std::ldexp(smallest_normal, -fraction_bits);
  int e = 0;
  (void)std::frexp(v, &e);  // v = m 2^e with m in [0.5, 1)
  return std::ldexp(1.0, e - 1 - fraction_bits);
}

/// One 16-bit rounding of the float path's gradient entry gf, with float's slack.
template <class H>
auto grad_bound(double gf) -> double {
  return 0.5 * ulp<H>(gf) + 1e-6 * std::fabs(gf) + 1e-30;
}

/// v rounded toward zero to H (what a kernel that truncated would store).
template <class H>
auto truncated(float v) -> H {
  H h(v);
  if (std::fabs(float(h)) > std::fabs(v) && (h.bits & 0x7fffu) != 0)
    h = H::from_bits(std::uint16_t(h.bits - 1u));
  return h;
}

/// What the comparisons saw, per type, over the whole run.
template <class H>
struct stats {
  static inline double worst_ulps = 0;               // largest |g16 - gf| / ulp_H(gf)
  static inline std::size_t entries = 0;             // gradient entries compared
  static inline std::size_t outside = 0;             // entries outside the bound
  static inline std::size_t truncations_refused = 0;  // entries whose truncation fails the bound
};

enum class labels_kind { index, one_hot_h, one_hot_f, probabilities_h, probabilities_f, unwrapped_h };

auto to_string(labels_kind k) -> const char* {
  switch (k) {
    case labels_kind::index: return "class indices";
    case labels_kind::one_hot_h: return "one-hot rows of H";
    case labels_kind::one_hot_f: return "one-hot rows of float";
    case labels_kind::probabilities_h: return "probability rows of H";
    case labels_kind::probabilities_f: return "probability rows of float";
    case labels_kind::unwrapped_h: return "unwrapped rows of H";
  }
  return "?";
}

constexpr labels_kind all_kinds[] = {labels_kind::index,           labels_kind::one_hot_h,
                                     labels_kind::one_hot_f,       labels_kind::probabilities_h,
                                     labels_kind::probabilities_f, labels_kind::unwrapped_h};

/// The call forms: which outputs a call passes.
enum class form {
  grad_pred,    // gradient and predictions
  loss_pred,    // forward only, predictions
  grad_losses,  // gradient and per-sample losses
  losses_pred,  // per-sample losses and predictions
  in_place,     // the gradient over the logits' buffer, predictions
};

auto to_string(form f) -> const char* {
  switch (f) {
    case form::grad_pred: return "gradient + predictions";
    case form::loss_pred: return "loss + predictions";
    case form::grad_losses: return "gradient + per-sample losses";
    case form::losses_pred: return "per-sample losses + predictions";
    case form::in_place: return "in place + predictions";
  }
  return "?";
}

constexpr bool has_loss(form f) { return f != form::grad_losses && f != form::losses_pred; }
constexpr bool has_grad(form f) {
  return f == form::grad_pred || f == form::grad_losses || f == form::in_place;
}
constexpr bool has_losses(form f) { return f == form::grad_losses || f == form::losses_pred; }
constexpr bool has_pred(form f) { return f != form::grad_losses; }

constexpr std::int64_t ignored = -100;  // ce_options' default ignore_index

/// Rows of one call, as H and as the same values in float.
template <class H>
struct problem {
  std::size_t N = 0, C = 0;
  std::vector<H> x16;
  std::vector<float> xf;                 // float(x16), exact
  std::vector<std::int64_t> y;           // class indices; one-hot rows are hot there
  std::vector<H> t16;                    // per-class rows of H (the _h kinds)
  std::vector<float> tf;                 // the same rows in float, or the float rows (_f kinds)
};

/// p (non-negative, summing to 1 in double) rounded to U with each rounding error carried into
/// the next entry, largest first, so that the rounded row sums to 1 within about half a spacing
/// of its smallest entries (a float row within float's tolerance of the checks, 1e-4 + C 2^-23,
/// whichever type it is stored in). Zeros stay zero.
template <class U>
void round_row(const std::vector<double>& p, U* out) {
  std::vector<std::size_t> order(p.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return p[a] > p[b]; });
  double carry = 0;
  for (std::size_t c : order) {
    if (p[c] == 0) {
      out[c] = U(0.0f);
      continue;
    }
    const double want = std::max(p[c] + carry, 0.0);
    out[c] = U(want);
    carry = p[c] + carry - double(float(out[c]));
  }
}

/// Random rows: logits normal with sd 3, some rows with a large spread (sd 120) or shifted by
/// 200, and where no target weight falls on them (no smoothing, target 0) some -inf entries.
/// Class indices at random, every fourth row ignored; probability rows from exp of normals,
/// some with zeros.
template <class H>
auto make_problem(std::size_t N, std::size_t C, labels_kind kind, bool allow_inf,
                  std::uint64_t seed) -> problem<H> {
  std::mt19937_64 rng(seed * 1000003u + C * 7919u + N);
  std::normal_distribution<double> normal(0.0, 1.0);
  problem<H> p;
  p.N = N;
  p.C = C;
  p.y.resize(N);
  for (std::size_t i = 0; i < N; ++i) {
    p.y[i] = std::int64_t(rng() % C);
    if (kind == labels_kind::index && i % 4 == 3) p.y[i] = ignored;
  }
  const bool dense = kind != labels_kind::index;
  const bool one_hot = kind == labels_kind::one_hot_h || kind == labels_kind::one_hot_f;
  const bool rows_of_h = kind == labels_kind::one_hot_h || kind == labels_kind::probabilities_h ||
                         kind == labels_kind::unwrapped_h;
  auto row_type = [&](std::size_t i) { return (i + C) % 5; };  // 2: spread, 4: -inf or shift
  // a target of 0 at classes c % 3 == 1 in rows of type 4 and odd rows
  auto zero_target = [&](std::size_t i, std::size_t c) {
    return (row_type(i) == 4 || i % 2 == 1) && c % 3 == 1;
  };
  if (dense) {
    p.tf.assign(N * C, 0.0f);
    if (rows_of_h) p.t16.assign(N * C, H(0.0f));
    std::vector<double> row(C);
    for (std::size_t i = 0; i < N; ++i) {
      if (one_hot) {
        std::fill(row.begin(), row.end(), 0.0);
        row[std::size_t(p.y[i])] = 1.0;
      } else {
        double sum = 0;
        for (std::size_t c = 0; c < C; ++c) {
          row[c] = zero_target(i, c) ? 0.0 : std::exp(1.5 * normal(rng));
          sum += row[c];
        }
        for (auto& v : row) v /= sum;
      }
      if (rows_of_h) {
        round_row(row, p.t16.data() + i * C);
        for (std::size_t c = 0; c < C; ++c) p.tf[i * C + c] = float(p.t16[i * C + c]);
      } else {
        round_row(row, p.tf.data() + i * C);
      }
      double total = 0;
      for (std::size_t c = 0; c < C; ++c) total += double(p.tf[i * C + c]);
      INFO("row " << i << " of " << C << " classes sums to " << total);
      REQUIRE(std::fabs(total - 1.0) <= 1e-5);
    }
  }
  // where a -inf logit has target weight 0
  auto may_be_minus_inf = [&](std::size_t i, std::size_t c) {
    if (!allow_inf || c % 2 != 0 || c % 3 != 1) return false;
    if (kind == labels_kind::index || one_hot) return p.y[i] != std::int64_t(c);
    return zero_target(i, c);
  };
  p.x16.resize(N * C);
  for (std::size_t i = 0; i < N; ++i) {
    const std::size_t type = row_type(i);
    const double sd = type == 2 ? 120.0 : 3.0;
    const double shift = type == 4 && !allow_inf ? 200.0 : 0.0;
    for (std::size_t c = 0; c < C; ++c) {
      const double v = type == 4 && may_be_minus_inf(i, c)
                           ? -std::numeric_limits<double>::infinity()
                           : shift + sd * normal(rng);
      p.x16[i * C + c] = H(v);
    }
  }
  p.xf.resize(N * C);
  for (std::size_t k = 0; k < N * C; ++k) p.xf[k] = float(p.x16[k]);
  return p;
}

/// The outputs of one call; unwritten entries keep NaN (-9 for predictions).
template <class X>
struct result {
  float loss = 0;
  std::vector<X> grad, losses;
  std::vector<std::int64_t> pred;
};

template <class X, class Labels>
auto run(const std::vector<X>& logits, std::size_t N, std::size_t C, const Labels& labels,
         const sg::ce_options& o, form f) -> result<X> {
  result<X> r;
  const X nan(std::numeric_limits<float>::quiet_NaN());
  r.grad.assign(N * C, nan);
  r.losses.assign(N, nan);
  r.pred.assign(N, -9);
  const matrix<X> x(logits.data(), N, C);
  const mutable_matrix<X> g(r.grad.data(), N, C);
  switch (f) {
    case form::grad_pred:
      r.loss = sg::softmax_cross_entropy(x, labels, g, sg::predictions(r.pred), o);
      break;
    case form::loss_pred:
      r.loss = sg::softmax_cross_entropy(x, labels, sg::predictions(r.pred), o);
      break;
    case form::grad_losses:
      sg::softmax_cross_entropy(x, labels, g, sg::per_sample(r.losses), o);
      break;
    case form::losses_pred:
      sg::softmax_cross_entropy(x, labels, sg::per_sample(r.losses), sg::predictions(r.pred), o);
      break;
    case form::in_place: {
      r.grad = logits;
      const matrix<X> xi(r.grad.data(), N, C);
      r.loss = sg::softmax_cross_entropy(xi, labels, mutable_matrix<X>(r.grad.data(), N, C),
                                         sg::predictions(r.pred), o);
      break;
    }
  }
  return r;
}

/// The 16-bit call's outputs against the float call's.
template <class H>
void compare(const result<H>& h, const result<float>& f, form fm) {
  if (has_loss(fm)) {
    INFO("loss: 16-bit " << h.loss << ", float " << f.loss);
    CHECK(std::fabs(double(h.loss) - double(f.loss)) <= 2e-5 * std::fabs(double(f.loss)) + 1e-30);
  }
  if (has_grad(fm)) {
    std::size_t bad = 0, first = 0;
    for (std::size_t k = 0; k < f.grad.size(); ++k) {
      const double gf = double(f.grad[k]), g = double(float(h.grad[k]));
      const double err = std::fabs(g - gf), bound = grad_bound<H>(gf);
      if (!(err <= bound) && bad++ == 0) first = k;
      if (!(err <= bound)) ++stats<H>::outside;
      if (std::isfinite(gf)) {
        stats<H>::worst_ulps = std::max(stats<H>::worst_ulps, err / ulp<H>(gf));
        ++stats<H>::entries;
        const double t = double(float(truncated<H>(f.grad[k])));
        if (!(std::fabs(t - gf) <= bound)) ++stats<H>::truncations_refused;
      }
    }
    INFO("gradient entries outside the bound: " << bad << "; the first at " << first << ": 16-bit "
         << float(h.grad[first]) << ", float " << f.grad[first] << " (bound "
         << grad_bound<H>(double(f.grad[first])) << ")");
    CHECK(bad == 0);
  }
  if (has_losses(fm)) {
    std::size_t bad = 0, first = 0;
    for (std::size_t i = 0; i < f.losses.size(); ++i) {
      const double lf = double(f.losses[i]), l = double(float(h.losses[i]));
      if (!(std::fabs(l - lf) <= 0.5 * ulp<H>(lf) + 2e-5 * std::fabs(lf) + 1e-30) && bad++ == 0)
        first = i;
    }
    INFO("per-sample losses outside the bound: " << bad << "; the first at " << first
         << ": 16-bit " << float(h.losses[first]) << ", float " << f.losses[first]);
    CHECK(bad == 0);
  }
  if (has_pred(fm)) CHECK(h.pred == f.pred);
}

/// One case: the 16-bit call and the float call on the same values.
template <class H>
void check_case(const problem<H>& p, labels_kind kind, const sg::ce_options& o, form fm) {
  const std::size_t N = p.N, C = p.C;
  result<H> h;
  result<float> f;
  switch (kind) {
    case labels_kind::index:
      h = run(p.x16, N, C, p.y, o, fm);
      f = run(p.xf, N, C, p.y, o, fm);
      break;
    case labels_kind::one_hot_h:
      h = run(p.x16, N, C, sg::one_hot(matrix<H>(p.t16.data(), N, C)), o, fm);
      f = run(p.xf, N, C, sg::one_hot(matrix<float>(p.tf.data(), N, C)), o, fm);
      break;
    case labels_kind::one_hot_f:
      h = run(p.x16, N, C, sg::one_hot(matrix<float>(p.tf.data(), N, C)), o, fm);
      f = run(p.xf, N, C, sg::one_hot(matrix<float>(p.tf.data(), N, C)), o, fm);
      break;
    case labels_kind::probabilities_h:
      h = run(p.x16, N, C, sg::probabilities(matrix<H>(p.t16.data(), N, C)), o, fm);
      f = run(p.xf, N, C, sg::probabilities(matrix<float>(p.tf.data(), N, C)), o, fm);
      break;
    case labels_kind::probabilities_f:
      h = run(p.x16, N, C, sg::probabilities(matrix<float>(p.tf.data(), N, C)), o, fm);
      f = run(p.xf, N, C, sg::probabilities(matrix<float>(p.tf.data(), N, C)), o, fm);
      break;
    case labels_kind::unwrapped_h:
      h = run(p.x16, N, C, matrix<H>(p.t16.data(), N, C), o, fm);
      f = run(p.xf, N, C, matrix<float>(p.tf.data(), N, C), o, fm);
      break;
  }
  compare(h, f, fm);
}

struct named_options {
  std::string name;
  sg::ce_options options;
  form f;
};

/// Every label kind under every option, for one class count and batch size.
template <class H>
void check_shape(std::size_t N, std::size_t C) {
  std::mt19937_64 rng(C * 31u + N);
  std::uniform_real_distribution<float> weight(0.2f, 3.0f);
  std::vector<float> w(C);
  for (auto& v : w) v = weight(rng);
  const std::vector<named_options> cases = {
      {"no options", {}, form::grad_pred},
      {"no options", {}, form::loss_pred},
      {"label smoothing 0.1", {.label_smoothing = 0.1f}, form::grad_pred},
      {"class weights", {.class_weights = w}, form::grad_pred},
      {"z-loss 1e-4", {.z_loss = 1e-4}, form::grad_pred},
      {"reduction sum", {.reduction = sg::reduction::sum}, form::grad_pred},
      {"reduction none", {.reduction = sg::reduction::none}, form::grad_losses},
      {"reduction none", {.reduction = sg::reduction::none}, form::losses_pred},
      {"reduction none, smoothing, weights, z-loss",
       {.reduction = sg::reduction::none, .label_smoothing = 0.1f, .class_weights = w,
        .z_loss = 1e-4},
       form::grad_losses},
      {"no options", {}, form::in_place},
      {"smoothing and weights", {.label_smoothing = 0.1f, .class_weights = w}, form::in_place},
      {"soft-cap 5", {.soft_cap = 5}, form::grad_pred},
      {"reduction none, soft-cap 2, z-loss",
       {.reduction = sg::reduction::none, .z_loss = 1e-4, .soft_cap = 2}, form::grad_losses},
      {"soft-cap 3, smoothing and weights",
       {.label_smoothing = 0.1f, .class_weights = w, .soft_cap = 3}, form::in_place},
  };
  std::uint64_t seed = 1;
  for (labels_kind kind : all_kinds) {
    for (const auto& c : cases) {
      const auto p = make_problem<H>(N, C, kind, c.options.label_smoothing == 0, seed++);
      INFO(type_name<H>() << " [" << N << ", " << C << "], " << to_string(kind) << ", " << c.name
           << ", " << to_string(c.f) << ", " << sg::to_string(sg::active_isa()));
      check_case(p, kind, c.options, c.f);
    }
  }
}

template <class H>
void print_stats() {
  std::printf("%s on %.*s: %zu gradient entries, %zu outside the bound, the largest error %.3g "
              "ulps; the bound refuses the truncation of %zu\n",
              type_name<H>(), int(sg::to_string(sg::active_isa()).size()),
              sg::to_string(sg::active_isa()).data(), stats<H>::entries, stats<H>::outside,
              stats<H>::worst_ulps, stats<H>::truncations_refused);
}

}  // namespace

// The types that may meet: 16-bit logits with 16-bit or float targets and integer indices,
// float logits with 16-bit targets; double logits with 16-bit targets do not compile.
template <class T>
using view2 = sg::tensor_view<const T, sg::extents<sg::dyn, sg::dyn>>;
template <class T>
using view1 = sg::tensor_view<const T, sg::extents<sg::dyn>>;
template <class V>
using probability_labels = sg::encoded_labels<sg::label_encoding::probabilities, V>;
static_assert(!sg::compatible<view2<double>, probability_labels<view2<sg::bfloat16>>>);
static_assert(!sg::compatible<view2<double>, view2<sg::bfloat16>>);
static_assert(!sg::compatible<view2<double>, probability_labels<view2<sg::float16>>>);
static_assert(sg::compatible<view2<sg::bfloat16>, view2<sg::bfloat16>>);
static_assert(sg::compatible<view2<sg::bfloat16>, probability_labels<view2<sg::bfloat16>>>);
static_assert(sg::compatible<view2<sg::bfloat16>, view2<float>>);
static_assert(sg::compatible<view2<sg::float16>, view1<std::int64_t>>);
static_assert(sg::compatible<view2<float>, view2<sg::bfloat16>>);
static_assert(sg::compatible<view2<float>, probability_labels<view2<sg::bfloat16>>>);
static_assert(sg::compatible<view2<sg::float16>, view2<sg::float16>>);
// the loss of 16-bit logits is a float
static_assert(std::is_same_v<decltype(sg::softmax_cross_entropy(
                                 std::declval<const view2<sg::bfloat16>&>(),
                                 std::declval<const std::vector<std::int64_t>&>())),
                             float>);
static_assert(std::is_same_v<decltype(sg::softmax_cross_entropy(
                                 std::declval<const view2<sg::float16>&>(),
                                 std::declval<const view2<sg::float16>&>())),
                             float>);

TEMPLATE_TEST_CASE("16-bit logits give the float path's results on the same rounded values",
                   "[storage16]", sg::bfloat16, sg::float16) {
  using H = TestType;
  // every class count of the tiles, one-register rows and short blocked rows, with batches of
  // one row, of 5 and of 19 (partial groups of rows)
  for (std::size_t C = 2; C <= 40; ++C)
    for (std::size_t N : {std::size_t(1), std::size_t(5), std::size_t(19)}) check_shape<H>(N, C);
  // rows of several registers around 64, one block, and one or several blocks of 16 KiB
  for (std::size_t C : {std::size_t(63), std::size_t(64), std::size_t(65), std::size_t(1000)})
    for (std::size_t N : {std::size_t(1), std::size_t(5)}) check_shape<H>(N, C);
  for (std::size_t C :
       {std::size_t(8191), std::size_t(8192), std::size_t(8193), std::size_t(33000)})
    for (std::size_t N : {std::size_t(1), std::size_t(3)}) check_shape<H>(N, C);
  print_stats<H>();
  // the bound is tight: it refuses the float gradient truncated to H for some entries
  CHECK(stats<H>::truncations_refused > 0);
  CHECK(stats<H>::entries > 1000000);
}

TEMPLATE_TEST_CASE("16-bit logits on two threads give the one-thread bits", "[storage16]",
                   sg::bfloat16, sg::float16) {
  using H = TestType;
  // 66 rows of 8192: more than 2^19 logits, so that a second thread takes part
  constexpr std::size_t N = 66, C = 8192;
  for (labels_kind kind : {labels_kind::index, labels_kind::probabilities_h}) {
    const auto p = make_problem<H>(N, C, kind, true, 77);
    INFO(type_name<H>() << ", " << to_string(kind) << ", " << sg::to_string(sg::active_isa()));
    check_case(p, kind, {.threads = 2}, form::grad_pred);
    // and bit for bit the one-thread result
    const matrix<H> x(p.x16.data(), N, C);
    std::vector<H> g1(N * C), g2(N * C);
    float l1 = 0, l2 = 0;
    if (kind == labels_kind::index) {
      l1 = sg::softmax_cross_entropy(x, p.y, mutable_matrix<H>(g1.data(), N, C));
      l2 = sg::softmax_cross_entropy(x, p.y, mutable_matrix<H>(g2.data(), N, C), {.threads = 2});
    } else {
      const auto t = sg::probabilities(matrix<H>(p.t16.data(), N, C));
      l1 = sg::softmax_cross_entropy(x, t, mutable_matrix<H>(g1.data(), N, C));
      l2 = sg::softmax_cross_entropy(x, t, mutable_matrix<H>(g2.data(), N, C), {.threads = 2});
    }
    CHECK(std::memcmp(&l1, &l2, sizeof l1) == 0);
    CHECK(std::memcmp(g1.data(), g2.data(), g1.size() * sizeof(H)) == 0);
  }
}

TEST_CASE("bfloat16 logits {1, 2, 3} with class 2, by hand", "[storage16]") {
  const std::vector<sg::bfloat16> x = {sg::bfloat16(1.0f), sg::bfloat16(2.0f), sg::bfloat16(3.0f)};
  const std::vector<std::int64_t> y = {2};
  std::vector<sg::bfloat16> g(3, sg::bfloat16(-7.0f));
  const float loss = sg::softmax_cross_entropy(matrix<sg::bfloat16>(x.data(), 1, 3), y,
                                               mutable_matrix<sg::bfloat16>(g.data(), 1, 3));
  const double s = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  const double want = std::log(s) - 3.0;
  CHECK(std::fabs(double(loss) - want) <= 1e-6 * want);
  for (std::size_t c = 0; c < 3; ++c) {
    const double expected = std::exp(double(c) + 1.0) / s - (c == 2 ? 1.0 : 0.0);
    INFO("class " << c << ": " << float(g[c]) << ", expected " << expected);
    CHECK(g[c].bits == sg::bfloat16(float(expected)).bits);
  }
}

TEST_CASE("the checks run on 16-bit inputs, and a refused call writes nothing", "[storage16]") {
  constexpr std::size_t N = 2, C = 3;
  const std::vector<float> xf = {0.5f, 1, -1, 2, 0.25f, 3};
  std::vector<sg::bfloat16> x(N * C);
  for (std::size_t k = 0; k < N * C; ++k) x[k] = sg::bfloat16(xf[k]);
  const std::vector<std::int64_t> y = {0, 3};  // 3 is outside [0, 3)

  auto kind_of = [](auto&& call) {
    try {
      call();
    } catch (const sg::shape_error& e) {
      return e.kind();
    }
    FAIL("the call was accepted");
    return sg::error_kind::invalid_option;
  };

  const sg::bfloat16 sentinel = sg::bfloat16::from_bits(0x7fa5);  // a NaN's bits
  std::vector<sg::bfloat16> g(N * C, sentinel), l(N, sentinel);
  std::vector<float> gf(N * C, 7.0f);
  const auto float_kind = kind_of([&] {
    (void)sg::softmax_cross_entropy(matrix<float>(xf.data(), N, C), y,
                                    mutable_matrix<float>(gf.data(), N, C));
  });
  CHECK(float_kind == sg::error_kind::label_out_of_range);
  CHECK(kind_of([&] {
          (void)sg::softmax_cross_entropy(matrix<sg::bfloat16>(x.data(), N, C), y,
                                          mutable_matrix<sg::bfloat16>(g.data(), N, C));
        }) == float_kind);
  CHECK(kind_of([&] {
          sg::softmax_cross_entropy(matrix<sg::bfloat16>(x.data(), N, C), y,
                                    mutable_matrix<sg::bfloat16>(g.data(), N, C),
                                    sg::per_sample(l));
        }) == float_kind);
  for (const auto& v : g) CHECK(v.bits == sentinel.bits);
  for (const auto& v : l) CHECK(v.bits == sentinel.bits);
  CHECK(sg::try_check(matrix<sg::bfloat16>(x.data(), N, C), y).kind() == float_kind);

  // a float16 probability row summing to 0.75, and a one-hot row of bfloat16 holding 0.5
  const std::vector<sg::float16> x16(x.size(), sg::float16(0.5f));
  const std::vector<sg::float16> t = {sg::float16(0.25f), sg::float16(0.25f), sg::float16(0.25f),
                                      sg::float16(0.0f),  sg::float16(1.0f),  sg::float16(0.0f)};
  std::vector<sg::float16> g16(N * C, sg::float16::from_bits(0x7d55));
  CHECK(kind_of([&] {
          (void)sg::softmax_cross_entropy(matrix<sg::float16>(x16.data(), N, C),
                                          sg::probabilities(matrix<sg::float16>(t.data(), N, C)),
                                          mutable_matrix<sg::float16>(g16.data(), N, C));
        }) == sg::error_kind::invalid_probabilities);
  for (const auto& v : g16) CHECK(v.bits == 0x7d55);
  const std::vector<sg::bfloat16> hot = {sg::bfloat16(0.5f), sg::bfloat16(0.5f),
                                         sg::bfloat16(0.0f), sg::bfloat16(1.0f),
                                         sg::bfloat16(0.0f), sg::bfloat16(0.0f)};
  CHECK(kind_of([&] {
          (void)sg::softmax_cross_entropy(matrix<sg::bfloat16>(x.data(), N, C),
                                          sg::one_hot(matrix<sg::bfloat16>(hot.data(), N, C)),
                                          mutable_matrix<sg::bfloat16>(g.data(), N, C));
        }) == sg::error_kind::invalid_one_hot);
  for (const auto& v : g) CHECK(v.bits == sentinel.bits);
}
