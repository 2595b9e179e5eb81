// Every fused kernel this machine runs against the scalar reference (scalar_rows), on the same
// rows_problem: loss sum, per-sample losses and gradient, across class counts that hit every
// vector tail, both target kinds, weights, smoothing, ignore_index, in-place and forward-only
// calls, hard logits and NaN.
#include <shapeguard/shapeguard.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "skip.hpp"

namespace sg = shapeguard;
namespace sd = shapeguard::detail;

namespace {

// The set under test: the active one, which CTest forces per set through force_isa (skipped
// where the CPU lacks it). A run on the scalar set has no fused kernel to test: it is skipped.
auto kernel_isas() -> std::vector<sg::isa> {
  if (sg::active_isa() == sg::isa::scalar) {
    shapeguard_test::skip("no vector instruction set is active: no fused kernel to test");
    return {};
  }
  return {sg::active_isa()};
}

// float: the contract's bound. double: the reference itself adds 131072 terms one by one, whose
// rounding alone reaches ~1e-11 relative in the worst case.
template <class T>
constexpr double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-10;

enum class kind { index, dense };

struct options {
  kind k = kind::index;
  bool weights = false;
  double smoothing = 0;
  std::int64_t ignore_index = -100;
  double grad_scale = 0.37;
  double z_loss = 0;
  double soft_cap = 0;
};

// A problem and the buffers it points into.
template <class T, class U>
struct data {
  std::size_t rows = 0, classes = 0;
  std::vector<T> logits;
  std::vector<std::int64_t> index;
  std::vector<U> targets;
  std::vector<float> weights;
  options o;

  auto problem() const -> sd::rows_problem<T, U> {
    sd::rows_problem<T, U> p;
    p.logits = logits.data();
    p.rows = rows;
    p.classes = classes;
    if (o.k == kind::index) {
      p.index = index.data();
      p.ignore_index = o.ignore_index;
    } else {
      p.targets = targets.data();
    }
    p.smoothing = o.smoothing;
    p.grad_scale = o.grad_scale;
    p.z_loss = o.z_loss;
    p.soft_cap = o.soft_cap;
    p.weight_sum = double(classes);
    if (o.weights) {
      p.weights = weights.data();
      p.weight_sum = 0;
      for (float w : weights) p.weight_sum += double(w);
    }
    return p;
  }

  // a_c of row i (rows.hpp), to scale the gradient tolerance
  auto coefficient(std::size_t i, std::size_t c) const -> double {
    const double w = o.weights ? double(weights[c]) : 1.0;
    const double spread = o.smoothing / double(classes);
    if (o.k == kind::index) {
      if (index[i] == o.ignore_index) return 0;
      return w * ((std::size_t(index[i]) == c ? 1.0 - o.smoothing : 0.0) + spread);
    }
    return w * ((1.0 - o.smoothing) * double(targets[i * classes + c]) + spread);
  }

