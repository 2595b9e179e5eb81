// ns per logit element of the checked sigmoid cross-entropy (binary cross-entropy with logits)
// on each instruction set, forward only and fused forward+backward, on 1 thread; beside
// libtorch's binary_cross_entropy_with_logits on the same data (when built with it) and a plain
// streaming pass over the same bytes as the fused call (read the logits and the targets, write a
// gradient-sized buffer), the memory floor; and one vector exp and log1p per logit (AVX2),
// the compute floor of any stable form of the loss.
//
//   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSHAPEGUARD_BUILD_BENCHMARKS=ON
//   cmake --build build-bench --target bench_sigmoid_cross_entropy
//   build-bench/tests/benchmark/bench_sigmoid_cross_entropy --benchmark_repetitions=5
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
//       --benchmark_out=sigmoid.json --benchmark_out_format=json        (one command line)
//   python3 tests/benchmark/table_sigmoid.py sigmoid.json
//
// Every result carries the counter ns_per_elem: wall time per iteration / (rows * classes).
// Besides Google Benchmark's mean, median and stddev, every repeated case reports its minimum.
// Before its timing, each shapeguard case checks its loss (and every 97th gradient entry)
// against a double evaluation of the formula, and reports an error instead of a time if they
// differ by more than 1e-5 relative.
#include <shapeguard/shapeguard.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#if SHAPEGUARD_BENCH_TORCH
#include <torch/torch.h>
#endif

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace sg = shapeguard;

