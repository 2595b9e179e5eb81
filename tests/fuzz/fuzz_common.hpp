// What the loss fuzz targets share: decoding bytes into shapes, values and options; buffers that
// AddressSanitizer can watch; an independent long double reference of the loss; and the
// property every input must satisfy:
//
//   either the call throws a shape_error whose kind is one the inputs actually violate, and no
//   output byte (nor any input byte) changed; or the inputs violate nothing, the call returns,
//   and every output agrees with the reference within a tolerance derived from the inputs, on
//   every instruction set this build and CPU can run (NaN exactly where the reference is NaN).
//
// Any breach prints what differed and aborts, which libFuzzer reports as a crash.
#pragma once

#include <shapeguard/isa.hpp>
#include <shapeguard/shapeguard.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>


namespace fuzz {
namespace sg = shapeguard;

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "FUZZ PROPERTY VIOLATED: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_REQUIRE(cond, ...)                                                        \
  do {                                                                                 \
    if (!(cond)) ::fuzz::fail(fmt::format("{}:{}: {}: ", __FILE__, __LINE__, #cond) + \
                              fmt::format(__VA_ARGS__));                               \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Statistics, printed at exit when SHAPEGUARD_FUZZ_STATS is set (for the figures in README).

struct counters {
  std::atomic<std::uint64_t> inputs{0}, skipped{0}, bad_extents{0}, accepted{0},
      kernel_runs{0}, nonfinite_results{0}, prediction_runs{0}, capped_runs{0};
  std::array<std::atomic<std::uint64_t>,
             static_cast<std::size_t>(sg::error_kind::single_class) + 1>
      by_kind{};  // indexed by sg::error_kind; single_class is the last
};
inline counters& stats() {
  static counters c;
  return c;
}
// Results accepted under the two tolerances of the loss check (fuzz_loss.hpp): +inf where a
// gap sum left double's range, and a finite loss where the reference's +inf comes only from
// coefficients a float kernel rounds to 0.
inline std::atomic<std::uint64_t> gap_past_double{0}, tiny_coefficients_dropped{0};
inline void print_stats() {
  auto& c = stats();
  std::fprintf(stderr,
               "shapeguard fuzz stats: inputs %llu, skipped (too large) %llu, extents rejected "
               "%llu, calls accepted %llu, kernel runs compared %llu, with non-finite results "
               "%llu, with soft-capping %llu, predictions compared %llu; rejected by kind:",
               (unsigned long long)c.inputs, (unsigned long long)c.skipped,
               (unsigned long long)c.bad_extents, (unsigned long long)c.accepted,
               (unsigned long long)c.kernel_runs, (unsigned long long)c.nonfinite_results,
               (unsigned long long)c.capped_runs, (unsigned long long)c.prediction_runs);
  for (std::size_t k = 0; k < c.by_kind.size(); ++k)
    std::fprintf(stderr, " %s %llu", sg::to_string(static_cast<sg::error_kind>(k)).data(),
                 (unsigned long long)c.by_kind[k]);
  std::fprintf(stderr, "; results +inf past double's range %llu, finite with tiny coefficients "
                       "rounded to 0 %llu",
               (unsigned long long)gap_past_double, (unsigned long long)tiny_coefficients_dropped);
  std::fprintf(stderr, "; writes on error 0 (any would have aborted)\n");
}
inline void init_stats() {
  if (std::getenv("SHAPEGUARD_FUZZ_STATS")) std::atexit(&print_stats);
}

// ---------------------------------------------------------------------------------------------
// The input: the fuzzer's bytes, then a generator seeded from them, so that a short input can
// still describe a large tensor of varied values.

class source {
 public:
  source(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3ull;
    state_ = h;
  }
  auto byte() -> std::uint8_t {
    if (p_ < end_) return *p_++;
    return static_cast<std::uint8_t>(next() >> 56);
  }
  auto u16() -> std::uint16_t { return static_cast<std::uint16_t>(byte() | (byte() << 8)); }
  auto u32() -> std::uint32_t { return std::uint32_t(u16()) | (std::uint32_t(u16()) << 16); }
  auto u64() -> std::uint64_t { return std::uint64_t(u32()) | (std::uint64_t(u32()) << 32); }
  /// In [0, n), n > 0.
  auto below(std::size_t n) -> std::size_t { return n <= 256 ? byte() % n : u32() % n; }
  /// True once in n.
  auto one_in(std::size_t n) -> bool { return below(n) == 0; }
  template <class E, std::size_t N>
  auto pick(const E (&items)[N]) -> E {
    return items[below(N)];
  }
  /// Uniform in [0, 1), from the generator (cheap for bulk values).
  auto unit() -> double { return double(next() >> 11) * 0x1.0p-53; }
  auto next() -> std::uint64_t {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  auto exhausted() const -> bool { return p_ >= end_; }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::uint64_t state_;
};

// ---------------------------------------------------------------------------------------------
// Shapes.

/// Elements a buffer may have and still be allocated and filled (larger views point at a
/// one-element stand-in and are passed only when a shape check must reject them first).
inline constexpr std::size_t max_elements = std::size_t{1} << 17;

inline constexpr std::size_t size_max = std::numeric_limits<std::size_t>::max();

/// Huge extents: overflowing products, the largest accepted extent, and sg::dyn itself.
inline auto huge_extent(source& s) -> std::size_t {
  static const std::size_t values[] = {std::size_t{1} << 32, (std::size_t{1} << 32) + 1,
                                       std::size_t{1} << 40, std::size_t{1} << 62,
                                       std::size_t{1} << 63,  size_max - 1,
                                       size_max,             size_max / 3};
  if (s.one_in(4)) return s.u64();
  return s.pick(values);
}

/// A batch extent: mostly small.
inline auto batch_extent(source& s) -> std::size_t {
  const std::uint8_t b = s.byte();
  if (b < 200) return b % 6;
  if (b < 230) return 6 + s.byte() % 64;
  if (b < 250) return 70 + s.u16() % 2000;
  return huge_extent(s);
}

/// A class count: around every vector width and block boundary, sometimes a long row.
inline auto class_extent(source& s) -> std::size_t {
  static const std::size_t edges[] = {1,   2,    3,    4,    5,    7,     8,     9,    15,
                                      16,  17,   31,   32,   33,   63,    64,    65,   127,
                                      128, 129,  255,  256,  257,  1023,  1024,  1025, 2047,
                                      2048, 2049, 4095, 4096, 4097, 65536, 65537, 70001};
  const std::uint8_t b = s.byte();
  if (b < 100) return b % 12;
  if (b < 220) return s.pick(edges);
  if (b < 250) return 1 + s.u16() % 5000;
  return huge_extent(s);
}

template <std::size_t N>
auto product(const std::array<std::size_t, N>& e, std::size_t n = N) -> std::optional<std::size_t> {
  std::size_t p = 1;
  for (std::size_t i = 0; i < n; ++i) {
    if (e[i] > size_max - 1) return std::nullopt;  // sg::dyn and above: not an extent
    if (p != 0 && e[i] > size_max / p) return std::nullopt;
    p *= e[i];
  }
  return p;
}

/// Whether `extents` accepts these values: each below sg::dyn and every prefix product in
/// range (a zero extent ends the risk).
template <std::size_t N>
auto extents_valid(const std::array<std::size_t, N>& e, std::size_t n = N) -> bool {
  return product(e, n).has_value();
}

// ---------------------------------------------------------------------------------------------
// Values.

/// How a tensor's values are drawn.
enum class regime : std::uint8_t { moderate, specials, raw_bits, wide };

inline auto pick_regime(source& s) -> regime {
  const std::uint8_t b = s.byte();
  if (b < 150) return regime::moderate;
  if (b < 210) return regime::specials;
  if (b < 235) return regime::wide;
  return regime::raw_bits;
}

template <class T>
auto special_value(source& s) -> T {
  using L = std::numeric_limits<T>;
  switch (s.below(12)) {
    case 0: return L::quiet_NaN();
    case 1: return L::infinity();
    case 2: return -L::infinity();
    case 3: return T(0);
    case 4: return -T(0);
    case 5: return L::max();
    case 6: return L::lowest();
    case 7: return L::denorm_min();
    case 8: return -L::min();
    case 9: return T(1);
    case 10: return -T(1e30);
    default: return T(88.7);  // where float exp overflows
  }
}

template <class T>
auto logit_value(source& s, regime r) -> T {
  switch (r) {
    case regime::moderate: return T(s.unit() * 20.0 - 10.0);
    case regime::specials:
      if (s.next() % 4 == 0) return special_value<T>(s);
      return T(s.unit() * 8.0 - 4.0);
    case regime::wide: {
      // magnitudes from 1e-30 to 1e30 (float) or 1e-300 to 1e300 (double), either sign
      const double range = std::is_same_v<T, float> ? 30.0 : 300.0;
      const double v = std::pow(10.0, (s.unit() * 2.0 - 1.0) * range);
      return T(s.next() % 2 ? v : -v);
    }
    case regime::raw_bits: {
      if constexpr (std::is_same_v<T, float>) {
        return std::bit_cast<float>(static_cast<std::uint32_t>(s.next()));
      } else {
        return std::bit_cast<double>(s.next());
      }
    }
  }
  return T(0);
}

// ---------------------------------------------------------------------------------------------
// Buffers: one heap allocation of exactly n elements (so AddressSanitizer sees any access past
// it), or null, or a stand-in for a view too large to allocate.

template <class E>
struct buffer {
  std::unique_ptr<E[]> storage;
  E* data = nullptr;
  std::size_t size = 0;  // elements really there
  bool stand_in = false;
  /// Elements in memory: the stand-in's one, or size.
  auto in_memory() const -> std::size_t { return stand_in ? 1 : size; }