  // logit j as the loss sees it: soft-capped with a cap
  auto logit(std::size_t j) const -> double {
    const double x = double(logits[j]);
    return o.soft_cap > 0 ? o.soft_cap * std::tanh(x / o.soft_cap) : x;
  }
  // the z-loss's term of the gradient, 2 z lse_i softmax(x_i)_c, given lse_i (row_lse)
  auto z_term(std::size_t i, std::size_t c, double lse) const -> double {
    if (o.z_loss == 0 || (o.k == kind::index && index[i] == o.ignore_index)) return 0;
    return 2 * o.z_loss * std::abs(lse) * std::exp(logit(i * classes + c) - lse);
  }
  // log sum_c exp(x_c) of each row, in double
  auto row_lse() const -> std::vector<double> {
    std::vector<double> out(rows, 0.0);
    for (std::size_t i = 0; i < rows; ++i) {
      const std::size_t j = i * classes;
      double m = -std::numeric_limits<double>::infinity(), s = 0;
      for (std::size_t k = 0; k < classes; ++k) m = std::max(m, logit(j + k));
      for (std::size_t k = 0; k < classes; ++k) s += std::exp(logit(j + k) - m);
      out[i] = m + std::log(s);
    }
    return out;
  }
};

template <class T, class U>
auto make(std::size_t rows, std::size_t classes, options o, std::uint64_t seed = 1,
          double spread = 3.0) -> data<T, U> {
  std::mt19937_64 rng(seed + classes * 7919 + rows);
  std::normal_distribution<double> normal(0.0, spread);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  data<T, U> d;
  d.rows = rows;
  d.classes = classes;
  d.o = o;
  d.logits.resize(rows * classes);
  for (auto& x : d.logits) x = T(normal(rng));
  d.index.resize(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    d.index[i] = std::int64_t(rng() % classes);
    if (i % 4 == 3) d.index[i] = o.ignore_index;  // some rows ignored
  }
  d.targets.resize(rows * classes);
  for (std::size_t i = 0; i < rows; ++i) {
    double sum = 0;
    for (std::size_t c = 0; c < classes; ++c) {
      const double t = unit(rng) < 0.3 ? 0.0 : unit(rng);  // zeros among them
      d.targets[i * classes + c] = U(t);
      sum += t;
    }
    for (std::size_t c = 0; c < classes && sum > 0; ++c)
      d.targets[i * classes + c] = U(double(d.targets[i * classes + c]) / sum);
  }
  if (o.weights) {
    d.weights.resize(classes);
    for (std::size_t c = 0; c < classes; ++c) d.weights[c] = c % 5 == 2 ? 0.0f : float(2 * unit(rng));
  }
  return d;
}

struct result {
  double total = 0;
  std::vector<double> losses, grad;
};

template <class T, class U>
using solver = std::function<double(const sd::rows_problem<T, U>&)>;

// The kernel of set `a` for targets of kind k: index kernels take the problem without a target
// type.
template <class T, class U>
auto kernel_for(sg::isa a, kind k) -> solver<T, U> {
  if (k == kind::dense) return sd::dense_kernel_for<T, U>(a);
  const auto f = sd::index_kernel_for<T>(a);
  if (f == nullptr) return {};
  return [f](const sd::rows_problem<T, U>& p) {
    sd::rows_problem<T> q;
    q.logits = p.logits;
    q.grad = p.grad;
    q.losses = p.losses;
    q.index = p.index;
    q.ignore_index = p.ignore_index;
    q.weights = p.weights;
    q.rows = p.rows;
    q.classes = p.classes;
    q.smoothing = p.smoothing;
    q.weight_sum = p.weight_sum;
    q.grad_scale = p.grad_scale;
    q.z_loss = p.z_loss;
    q.soft_cap = p.soft_cap;
    return f(q);
  };
}

template <class T, class U>
auto run(const solver<T, U>& kernel, const data<T, U>& d, bool grad, bool in_place = false)
    -> result {
  auto p = d.problem();
  // each output is followed by guard elements that no kernel may write (the tiles store whole
  // registers that run into the next rows)
  constexpr std::size_t guard = 64;
  const std::size_t size = d.logits.size();
  std::vector<T> logits = d.logits, g(size + guard, T(-777)), losses(d.rows + guard, T(-777));
  logits.resize(size + guard, T(-777));
  if (in_place) p.logits = logits.data();
  p.grad = grad ? (in_place ? logits.data() : g.data()) : nullptr;
  p.losses = losses.data();
  result r;
  r.total = kernel(p);
  r.losses.assign(losses.begin(), losses.begin() + std::ptrdiff_t(d.rows));
  const auto untouched = [](const std::vector<T>& v, std::size_t from) {
    return std::all_of(v.begin() + std::ptrdiff_t(from), v.end(), [](T x) { return x == T(-777); });
  };
  CHECK(untouched(g, size));
  CHECK(untouched(logits, size));
  CHECK(untouched(losses, d.rows));
  if (grad) {
    const auto& out = in_place ? logits : g;
    r.grad.assign(out.begin(), out.begin() + std::ptrdiff_t(size));
  } else {
    // forward only: the logits stay as they were (bitwise: they may hold NaN)
    CHECK(std::memcmp(logits.data(), d.logits.data(), size * sizeof(T)) == 0);
  }
  return r;
}

auto same_special(double got, double want) -> bool {
  if (std::isnan(want)) return std::isnan(got);
  return got == want;
}

auto close(double got, double want, double tol) -> bool {
  if (std::isnan(want) || std::isinf(want)) return same_special(got, want);
  return std::abs(got - want) <= tol * std::abs(want) + 1e-300;
}

template <class T, class U>
void compare(const data<T, U>& d, const result& got, const result& want, const std::string& what) {
  INFO(what);
  const double tol = tolerance<T>;
  INFO("total " << got.total << " vs " << want.total);
  CHECK(close(got.total, want.total, tol));
  std::size_t bad_loss = 0, bad_grad = 0;
  // A row's loss is A log(s) + gap; float kernels resolve s near 1 to its float spacing, so a
  // loss near 0 (one class holding nearly all the mass) is held to 4 epsilon * A absolutely.
  const double resolution = std::is_same_v<T, float> ? 4 * 0x1p-23 : 0.0;
  for (std::size_t i = 0; i < d.rows; ++i) {
    double A = 0;
    for (std::size_t c = 0; c < d.classes; ++c) A += d.coefficient(i, c);
    if (!close(got.losses[i], want.losses[i], tol) &&
        !(std::abs(got.losses[i] - want.losses[i]) <= resolution * A)) {
      if (bad_loss++ == 0) {
        UNSCOPED_INFO("row " << i << " loss " << got.losses[i] << " vs " << want.losses[i]);
      }
    }
  }
  const double floor = std::is_same_v<T, float> ? 1e-35 : 1e-300;
  const std::vector<double> lse = d.o.z_loss != 0 ? d.row_lse() : std::vector<double>(d.rows);
  for (std::size_t j = 0; j < got.grad.size(); ++j) {
    const double ref = want.grad[j];
    const std::size_t i = j / d.classes, c = j % d.classes;
    bool ok;
    if (std::isnan(ref) || std::isinf(ref)) {
      ok = same_special(got.grad[j], ref);
    } else {
      // |g - ref| against the two terms g subtracts: scale * A * p_c and scale * a_c
      // (with the z-loss, scale * 2 z lse p_c as well)
      const double a = d.o.grad_scale * (d.coefficient(i, c) + d.z_term(i, c, lse[i]));
      ok = std::abs(got.grad[j] - ref) <= tol * (std::abs(ref) + 2 * a) + floor;
    }
    if (!ok && bad_grad++ == 0) {
      UNSCOPED_INFO("grad[" << i << ", " << c << "] " << got.grad[j] << " vs " << ref);
    }
  }
  CHECK(bad_loss == 0);
  CHECK(bad_grad == 0);
}

/// The same bits in total, losses and gradient (NaN included).
auto same_bits(const result& a, const result& b) -> bool {
  const auto same = [](const std::vector<double>& x, const std::vector<double>& y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0;
  };
  return std::memcmp(&a.total, &b.total, sizeof(double)) == 0 && same(a.losses, b.losses) &&
         same(a.grad, b.grad);
}

// Runs every kernel on `d` (with and without gradient, separate and in place) against the
// reference; a call in place gives the bits of the same call apart (a strided view is solved in
// place in a scratch, and must agree with the same values row-major).
template <class T, class U>
void check_all(const data<T, U>& d, const std::string& label) {
  const result fwd_ref = run<T, U>(&sd::scalar_rows<T, U>, d, false);
  const result ref = run<T, U>(&sd::scalar_rows<T, U>, d, true);
  for (sg::isa a : kernel_isas()) {
    const auto kernel = kernel_for<T, U>(a, d.o.k);
    REQUIRE(kernel);
    const std::string what = label + " on " + std::string(sg::to_string(a));
    const result apart = run<T, U>(kernel, d, true);
    compare(d, apart, ref, what + ", gradient");
    compare(d, run<T, U>(kernel, d, false), fwd_ref, what + ", forward only");
    if constexpr (std::is_same_v<T, U>) {
      const result in_place = run<T, U>(kernel, d, true, true);
      compare(d, in_place, ref, what + ", in place");
      INFO(what << ": in place and apart give the same bits");
      CHECK(same_bits(in_place, apart));
    }
  }
}

auto describe(const options& o, std::size_t rows, std::size_t classes) -> std::string {
  return std::string(o.k == kind::index ? "indices" : "targets") + (o.weights ? " weighted" : "") +
         (o.smoothing != 0 ? " smoothed" : "") + (o.z_loss != 0 ? " z-loss" : "") +
         (o.soft_cap != 0 ? " cap=" + std::to_string(o.soft_cap) : "") +
         " ignore=" + std::to_string(o.ignore_index) + " " + std::to_string(rows) + "x" +
         std::to_string(classes);
}

const std::vector<options> option_sets = {
    {kind::index, false, 0.0, -100, 0.37},  {kind::index, true, 0.0, -100, 1.0},
    {kind::index, false, 0.1, -100, 0.37},  {kind::index, true, 0.25, 3, 0.01},
    {kind::index, false, 1.0, -100, 0.5},   {kind::dense, false, 0.0, -100, 0.37},
    {kind::dense, true, 0.0, -100, 2.0},    {kind::dense, true, 0.2, -100, 0.37},
    {kind::index, false, 0.0, -100, 0.37, 0.01}, {kind::index, true, 0.1, 3, 0.5, 1e-4},
    {kind::dense, true, 0.2, -100, 0.37, 0.3},
    // soft-capping, below the logits' spread (3) so that tanh saturates, and far above it
    {kind::index, false, 0.0, -100, 0.37, 0.0, 2.0}, {kind::index, true, 0.1, 3, 0.5, 1e-4, 30.0},
    {kind::dense, true, 0.2, -100, 0.37, 0.3, 1.0},
};

auto class_counts() -> std::vector<std::size_t> {
  std::vector<std::size_t> cs;
  for (std::size_t c = 1; c <= 70; ++c) cs.push_back(c);
  for (std::size_t c : std::vector<std::size_t>{127, 128, 129, 1000, 4099, 32000}) cs.push_back(c);
  return cs;
}

}  // namespace