namespace {

struct shape {
  std::size_t rows, classes;
};

constexpr shape shapes[] = {{8192, 10}, {2048, 1000}, {256, 32000}};

/// Logits random normal, targets random multi-hot (each 0 or 1, as float), one pos_weight and
/// one class weight per class.
struct problem {
  std::vector<float> logits, targets, grad, pos_weight, weights;
};

/// What the options of a case are: none, or pos_weight and class_weights together.
enum class variant { plain, weighted };

auto make(shape s) -> problem {
  std::mt19937_64 rng(s.rows * 1000003 + s.classes);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::bernoulli_distribution hot(0.3);
  problem p;
  p.logits.resize(s.rows * s.classes);
  for (auto& x : p.logits) x = normal(rng);
  p.targets.resize(p.logits.size());
  for (auto& t : p.targets) t = hot(rng) ? 1.0f : 0.0f;
  p.grad.resize(p.logits.size());
  p.pos_weight.resize(s.classes);
  for (auto& w : p.pos_weight) w = 1.0f + float(rng() % 300) / 100.0f;
  p.weights.resize(s.classes);
  for (auto& w : p.weights) w = 0.5f + float(rng() % 100) / 100.0f;
  return p;
}

void count_elements(benchmark::State& state, shape s) {
  // inverted rate: seconds per (1e-9 * element) = ns per element
  state.counters["ns_per_elem"] = benchmark::Counter(
      double(s.rows * s.classes) * 1e-9,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

/// The mean loss in double from the formula, and whether the gradient `g` (of the mean) agrees
/// with it at every 97th element: a check, once per case before the timing, that the figures are
/// those of the right result.
auto agrees(const problem& p, std::size_t classes, float loss, const float* g, variant v)
    -> bool {
  const std::size_t n = p.logits.size();
  double sum = 0;
  bool ok = true;
  for (std::size_t e = 0; e < n; ++e) {
    const double x = p.logits[e], t = p.targets[e];
    const std::size_t c = e % classes;
    const double w = v == variant::weighted ? double(p.weights[c]) : 1.0;
    const double pw = v == variant::weighted ? double(p.pos_weight[c]) : 1.0;
    const double sp = std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));  // softplus(x)
    sum += w * ((1 - t) * sp + pw * t * (sp - x));
    if (g != nullptr && e % 97 == 0) {
      const double sig = 1 / (1 + std::exp(-x));
      const double d = w * ((1 - t) * sig - pw * t * (1 - sig)) / double(n);
      ok = ok && std::abs(double(g[e]) - d) <= 1e-5 * std::abs(d) + 1e-6 / double(n);
    }
  }
  const double mean = sum / double(n);
  return ok && std::abs(double(loss) - mean) <= 1e-5 * std::abs(mean) + 1e-7;
}

void bm_shapeguard(benchmark::State& state, shape s, sg::isa set, bool backward, variant v) {
  if (!sg::is_supported(set)) {
    state.SkipWithError("instruction set not supported here");
    return;
  }
  problem p = make(s);
  using matrix = sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>>;
  using mutable_matrix = sg::tensor_view<float, sg::extents<sg::dyn, sg::dyn>>;
  const matrix x(p.logits.data(), s.rows, s.classes);
  const matrix y(p.targets.data(), s.rows, s.classes);
  const mutable_matrix g(p.grad.data(), s.rows, s.classes);
  const sg::isa previous = sg::detail::override_isa(set);
  sg::bce_options options;
  options.threads = 1;
  if (v == variant::weighted) {
    options.pos_weight = p.pos_weight;
    options.class_weights = p.weights;
  }
  {
    const float loss = backward ? sg::sigmoid_cross_entropy(x, y, g, options)
                                : sg::sigmoid_cross_entropy(x, y, options);
    if (!agrees(p, s.classes, loss, backward ? p.grad.data() : nullptr, v)) {
      sg::detail::override_isa(previous);
      state.SkipWithError("the loss or the gradient disagrees with the double reference");
      return;
    }
  }
  for (auto _ : state) {
    const float loss = backward ? sg::sigmoid_cross_entropy(x, y, g, options)
                                : sg::sigmoid_cross_entropy(x, y, options);
    benchmark::DoNotOptimize(loss);
    benchmark::ClobberMemory();
  }
  sg::detail::override_isa(previous);
  count_elements(state, s);
}

#if SHAPEGUARD_BENCH_TORCH
void bm_torch(benchmark::State& state, shape s, bool backward, variant v) {
  at::set_num_threads(1);
  problem p = make(s);
  const auto rows = std::int64_t(s.rows), classes = std::int64_t(s.classes);
  torch::Tensor x = torch::from_blob(p.logits.data(), {rows, classes}, torch::kFloat).clone();
  const torch::Tensor y =
      torch::from_blob(p.targets.data(), {rows, classes}, torch::kFloat).clone();
  namespace F = torch::nn::functional;
  F::BinaryCrossEntropyWithLogitsFuncOptions options;  // reduction mean
  if (v == variant::weighted) {
    options.pos_weight(torch::from_blob(p.pos_weight.data(), {classes}, torch::kFloat).clone());
    options.weight(torch::from_blob(p.weights.data(), {classes}, torch::kFloat).clone());
  }
  x.requires_grad_(backward);
  for (auto _ : state) {
    if (backward) {
      torch::Tensor loss = F::binary_cross_entropy_with_logits(x, y, options);
      loss.backward();
      benchmark::DoNotOptimize(x.grad().data_ptr());
      x.mutable_grad() = torch::Tensor();  // zero_grad(set_to_none=True)
    } else {
      torch::NoGradGuard no_grad;
      torch::Tensor loss = F::binary_cross_entropy_with_logits(x, y, options);
      benchmark::DoNotOptimize(loss.data_ptr());
    }
    benchmark::ClobberMemory();
  }
  count_elements(state, s);
}
#endif

// The memory floor of the fused call: read every logit and every target once and write every
// gradient element once (g = x - t), with plain (cached) vector stores like the kernel's; and of
// the forward call: read both, write nothing.
#if defined(__x86_64__)
__attribute__((target("avx2"))) void stream(const float* x, const float* t, float* g,
                                            std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(g + i, _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(t + i)));
  for (; i < n; ++i) g[i] = x[i] - t[i];
}
__attribute__((target("avx2"))) auto stream_read(const float* x, const float* t, std::size_t n)
    -> float {
  __m256 a = _mm256_setzero_ps(), b = a;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a = _mm256_add_ps(a, _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(t + i)));
    b = _mm256_add_ps(b, _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(t + i + 8)));
  }
  float out[8];
  _mm256_storeu_ps(out, _mm256_add_ps(a, b));
  float sum = out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
  for (; i < n; ++i) sum += x[i] - t[i];
  return sum;
}
#else
void stream(const float* x, const float* t, float* g, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) g[i] = x[i] - t[i];
}
auto stream_read(const float* x, const float* t, std::size_t n) -> float {
  float sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += x[i] - t[i];
  return sum;
}
#endif