  static auto make(source& s, std::optional<std::size_t> elements, bool allow_null) -> buffer {
    buffer b;
    if (!elements || *elements > max_elements) {
      b.storage.reset(new E[1]());
      b.data = b.storage.get();
      b.stand_in = true;
      return b;
    }
    if (allow_null && s.one_in(40)) return b;  // a null pointer (with or without elements)
    b.size = *elements;
    b.storage.reset(new E[b.size]());
    b.data = b.storage.get();
    return b;
  }
  auto bytes() const -> std::span<const unsigned char> {
    return {reinterpret_cast<const unsigned char*>(data), size * sizeof(E)};
  }
};

inline auto snapshot(std::span<const unsigned char> b) -> std::vector<unsigned char> {
  return {b.begin(), b.end()};
}
inline auto same_bytes(std::span<const unsigned char> b, const std::vector<unsigned char>& s)
    -> bool {
  return b.size() == s.size() && (b.empty() || std::memcmp(b.data(), s.data(), b.size()) == 0);
}

/// Whether byte ranges [a, a + n) and [b, b + m) share a byte.
inline auto overlap(const void* a, std::size_t n, const void* b, std::size_t m) -> bool {
  if (n == 0 || m == 0 || a == nullptr || b == nullptr) return false;
  const auto x = reinterpret_cast<std::uintptr_t>(a), y = reinterpret_cast<std::uintptr_t>(b);
  return x < y + m && y < x + n;
}

// ---------------------------------------------------------------------------------------------
// Options.

template <class T>
struct decoded_options {
  sg::ce_options options;
  std::vector<float> weights;
  bool weights_valid = true;
};

/// ignore_index: mostly the default; otherwise values at every integer width's edges.
inline auto ignore_index_value(source& s, std::size_t classes) -> std::int64_t {
  if (s.below(4) != 0) return -100;
  const std::int64_t c = static_cast<std::int64_t>(std::min<std::size_t>(classes, 1u << 30));
  const std::int64_t values[] = {-1,  0,    1,     c - 1, c,     127,  128,  255,   -128,
                                 -129, 65535, 32767, -32768, 4294967295LL,
                                 std::numeric_limits<std::int64_t>::min(),
                                 std::numeric_limits<std::int64_t>::max()};
  if (s.one_in(8)) return static_cast<std::int64_t>(s.u64());
  return s.pick(values);
}

inline auto smoothing_value(source& s) -> float {
  const std::uint8_t b = s.byte();
  if (b < 140) return 0.0f;
  if (b < 200) return float(s.unit());
  static const float values[] = {0.1f,
                                 1.0f,
                                 -0.0f,
                                 std::numeric_limits<float>::denorm_min(),
                                 0.99999994f,
                                 1.00000012f,  // just above 1
                                 -std::numeric_limits<float>::denorm_min(),
                                 std::numeric_limits<float>::quiet_NaN(),
                                 std::numeric_limits<float>::infinity(),
                                 -0.1f,
                                 2.0f};
  return s.pick(values);
}

inline auto weight_value(source& s, bool invalid_allowed) -> float {
  const std::uint8_t b = s.byte();
  if (b < 120) return float(s.unit() * 4.0);
  if (b < 160) return 1.0f;
  if (b < 190) return 0.0f;
  if (!invalid_allowed || b < 250) {
    static const float values[] = {0.5f, 2.0f, 1e-30f, std::numeric_limits<float>::denorm_min(),
                                   1e30f, -0.0f, 1e-3f, 1e4f, std::numeric_limits<float>::max()};
    return s.pick(values);
  }
  static const float bad[] = {-1.0f, -std::numeric_limits<float>::denorm_min(),
                              std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity()};
  return s.pick(bad);
}

/// Options; `form_has_losses` says whether the call passes per-sample losses.
/// A caller's denominator of the mean (ce_options / bce_options::denominator): mostly the
/// call's own (0), sometimes a valid one (-0 is 0), sometimes one outside the domain.
inline auto denominator_value(source& s) -> double {
  if (!s.one_in(6)) return 0.0;
  static const double values[] = {0.5, 3.0, 1e6, -0.0, -1.0,
                                  std::numeric_limits<double>::quiet_NaN(),
                                  std::numeric_limits<double>::infinity()};
  return s.pick(values);
}

/// A z-loss coefficient (ce_options::z_loss): mostly 0, sometimes valid, sometimes outside
/// [0, inf).
inline auto z_loss_value(source& s) -> double {
  if (!s.one_in(5)) return 0.0;
  static const double values[] = {1e-4, 0.01, 0.5, 2.0, 1e3, -0.0, -1e-4,
                                  std::numeric_limits<double>::quiet_NaN(),
                                  std::numeric_limits<double>::infinity()};
  return s.pick(values);
}

inline auto z_loss_refused(double z) -> bool { return !(z >= 0) || !std::isfinite(z); }

/// A soft-capping value (ce_options::soft_cap): 0 (off) once the input is exhausted, which most
/// inputs are by then, and in 2 of 3 others; otherwise mostly a cap from 0.5 to 50 (even in its
/// logarithm, from one byte), a common one, or one at the edges of double's and float's ranges,
/// sometimes one outside [0, inf).
inline auto soft_cap_value(source& s) -> double {
  if (s.exhausted() || !s.one_in(3)) return 0.0;
  const std::uint8_t b = s.byte();
  if (b < 160) return 0.5 * std::pow(100.0, double(b) / 159.0);
  if (b < 200) {
    static const double common[] = {1.0, 5.0, 15.0, 30.0, 50.0, -0.0};
    return s.pick(common);
  }
  if (b < 230) {
    static const double edges[] = {1e-3, 1e3, 1e-300, 1e300, 4e38,
                                   std::numeric_limits<double>::denorm_min()};
    return s.pick(edges);
  }
  static const double refused[] = {-1e-3, -1.0, -30.0, -std::numeric_limits<double>::denorm_min(),
                                   std::numeric_limits<double>::quiet_NaN(),
                                   std::numeric_limits<double>::infinity(),
                                   -std::numeric_limits<double>::infinity()};
  return s.pick(refused);
}

inline auto soft_cap_refused(double c) -> bool { return !(c >= 0) || !std::isfinite(c); }

/// Whether a denominator is refused: outside [0, inf), or set with a reduction but mean.
inline auto denominator_refused(double d, sg::reduction r) -> bool {
  return !(d >= 0) || !std::isfinite(d) || (d != 0 && r != sg::reduction::mean);
}

inline auto options_value(source& s, std::size_t classes, bool form_has_losses, bool indices,
                          std::vector<float>& weights) -> sg::ce_options {
  sg::ce_options o;
  if (s.one_in(24)) {
    static const int values[] = {0, 1, 2, 3, 255, -1};
    o.reduction = static_cast<sg::reduction>(s.pick(values));
  } else if (form_has_losses) {
    o.reduction = sg::reduction::none;
  } else {
    o.reduction = s.one_in(2) ? sg::reduction::mean : sg::reduction::sum;
  }
  o.ignore_index = indices ? ignore_index_value(s, classes)
                           : (s.one_in(24) ? ignore_index_value(s, classes) : -100);
  o.label_smoothing = smoothing_value(s);
  if (s.below(5) < 2) {
    std::size_t n = std::min(classes, max_elements);
    if (s.one_in(16)) n = s.pick({n + 1, n > 0 ? n - 1 : 2, std::size_t{1}, n * 2});
    const bool invalid_allowed = s.one_in(8);
    weights.resize(n);
    const bool uniform = s.one_in(4);
    const float first = weight_value(s, invalid_allowed);
    for (auto& w : weights) w = uniform ? first : weight_value(s, invalid_allowed);
    o.class_weights = std::span<const float>(weights.data(), weights.size());
  }
  o.check_finite = s.one_in(4);
  const std::uint8_t t = s.byte();
  o.threads = t < 180 ? 1 : t < 220 ? 2 : t < 250 ? 3 : 0;
  o.denominator = denominator_value(s);
  o.z_loss = z_loss_value(s);
  o.soft_cap = soft_cap_value(s);  // last, and 0 for an input that ends before it
  return o;
}

// ---------------------------------------------------------------------------------------------
// The reference: softmax cross-entropy in long double from the contract's formulas, with the
// tolerance each output may deviate by.

/// The logit the loss sees under soft-capping with cap > 0: cap tanh(x / cap), which is +-cap at
/// +-inf and NaN at NaN; x itself when cap is 0.
inline auto capped_logit(long double x, long double cap) -> long double {
  return cap > 0 ? cap * std::tanh(x / cap) : x;
}

/// The derivative of capped_logit in x: 1 - tanh^2(x / cap) = 1 / cosh^2(x / cap) (0 at +-inf,
/// NaN at NaN); 1 when cap is 0.
inline auto capped_slope(long double x, long double cap) -> long double {
  if (!(cap > 0)) return 1;
  const long double ch = std::cosh(x / cap);
  return 1 / (ch * ch);
}

/// Relative tolerance of a kernel for element type T: the scalar reference computes in double
/// and rounds once; the SIMD kernels compute exp and the row sums in T's lanes (exp of
/// x - m, where x - m carries T's rounding: |x - m| <= 104 for float before exp underflows,
/// so up to 104 * 2^-24 = 6.2e-6 relative, plus up to 128 terms per lane before a fold into
/// double), and fold into double.
template <class T>
constexpr auto relative_tolerance(bool scalar, std::size_t classes) -> long double {
  const long double n = static_cast<long double>(classes);
  if (scalar) return std::is_same_v<T, float> ? 1e-6L + n * 4e-16L : 1e-13L + n * 4e-16L;
  return std::is_same_v<T, float> ? 3e-5L + n * 4e-16L : 1e-12L + n * 4e-16L;
}

template <class T>
struct reference {
  std::vector<long double> loss, loss_slack;  // per row; loss_slack: tolerance / rtol
  std::vector<long double> grad, grad_slack;  // per element
  // Per row, a bound of the partial sums a kernel forms for the gap sum_c a_c (m - x_c):
  // sum_c max(1, a_c, w_c) (m - x_c). Every kernel sums it in double; where it exceeds double's
  // range (double logits beyond +-9e307), that row's loss may overflow to +inf while this long
  // double reference stays finite.
  std::vector<long double> gap_bound;
  // Coefficients below the normal range of the type a kernel forms them in (eps/C, or
  // scale * eps/C, or w_c times either, in float lanes) lose their relative precision: each
  // a_c may be off by (w_c + 1) times that type's smallest denormal. These are the outputs'
  // absolute error bounds per unit of that denormal.
  std::vector<long double> loss_denormal, grad_denormal;
  // exp(x_c - m) below the smallest normal number of the kernel's type may flush to 0: an
  // absolute error of up to A (and, in the gradient, scale * A) times that number, per row
  std::vector<long double> row_a;
  // the same for the gradient and the loss with the z-loss: A + 2 z |lse| (log s enters z lse^2)
  std::vector<long double> grad_a;
  // rows whose loss is +inf only through coefficients so small (a_c < 2 w_c times float's
  // smallest denormal) that a float kernel forms them as 0, which drops the term
  std::vector<unsigned char> inf_from_tiny;
  long double denominator = 0;
  long double scale = 1;  // of the gradient
  long double total = 0, total_slack = 0, total_denormal = 0, total_a = 0;
  bool mean = false;
};

/// Row i's coefficients a_c (rows.hpp), from a callback; `ignored(i)` rows give 0 everywhere.
/// z: the z-loss coefficient (each counted row adds z lse^2). cap: the soft-capping value (0:
/// off; otherwise the loss is over x'_c = capped_logit(x_c), and each gradient entry is the one
/// with respect to x'_c times capped_slope(x_c)).
template <class T, class Coefficient, class Weight, class Ignored>
auto compute_reference(const T* logits, std::size_t rows, std::size_t classes,
                       const Coefficient& coefficient, const Weight& weight,
                       const Ignored& ignored, long double denominator, bool mean,
                       long double z = 0, long double cap = 0) -> reference<T> {
  reference<T> r;
  r.mean = mean;
  r.denominator = denominator;
  r.scale = mean ? (denominator > 0 ? 1.0L / denominator : 0.0L) : 1.0L;
  r.loss.assign(rows, 0);
  r.loss_slack.assign(rows, 0);
  r.grad.assign(rows * classes, 0);
  r.grad_slack.assign(rows * classes, 0);
  r.row_a.assign(rows, 0);
  r.grad_a.assign(rows, 0);
  r.inf_from_tiny.assign(rows, 0);
  r.loss_denormal.assign(rows, 0);
  r.grad_denormal.assign(rows * classes, 0);
  r.gap_bound.assign(rows, 0);
  const long double nan = std::numeric_limits<long double>::quiet_NaN();
  const long double inf = std::numeric_limits<long double>::infinity();
  if (rows == 0) return r;  // (then classes may be huge)
  // per class: a_c, the logit the loss sees x_c (capped or not) and its derivative d_c
  std::vector<long double> a(classes), x(classes), d(classes);
  for (std::size_t i = 0; i < rows; ++i) {
    if (ignored(i)) continue;
    const T* raw = logits + i * classes;
    bool has_nan = false, has_pinf = false, all_ninf = true;
    long double m = -inf, A = 0, top = 0;  // top: the largest finite |x_c|
    for (std::size_t c = 0; c < classes; ++c) {
      x[c] = capped_logit(raw[c], cap);
      d[c] = capped_slope(raw[c], cap);
      const long double v = x[c];
      has_nan |= std::isnan(v);
      has_pinf |= v == inf;
      if (!std::isnan(v)) {
        all_ninf &= v == -inf;
        m = std::max(m, v);
      }
      if (std::isfinite(v)) top = std::max(top, std::fabs(v));
      a[c] = coefficient(i, c);
      A += a[c];
    }
    // NaN when the row's softmax is undefined: a NaN or +inf logit, or no logit above -inf
    // (which includes a row without classes). Capped logits are finite but for NaN: then only
    // a NaN, or no classes.
    if (has_nan || has_pinf || all_ninf) {
      r.loss[i] = nan;
      for (std::size_t c = 0; c < classes; ++c) r.grad[i * classes + c] = nan;
      continue;
    }
    for (std::size_t c = 0; c < classes; ++c) {
      const long double big = std::max({1.0L, a[c], weight(c)});
      if (std::isfinite(x[c])) r.gap_bound[i] += big * (m - x[c]);
    }
    long double s = 0;
    for (std::size_t c = 0; c < classes; ++c) s += std::exp(x[c] - m);
    // -log p_c = (m - x_c) + log s, summed in this order: near the top of double's range
    // m + log s would lose log s
    const long double log_s = std::log(s);
    long double loss = 0;
    bool tiny_only = true;
    for (std::size_t c = 0; c < classes; ++c) {
      if (a[c] == 0) continue;
      loss += a[c] * ((m - x[c]) + log_s);  // +inf at -inf
      // (a float kernel forms a_c as w_c times the rest: either product may round to 0)
      const long double dm = std::numeric_limits<float>::denorm_min();
      if (std::isinf(x[c]))
        tiny_only &= a[c] < 2 * dm || a[c] < 2 * weight(c) * dm;
    }
    r.inf_from_tiny[i] = std::isinf(loss) && tiny_only;
    // the z-loss: z lse^2, lse = m + log s carrying the rounding of log s (about one unit of
    // rtol absolutely), so 2 z |lse| more slack; the kernels form z lse^2 and 2 z lse in double,
    // which rows with |lse| near double's range leave (gap_bound)
    const long double lse = m + log_s;
    const long double z_lse = 2 * z * std::fabs(lse);
    if (z != 0) {
      loss += z * lse * lse;
      r.gap_bound[i] += z * lse * lse + z_lse;
    }
    r.loss[i] = loss;
    r.row_a[i] = A;
    r.grad_a[i] = A + z_lse;
    // Capped logits are rounded values, not the exact inputs: each x_c and m off by a few units
    // of the kernel's precision relative to `top`, so every gap m - x_c, log s and lse by up to
    // about 2 top rtol absolutely (and each p_c relatively)
    const long double capped = cap > 0 ? 2 * top : 0;
    r.loss_slack[i] = (std::isinf(loss) ? 0 : loss) + (A + z_lse) * (1 + capped);
    // a_c = w_c * f_c rounds twice: f_c to a denormal (off by w_c * denormal after the
    // product) and the product itself (off by one denormal): w_c + 1 denormals per a_c
    long double E = 0;
    for (std::size_t c = 0; c < classes; ++c) {
      E += weight(c) + 1;
      if (std::isfinite(x[c]))
        r.loss_denormal[i] += (weight(c) + 1) * ((m - x[c]) + log_s);
    }
    r.loss_denormal[i] += E;
    for (std::size_t c = 0; c < classes; ++c) {
      const long double pc = std::exp(x[c] - m) / s;
      r.grad[i * classes + c] = r.scale * ((A + 2 * z * lse) * pc - a[c]) * d[c];
      // (log s, so lse, is off by about rtol absolutely: 2 z p_c rtol, however small lse is)
      const long double slack =
          r.scale * ((A + z_lse + (z != 0 ? 2 * z : 0)) * (1 + capped) * pc + a[c]);
      // capped: the gradient with respect to x'_c, within slack, times d_c <= 1, which itself
      // may be off by up to rtol absolutely (where tanh saturates and d_c is tiny, a kernel's
      // d_c need not keep its relative accuracy), times at most slack
      r.grad_slack[i * classes + c] = cap > 0 ? slack * (d[c] + 1) : slack;
      r.grad_denormal[i * classes + c] = (1 + r.scale) * (pc * E + weight(c) + 1);
    }
  }
  return r;
}

/// Whether an observed T agrees with a reference value within `tol`: NaN exactly where the
/// reference is NaN, the same infinity where it is infinite, and an overflow to infinity only
/// where the reference is at the edge of T's range.
template <class T>
auto agrees(T observed, long double ref, long double tol) -> bool {
  const long double v = observed;
  if (std::isnan(ref)) return std::isnan(v);
  if (std::isnan(v)) return false;
  if (std::isinf(ref)) return v == ref;
  if (std::isinf(v)) {
    const long double edge = static_cast<long double>(std::numeric_limits<T>::max());
    return (v > 0) == (ref > 0) && std::fabs(ref) + tol >= edge * (1 - 1e-6L);
  }
  return std::fabs(v - ref) <= tol;
}

/// Absolute slack for results near T's smallest numbers (underflow to 0 or denormals).
template <class T>
constexpr long double tiny = 8 * static_cast<long double>(std::numeric_limits<T>::min());

// ---------------------------------------------------------------------------------------------
// Instruction sets.

inline auto isa_name(sg::isa a) -> std::string { return std::string(sg::to_string(a)); }
/// Every set this build and CPU can run: the property must hold on each. When
/// SHAPEGUARD_FORCE_ISA names one of them, that one alone.
inline auto isas() -> std::span<const sg::isa> {
  static const std::span<const sg::isa> chosen = [] {
    const std::span<const sg::isa> all = sg::supported_isas();
    const char* forced = std::getenv("SHAPEGUARD_FORCE_ISA");
    for (std::size_t k = 0; forced && k < all.size(); ++k)
      if (isa_name(all[k]) == forced) return all.subspan(k, 1);
    return all;
  }();
  return chosen;
}
inline void use_isa(sg::isa a) { sg::detail::override_isa(a); }
inline auto is_scalar(sg::isa a) -> bool { return a == sg::isa::scalar; }

}  // namespace fuzz