TEMPLATE_TEST_CASE("fused kernels agree with the scalar reference", "[kernels]", float, double) {
  using T = TestType;
  for (std::size_t C : class_counts()) {
    // 37 and 35: full tiles of rows and a tail of 5 or 3 rows (both halves of an AVX2 register of
    // rows, or only the lower)
    const std::size_t rows = C <= 32 ? (C % 2 != 0 ? 37 : 35) : C <= 128 ? 9 : 5;
    for (const options& o : option_sets) {
      auto d = make<T, T>(rows, C, o);
      check_all(d, describe(o, rows, C));
    }
  }
}

TEMPLATE_TEST_CASE("rows of one or two registers: ties at the max and one dominant class", "[kernels]",
                   float, double) {
  // The tile kernel (rows in lanes) takes log(s) from s - 1 = (maxima - 1) + the rest: a row
  // whose mass sits on one class (s barely above 1) must keep its loss's relative precision,
  // and a row whose max is shared (s >= 2) must count every maximum.
  using T = TestType;
  for (std::size_t C : std::vector<std::size_t>{2, 5, 8, 10, 16, 17, 20, 32}) {
    for (const options& o : option_sets) {
      auto d = make<T, T>(40, C, o, 12, 1.0);
      for (std::size_t i = 0; i < 40; ++i) {
        T* x = d.logits.data() + i * C;
        const auto y = d.index[i] >= 0 && std::size_t(d.index[i]) < C ? std::size_t(d.index[i]) : 0;
        if (i % 3 == 0) x[y] = T(9 + double(i % 7));        // s - 1 down to ~1e-7
        if (i % 3 == 1) x[0] = x[C - 1] = T(4);              // a tie at the max
        if (i % 3 == 2) std::fill(x, x + C, T(-2.5));        // every class at the max
      }
      check_all(d, "dominant and tied " + describe(o, 40, C));
    }
  }
}