// The compute floor of any stable form of the loss: one exp(-|x|) and one log1p of it per
// element, with shapeguard's own vector exp and log1p (AVX2), summed: no targets, no gradient.
#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) auto exp_log1p(const float* x, std::size_t n) -> float {
  namespace k = sg::detail::avx2_kernel;
  using V = sg::detail::simd::avx2_f32;
  __m256 sum = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 minus_abs = _mm256_min_ps(v, _mm256_sub_ps(_mm256_setzero_ps(), v));
    sum = _mm256_add_ps(sum, k::vlog1p_unit<V>(k::vexp<V>(minus_abs)));
  }
  float out[8];
  _mm256_storeu_ps(out, sum);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

void bm_floor(benchmark::State& state, shape s) {
  if (!sg::is_supported(sg::isa::avx2)) {
    state.SkipWithError("avx2 not supported here");
    return;
  }
  problem p = make(s);
  for (auto _ : state) {
    benchmark::DoNotOptimize(exp_log1p(p.logits.data(), p.logits.size()));
    benchmark::ClobberMemory();
  }
  count_elements(state, s);
}
#endif

void bm_stream(benchmark::State& state, shape s, bool write) {
  problem p = make(s);
  for (auto _ : state) {
    if (write) {
      stream(p.logits.data(), p.targets.data(), p.grad.data(), p.logits.size());
    } else {
      benchmark::DoNotOptimize(stream_read(p.logits.data(), p.targets.data(), p.logits.size()));
    }
    benchmark::ClobberMemory();
  }
  count_elements(state, s);
}

auto name(shape s) -> std::string {
  return std::to_string(s.rows) + "x" + std::to_string(s.classes);
}

auto minimum(const std::vector<double>& v) -> double {
  return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
}

/// Wall time, and the minimum over the repetitions beside Google Benchmark's aggregates.
auto add(benchmark::internal::Benchmark* b) -> void {
  b->UseRealTime()->ComputeStatistics("min", minimum);
}

}  // namespace

int main(int argc, char** argv) {
  for (shape s : shapes) {
    const std::string t = "/" + name(s) + "/threads:1";
    for (sg::isa set : {sg::isa::scalar, sg::isa::avx2, sg::isa::avx512, sg::isa::neon}) {
      if (!sg::is_supported(set)) continue;
      for (bool backward : {true, false}) {
        const std::string n = "shapeguard/" + std::string(sg::to_string(set)) +
                              (backward ? "/fused" : "/forward") + t;
        add(benchmark::RegisterBenchmark(n.c_str(), bm_shapeguard, s, set, backward,
                                            variant::plain));
      }
    }
    // pos_weight and class_weights together, fused, on the best set
    {
      const std::string n =
          "shapeguard/" + std::string(sg::to_string(sg::supported_isas().back())) +
          "/fused/weighted" + t;
      add(benchmark::RegisterBenchmark(n.c_str(), bm_shapeguard, s,
                                          sg::supported_isas().back(), true, variant::weighted));
    }
#if SHAPEGUARD_BENCH_TORCH
    add(benchmark::RegisterBenchmark(("torch/fused" + t).c_str(), bm_torch, s, true,
                                         variant::plain));
    add(benchmark::RegisterBenchmark(("torch/forward" + t).c_str(), bm_torch, s, false,
                                         variant::plain));
    add(benchmark::RegisterBenchmark(("torch/fused/weighted" + t).c_str(), bm_torch, s, true,
                                         variant::weighted));
#endif
    add(benchmark::RegisterBenchmark(("stream/read_write/" + name(s)).c_str(), bm_stream, s,
                                         true));
    add(benchmark::RegisterBenchmark(("stream/read/" + name(s)).c_str(), bm_stream, s,
                                         false));
#if defined(__x86_64__)
    add(benchmark::RegisterBenchmark(("floor/exp_log1p/" + name(s)).c_str(), bm_floor, s));
#endif
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
