// The fused sigmoid kernel of the active instruction set against the scalar reference
// (scalar_sigmoid), on the same sigmoid_problem: loss sum, per-element losses and gradient,
// across class counts that hit every vector tail and both weight layouts (a table below
// bce_table_span classes, row pieces above), every starting column, smoothing, weights, soft and
// hard targets, float and double targets, in-place and forward-only calls, extreme logits and NaN.
#include <shapeguard/shapeguard.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "skip.hpp"

namespace sg = shapeguard;
namespace sd = shapeguard::detail;

namespace {

auto kernel_isa() -> bool {
  if (sg::active_isa() == sg::isa::scalar) {
    shapeguard_test::skip("no vector instruction set is active: no fused kernel to test");
    return false;
  }
  return true;
}

template <class T>
constexpr double tolerance = std::is_same_v<T, float> ? 2e-6 : 1e-12;

struct setup {
  std::size_t count = 0, classes = 1, column = 0;
  bool class_weights = false, pos_weight = false, hard = false, grad = true, losses = true;
  double smoothing = 0;
};

template <class T, class U>
struct run {
  std::vector<T> grad, losses;
  double total = 0;
};

// Runs `kernel` on logits x, targets t, weights w and pw as `s` asks; the gradient in place
// when `in_place` (x is copied first).
template <class T, class U>
auto solve(sd::sigmoid_kernel_fn<T, U> kernel, const setup& s, std::vector<T> x,
           const std::vector<U>& t, const std::vector<float>& w, const std::vector<float>& pw,
           bool in_place) -> run<T, U> {
  run<T, U> out;
  out.grad.assign(s.count, T(-7));
  out.losses.assign(s.count, T(-7));
  sd::sigmoid_problem<T, U> p;
  p.logits = x.data();
  p.targets = t.data();
  p.grad = s.grad ? (in_place ? x.data() : out.grad.data()) : nullptr;
  p.losses = s.losses ? out.losses.data() : nullptr;
  p.class_weights = s.class_weights ? w.data() : nullptr;
  p.pos_weight = s.pos_weight ? pw.data() : nullptr;
  p.count = s.count;
  p.classes = s.classes;
  p.column = s.column;
  p.keep = 1 - s.smoothing;
  p.spread = s.smoothing / 2;
  p.grad_scale = 0.37;
  for (std::size_t c = 0; c < s.classes; ++c) {
    const double wc = p.class_weights ? w[c] : 1.0, pc = p.pos_weight ? pw[c] : 1.0;
    if (p.class_weights || p.pos_weight) p.weight_max = std::max({p.weight_max, wc, wc * pc});
  }
  out.total = kernel(p);
  if (in_place && s.grad) out.grad = x;
  return out;
}

template <class T>
void check_close(const std::vector<T>& got, const std::vector<T>& want, double scale,
                 const char* what) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = double(got[i]), r = double(want[i]);
    if (std::isnan(r)) {
      INFO(what << " [" << i << "]: reference NaN, got " << g);
      CHECK(std::isnan(g));
      continue;
    }
    if (std::isinf(r)) {
      INFO(what << " [" << i << "]: reference " << r << ", got " << g);
      CHECK(g == r);
      continue;
    }
    const double bound = tolerance<T> * std::max({std::abs(r), scale, 1e-30});
    if (!(std::abs(g - r) <= bound)) {
      INFO(what << " [" << i << "]: got " << g << ", reference " << r);
      CHECK(std::abs(g - r) <= bound);
    }
  }
}