TEMPLATE_TEST_CASE("rows of many blocks: stored in blocks, or online beyond 1 MiB", "[kernels][long]",
                   float, double) {
  using T = TestType;
  // 70001 and 131072 floats: blocks of exp values rescaled by their reference; 300000 floats
  // and 131072 doubles or more: the online sums and a second exp for the gradient
  for (std::size_t C : std::vector<std::size_t>{std::size_t(70001), std::size_t(131072),
                                                std::size_t(300000)}) {
    for (const options& o : option_sets) {
      auto d = make<T, T>(3, C, o);
      check_all(d, describe(o, 3, C));
    }
    // the max in a late block: the running sums are rebased
    options o{kind::dense, true, 0.1, -100, 0.37};
    auto d = make<T, T>(2, C, o, 9);
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t c = 0; c < C; ++c) d.logits[i * C + c] += T(double(c) * 1e-3);
    check_all(d, "rising logits " + describe(o, 2, C));
    options oi{kind::index, false, 0.3, -100, 0.37};
    auto e = make<T, T>(2, C, oi, 10);
    for (std::size_t c = 0; c < C; ++c) e.logits[c] += T(double(c) * 1e-3);
    check_all(e, "rising logits " + describe(oi, 2, C));
    // a leading stretch of -inf longer than a block: nothing to rebase from
    options on{kind::index, true, 0.0, -100, 0.37};
    auto f = make<T, T>(2, C, on, 11);
    for (std::size_t i = 0; i < 2; ++i) {
      for (std::size_t c = 0; c < 9000; ++c) f.logits[i * C + c] = -std::numeric_limits<T>::infinity();
      f.index[i] = std::int64_t(9000 + i * 17);
    }
    check_all(f, "9000 leading -inf " + describe(on, 2, C));
  }
}

TEST_CASE("float sums stay within 1e-5 of float64 over a 128K-class row", "[kernels]") {
  // a row whose softmax mass is spread over every class, at an offset that makes float
  // rounding of x - m matter
  options o{kind::dense, false, 0.1, -100, 1.0};
  auto d = make<float, float>(4, 131072, o, 3, 0.5);
  for (auto& x : d.logits) x += 1000.0f;
  check_all(d, "offset 1e3, 128K classes");
}

TEST_CASE("mixed logits and target types", "[kernels]") {
  for (std::size_t C : std::vector<std::size_t>{3, 16, 17, 33, 1000}) {
    options o{kind::dense, true, 0.1, -100, 0.5};
    check_all(make<float, double>(5, C, o), "float logits, double targets " + std::to_string(C));
    check_all(make<double, float>(5, C, o), "double logits, float targets " + std::to_string(C));
  }
}

TEST_CASE("ignore_index inside and outside the class range", "[kernels]") {
  for (std::int64_t ignore : {std::int64_t(-100), std::int64_t(0), std::int64_t(4), std::int64_t(37)}) {
    for (double eps : {0.0, 0.2}) {
      options o{kind::index, true, eps, ignore, 0.5};
      auto d = make<float, float>(12, 37, o);
      d.index[0] = ignore;
      check_all(d, describe(o, 12, 37));
      // ignored rows: loss 0, gradient row zero
      for (sg::isa a : kernel_isas()) {
        const result r = run<float, float>(kernel_for<float, float>(a, kind::index), d, true);
        CHECK(r.losses[0] == 0.0);
        for (std::size_t c = 0; c < 37; ++c) CHECK(r.grad[c] == 0.0);
      }
    }
  }
}