template <class T, class U>
void compare(const setup& s, std::uint64_t seed, bool extreme) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 4);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<T> x(s.count);
  std::vector<U> t(s.count);
  for (std::size_t i = 0; i < s.count; ++i) {
    x[i] = T(normal(rng));
    t[i] = s.hard ? U(rng() % 2) : U(unit(rng));
  }
  if (extreme && s.count >= 8) {
    const T big = std::numeric_limits<T>::max();
    const T inf = std::numeric_limits<T>::infinity();
    x[0] = T(-1e4), t[0] = U(1);  // softplus(1e4): 1e4, not inf
    x[1] = T(1e4), t[1] = U(0);
    x[2] = inf, t[2] = U(1);      // a term left out: 0 (with smoothing: inf)
    x[3] = -inf, t[3] = U(0);
    x[4] = big, t[4] = U(0.5);    // a float loss near the largest float
    x[5] = T(0), t[5] = U(0.25);
    x[6] = T(-100), t[6] = U(1);
    x[7] = std::numeric_limits<T>::quiet_NaN();
  }
  std::vector<float> w(s.classes), pw(s.classes);
  for (std::size_t c = 0; c < s.classes; ++c) {
    w[c] = float(unit(rng) * 3);
    pw[c] = float(0.25 + unit(rng) * 8);
  }
  if (s.classes > 2) w[1] = 0;  // a class left out
  const auto simd = sd::sigmoid_kernel_for<T, U>(sg::active_isa());
  const auto scalar = sd::sigmoid_kernel_for<T, U>(sg::isa::scalar);
  REQUIRE(simd != nullptr);
  REQUIRE(simd != scalar);
  const auto want = solve<T, U>(scalar, s, x, t, w, pw, false);
  for (bool in_place : {false, true}) {
    if (in_place && !s.grad) continue;
    const auto got = solve<T, U>(simd, s, x, t, w, pw, in_place);
    INFO("count " << s.count << ", classes " << s.classes << ", column " << s.column
                  << ", weights " << s.class_weights << s.pos_weight << ", smoothing "
                  << s.smoothing << ", hard " << s.hard << ", grad " << s.grad << ", in place "
                  << in_place << ", extreme " << extreme);
    if (std::isnan(want.total)) {
      CHECK(std::isnan(got.total));
    } else if (std::isinf(want.total)) {
      CHECK(got.total == want.total);
    } else {
      CHECK(std::abs(got.total - want.total) <=
            tolerance<T> * std::max(std::abs(want.total), 1e-300));
    }
    if (s.losses) check_close(got.losses, want.losses, 0.0, "loss");
    if (s.grad) check_close(got.grad, want.grad, 0.37 * 24, "grad");
    if (!s.losses) CHECK(got.losses == std::vector<T>(s.count, T(-7)));  // untouched
  }
}

template <class T, class U>
void sweep() {
  std::uint64_t seed = 1;
  // every tail of 2, 4, 8 and 16 lanes, both sides of bce_table_span, long rows
  const std::size_t class_counts[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 255, 256, 257, 1000};
  for (std::size_t classes : class_counts) {
    for (int variant = 0; variant < 6; ++variant) {
      setup s;
      s.classes = classes;
      const std::size_t rows = classes >= 256 ? 3 : 1 + (seed * 7) % 40;
      s.column = (seed * 5) % classes;
      s.count = rows * classes + (seed % 3) - s.column % 2;  // not whole rows
      s.class_weights = variant == 1 || variant == 3 || variant == 5;
      s.pos_weight = variant == 2 || variant == 3;
      s.smoothing = variant == 4 || variant == 5 ? 0.1 : 0.0;
      s.hard = variant % 2 == 0;
      s.grad = variant != 2;
      s.losses = variant != 3;
      compare<T, U>(s, seed++, false);
      compare<T, U>(s, seed++, true);
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE("sigmoid kernel: every tail, weight layout and option against the reference",
                   "[sigmoid][kernel]", float, double) {
  if (!kernel_isa()) return;
  sweep<TestType, TestType>();
  sweep<TestType, std::conditional_t<std::is_same_v<TestType, float>, double, float>>();
}

TEST_CASE("sigmoid kernel: weights near float's largest value go to the reference",
          "[sigmoid][kernel]") {
  if (!kernel_isa()) return;
  setup s;
  s.count = 40;
  s.classes = 4;
  s.class_weights = true;
  std::vector<float> x(40, 1e30f), t(40, 0.0f), w(4, 3e38f), pw(4, 1.0f);
  std::vector<float> grad(40), losses(40);
  sd::sigmoid_problem<float> p;
  p.logits = x.data();
  p.targets = t.data();
  p.grad = grad.data();
  p.losses = losses.data();
  p.class_weights = w.data();
  p.count = 40;
  p.classes = 4;
  p.weight_max = 3e38;
  // each loss is 3e68, beyond float: inf per element, but the sum is exact in double
  const double total = sd::sigmoid_kernel_for<float, float>(sg::active_isa())(p);
  CHECK(total == Approx(40 * 3e38 * 1e30).epsilon(1e-6));
  CHECK(std::isinf(losses[0]));
}

TEST_CASE("sigmoid kernel: an empty problem sums to 0 and writes nothing", "[sigmoid][kernel]") {
  if (!kernel_isa()) return;
  float x = 3, t = 1, g = -7, l = -7;
  sd::sigmoid_problem<float> p;
  p.logits = &x;
  p.targets = &t;
  p.grad = &g;
  p.losses = &l;
  p.count = 0;
  CHECK(sd::sigmoid_kernel_for<float, float>(sg::active_isa())(p) == 0.0);
  CHECK(g == -7);
  CHECK(l == -7);
}