TEMPLATE_TEST_CASE("hard logits", "[kernels]", float, double) {
  using T = TestType;
  const T inf = std::numeric_limits<T>::infinity();
  for (std::size_t C : std::vector<std::size_t>{5, 16, 40, 1000, 70001}) {
    for (const options& o : option_sets) {
      // large scale: most exp underflow
      check_all(make<T, T>(6, C, o, 4, 1e4), "scale 1e4 " + describe(o, 6, C));
      // all logits equal
      auto eq = make<T, T>(6, C, o);
      for (auto& x : eq.logits) x = T(2.5);
      check_all(eq, "equal logits " + describe(o, 6, C));
      // offset by 1e3
      auto off = make<T, T>(6, C, o);
      for (auto& x : off.logits) x += T(1000);
      check_all(off, "offset 1e3 " + describe(o, 6, C));
    }
    // -inf logits where the target weight is 0: they contribute 0
    options oi{kind::index, false, 0.0, -100, 0.37};
    auto masked = make<T, T>(6, C, oi);
    for (std::size_t i = 0; i < 6; ++i)
      for (std::size_t c = 0; c < C; ++c)
        if (c % 3 == 1 && std::int64_t(c) != masked.index[i]) masked.logits[i * C + c] = -inf;
    check_all(masked, "-inf masks, indices " + std::to_string(C));
    options ow{kind::index, true, 0.2, -100, 0.37};
    auto wmask = make<T, T>(6, C, ow);
    for (std::size_t i = 0; i < 6; ++i)
      for (std::size_t c = 0; c < C; ++c)
        if (wmask.weights[c] == 0.0f && std::int64_t(c) != wmask.index[i])
          wmask.logits[i * C + c] = -inf;
    check_all(wmask, "-inf masks on zero weights, smoothed " + std::to_string(C));
    options od{kind::dense, false, 0.0, -100, 0.37};
    auto dmask = make<T, T>(6, C, od);
    for (std::size_t j = 0; j < dmask.logits.size(); ++j)
      if (dmask.targets[j] == T(0)) dmask.logits[j] = -inf;
    check_all(dmask, "-inf masks, targets " + std::to_string(C));
    // a -inf logit whose coefficient is not 0 (smoothing): the loss is +inf on every path
    options os{kind::index, false, 0.1, -100, 0.37};
    auto inf_loss = make<T, T>(3, C, os);
    inf_loss.logits[C / 2] = -inf;
    check_all(inf_loss, "-inf under smoothing " + std::to_string(C));
    for (sg::isa a : kernel_isas())
      CHECK(run<T, T>(kernel_for<T, T>(a, kind::index), inf_loss, false).losses[0] == double(inf));
  }
}

TEMPLATE_TEST_CASE("NaN reaches its row's loss and gradient only", "[kernels]", float, double) {
  using T = TestType;
  const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
  for (std::size_t C : std::vector<std::size_t>{1, 7, 16, 17, 100, 70001}) {
    for (const options& o : option_sets) {
      auto d = make<T, T>(4, C, o);
      d.index[0] = d.index[1] = d.index[2] = 0;
      d.logits[C - 1] = nan;                            // row 0: NaN at the end
      for (std::size_t c = 0; c < C; ++c) d.logits[C + c] = -inf;  // row 1: all -inf
      d.logits[2 * C] = inf;                            // row 2: +inf
      check_all(d, "NaN " + describe(o, 4, C));
      for (sg::isa a : kernel_isas()) {
        const result r = run<T, T>(kernel_for<T, T>(a, o.k), d, true);
        CHECK(std::isnan(r.losses[0]));
        CHECK(std::isnan(r.total));
        // soft-capped, infinite logits are +-cap: rows 1 and 2 have finite losses
        const std::size_t nan_rows = o.soft_cap > 0 ? 1 : 3;
        for (std::size_t i = 1; i < 3; ++i) CHECK(std::isnan(r.losses[i]) == (nan_rows == 3));
        for (std::size_t c = 0; c < 3 * C; ++c) CHECK(std::isnan(r.grad[c]) == (c < nan_rows * C));
        if (o.k == kind::dense || d.index[3] != o.ignore_index) {
          CHECK(std::isfinite(r.losses[3]));
        }
      }
    }
  }
}

TEMPLATE_TEST_CASE("soft-capping with caps at the ends of the lanes' range", "[kernels]", float,
                   double) {
  // caps whose value or reciprocal leave the lanes' normal range go to the reference; those
  // just inside stay on the vector path: every one agrees with the reference, and is finite
  using T = TestType;
  for (double cap : {4e38, 1e300, 1e-300, std::numeric_limits<double>::denorm_min(), 1e30, 1e-30,
                     1e-3, 1e3}) {
    for (std::size_t C : std::vector<std::size_t>{5, 16, 40, 1000}) {
      for (const kind k : {kind::index, kind::dense}) {
        options o{k, true, 0.1, -100, 0.37, 0.0, cap};
        auto d = make<T, T>(9, C, o);
        check_all(d, describe(o, 9, C));
        for (sg::isa a : kernel_isas()) {
          const result r = run<T, T>(kernel_for<T, T>(a, k), d, true);
          CHECK(std::isfinite(r.total));
          CHECK(std::all_of(r.grad.begin(), r.grad.end(), [](double g) { return std::isfinite(g); }));
        }
      }
    }
  }
}

TEST_CASE("a smoothing below float's normal range with huge weights stays finite", "[kernels]") {
  // eps / C rounds to 0 in float lanes while a weight of 1e30 times a logit gap of 7.5e37
  // overflows: 0 * inf was NaN on the vector sets where the reference gives 7.5e34
  const std::vector<float> x0 = {
      -8.0886525e+30f, -10.052854f, 1.2933772e+21f, -2.0695557e+21f, 7.537206e+37f, -7.785144e-15f,
      582861000.f, 7.0909647e-25f, 0.14129205f, 5.5856572e+17f, -2.330205e-15f, 1.737916e-10f,
      1.4542955e-08f, 1.12615115e-17f, 1.4577234e-37f, -1746332100000000.f, 50771384.f,
      1.4354512e-23f, 3.797342e+32f, 1.4627739e-25f, -7.822572e-33f, 2435455.f, 3.4114738e-13f,
      -8.079569e-19f};
  const std::vector<std::int64_t> y = {2, 2, 2};
  const std::vector<float> w = {0, 0, 0.001f, 3.7672515f, 1, -0.0f, 1e+30f, 0.099553466f};
  const sg::ce_options o{.reduction = sg::reduction::sum,
                         .label_smoothing = std::numeric_limits<float>::denorm_min(),
                         .class_weights = w};
  sg::tensor_view<const float, sg::extents<sg::dyn, 8>> x(x0.data(), 3);
  sg::tensor_view<const std::int64_t, sg::extents<sg::dyn>> yv(y.data(), 3);
  const sg::isa previous = sd::override_isa(sg::isa::scalar);
  const float ref = sg::softmax_cross_entropy(x, yv, o);
  REQUIRE(std::isfinite(ref));
  for (sg::isa a : sg::supported_isas()) {
    INFO(sg::to_string(a));
    sd::override_isa(a);
    std::vector<float> g = x0;  // the gradient over the logits
    const float in_place = sg::softmax_cross_entropy(
        sg::tensor_view<const float, sg::extents<sg::dyn, 8>>(g.data(), 3), yv,
        sg::tensor_view<float, sg::extents<sg::dyn, 8>>(g.data(), 3), o);
    CHECK(sg::softmax_cross_entropy(x, yv, o) == Approx(ref).epsilon(1e-5));
    CHECK(in_place == Approx(ref).epsilon(1e-5));
  }
  sd::override_isa(previous);
}

TEST_CASE("logit gaps beyond float's range: the loss stays exact", "[kernels]") {
  // m - x_c of two floats, and a_c times it, can exceed float's largest value while the loss,
  // summed in double, does not: {3e38, -3e38} under smoothing was +inf on the vector sets
  const float big = 3e38f;
  for (std::size_t C : std::vector<std::size_t>{2, 10, 16, 17, 32, 33, 1000, 70001}) {
    for (options o : option_sets) {
      auto d = make<float, float>(6, C, o);
      d.index[0] = 1;
      d.logits[0] = big;  // row 0: target at -3e38 below the max
      d.logits[1] = -big;
      for (std::size_t c = 0; c < C; ++c) {
        d.logits[C + c] = c % 2 ? big : -big;           // row 1: alternating
        d.logits[2 * C + c] = c == C / 2 ? 1.0f : -big;  // row 2: one finite class
        d.logits[3 * C + c] *= 1e37f;                    // row 3: spread over 1e37
      }
      check_all(d, "gaps of 6e38 " + describe(o, 6, C));
      if (o.weights) {
        // class weights near float's largest value / C: a_c (m - x_c) overflows for any gap > C
        for (auto& w : d.weights) w = w == 0.0f ? 0.0f : 4e36f / float(C);
        for (std::size_t j = 3 * C; j < 6 * C; ++j) d.logits[j] = float(j % 7) - 3.0f;
        check_all(d, "weights of 4e36 / C " + describe(o, 6, C));
      }
    }
  }
  // the case the fuzzer found, through the public loss: 3e37 on every set
  const std::vector<float> x0 = {big, -big};
  const std::vector<std::int64_t> y = {0};
  sg::tensor_view<const float, sg::extents<sg::dyn, 2>> x(x0.data(), 1);
  sg::tensor_view<const std::int64_t, sg::extents<sg::dyn>> yv(y.data(), 1);
  const sg::isa previous = sd::override_isa(sg::isa::scalar);
  for (sg::isa a : sg::supported_isas()) {
    INFO(sg::to_string(a));
    sd::override_isa(a);
    CHECK(sg::softmax_cross_entropy(x, yv, {.label_smoothing = 0.2f}) ==
          Approx(0.1 * 6e38).epsilon(1e-6));
  }
  sd::override_isa(previous);
}

TEST_CASE("the public loss agrees across instruction sets", "[kernels][public]") {
  for (std::size_t C : std::vector<std::size_t>{10, 1000, 32000}) {
    const std::size_t N = C == 32000 ? 9 : 300;
    auto d = make<float, float>(N, C, options{kind::index, false, 0.0, -100, 1.0}, 6);
    for (auto& y : d.index) y = y < 0 ? 0 : y;
    sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>> x(d.logits.data(), N, C);
    sg::tensor_view<const std::int64_t, sg::extents<sg::dyn>> y(d.index.data(), N);
    auto solve = [&](sg::isa a, sg::ce_options o, std::vector<float>& g, std::vector<float>& per) {
      const sg::isa previous = sd::override_isa(a);
      CHECK(sg::active_isa() == a);
      CHECK(sd::index_kernel<float>() == sd::index_kernel_for<float>(a));
      g.assign(N * C, 0.0f);
      per.assign(N, 0.0f);
      const float loss = sg::softmax_cross_entropy(
          x, y, sg::tensor_view<float, sg::extents<sg::dyn, sg::dyn>>(g.data(), N, C), o);
      sg::softmax_cross_entropy(x, y, sg::per_sample(per), {.reduction = sg::reduction::none,
                                                            .label_smoothing = o.label_smoothing});
      sd::override_isa(previous);
      return loss;
    };
    for (float eps : {0.0f, 0.1f}) {
      const sg::ce_options o{.label_smoothing = eps};
      std::vector<float> g0, p0;
      const float ref = solve(sg::isa::scalar, o, g0, p0);
      for (sg::isa a : kernel_isas()) {
        INFO(sg::to_string(a) << " C=" << C << " eps=" << eps);
        std::vector<float> g, p;
        const float loss = solve(a, o, g, p);
        CHECK(loss == Approx(ref).epsilon(1e-5));
        for (std::size_t i = 0; i < N; ++i) CHECK(p[i] == Approx(p0[i]).epsilon(1e-5));
        double worst = 0;
        for (std::size_t j = 0; j < g.size(); ++j)
          worst = std::max(worst, double(std::abs(g[j] - g0[j])) / (std::abs(double(g0[j])) + 1.0 / double(N)));
        CHECK(worst <= 1e-5);
      }
    }
  }
}
