// ns per logit element of the checked softmax cross-entropy on each instruction set, forward
// only and fused forward+backward, on 1 and 2 threads; beside libtorch's cross_entropy
// forward+backward on the same data (when built with it) and a plain streaming pass over the
// same bytes (read the logits, write a gradient-sized buffer), the memory floor. Beside them,
// the fastest CPU softmax forward passes (no loss, no gradient), where they are found: oneDNN's
// softmax_v2 (Debian: libdnnl-dev) and XNNPACK's softmax_nc_f32 (libxnnpack-dev,
// libpthreadpool-dev), one thread each; and the compute floor of the forward pass, exp of
// every logit minus its row's max, summed, with shapeguard's own vector exp on rows that stay
// in cache. The plain case
// also with logits and gradient in bfloat16 and float16 (shapeguard/bf16, shapeguard/fp16),
// beside torch's bfloat16 cross_entropy and the streaming pass over 2 bytes per element.
//
//   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSHAPEGUARD_BUILD_BENCHMARKS=ON
//   cmake --build build-bench --target bench_softmax_cross_entropy
//   build-bench/tests/benchmark/bench_softmax_cross_entropy
//
// Every result carries the counter ns_per_elem: wall time per iteration / (rows * classes).
#include <shapeguard/shapeguard.hpp>

#include <cstddef>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#if SHAPEGUARD_BENCH_TORCH
#include <torch/torch.h>
#endif
#if SHAPEGUARD_BENCH_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif
#if SHAPEGUARD_BENCH_XNNPACK
#include <xnnpack.h>
#endif
#include <cstdio>
#include <cstdlib>

#include <unistd.h>

namespace sg = shapeguard;

namespace {

struct shape {
  std::size_t rows, classes;
};

constexpr shape shapes[] = {{8192, 10}, {2048, 1000}, {256, 32000}, {64, 128256}};

struct problem {
  std::vector<float> logits, grad, targets, weights;
  std::vector<std::int64_t> labels;
};

/// What the labels and options of a case are: class indices alone, with label smoothing 0.1,
/// with class weights, with the z-loss (z = 1e-4), with soft-capping (s = 30), with
/// predictions and their count, or probability rows.
enum class variant { plain, smoothing, weights, z_loss, soft_cap, predictions, probabilities };

auto variant_name(variant v) -> std::string {
  switch (v) {
    case variant::plain: return "";
    case variant::smoothing: return "/smoothing";
    case variant::weights: return "/weights";
    case variant::z_loss: return "/z_loss";
    case variant::soft_cap: return "/soft_cap";
    case variant::predictions: return "/predictions";
    case variant::probabilities: return "/probabilities";
  }
  return "";
}

auto make(shape s) -> problem {
  std::mt19937_64 rng(s.rows * 1000003 + s.classes);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  problem p;
  p.logits.resize(s.rows * s.classes);
  for (auto& x : p.logits) x = normal(rng);
  p.grad.resize(p.logits.size());
  p.labels.resize(s.rows);
  for (auto& y : p.labels) y = std::int64_t(rng() % s.classes);
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

/// Probability rows: a softmax of other rows of the logits, positive values that sum to 1.
auto probability_rows(const problem& p, shape s) -> std::vector<float> {
  std::vector<float> t(p.logits.size());
  for (std::size_t i = 0; i < s.rows; ++i) {
    const float* other = p.logits.data() + (i * 7 + 3) % s.rows * s.classes;
    double sum = 0;
    for (std::size_t c = 0; c < s.classes; ++c) sum += std::exp(double(other[c]));
    for (std::size_t c = 0; c < s.classes; ++c)
      t[i * s.classes + c] = float(std::exp(double(other[c])) / sum);
  }
  return t;
}

void bm_shapeguard(benchmark::State& state, shape s, sg::isa set, bool backward,
                   std::size_t threads, variant v) {
  if (!sg::is_supported(set)) {
    state.SkipWithError("instruction set not supported here");
    return;
  }
  problem p = make(s);
  if (v == variant::probabilities) p.targets = probability_rows(p, s);
  using matrix = sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>>;
  using mutable_matrix = sg::tensor_view<float, sg::extents<sg::dyn, sg::dyn>>;
  const matrix x(p.logits.data(), s.rows, s.classes);
  const mutable_matrix g(p.grad.data(), s.rows, s.classes);
  const sg::tensor_view<const std::int64_t, sg::extents<sg::dyn>> y(p.labels.data(), s.rows);
  const sg::isa previous = sg::detail::override_isa(set);
  sg::ce_options options;
  options.threads = threads;
  if (v == variant::smoothing) options.label_smoothing = 0.1f;
  if (v == variant::weights) options.class_weights = p.weights;
  if (v == variant::z_loss) options.z_loss = 1e-4;
  if (v == variant::soft_cap) options.soft_cap = 30;
  const auto targets = sg::probabilities(matrix(p.targets.data(), s.rows, s.classes));
  std::vector<std::int64_t> predicted(s.rows);
  std::size_t correct = 0;
  for (auto _ : state) {
    float loss;
    if (v == variant::predictions)
      loss = backward ? sg::softmax_cross_entropy(x, y, g, sg::predictions(predicted, correct),
                                                  options)
                      : sg::softmax_cross_entropy(x, y, sg::predictions(predicted, correct),
                                                  options);
    else if (v == variant::probabilities)
      loss = backward ? sg::softmax_cross_entropy(x, targets, g, options)
                      : sg::softmax_cross_entropy(x, targets, options);
    else
      loss = backward ? sg::softmax_cross_entropy(x, y, g, options)
                      : sg::softmax_cross_entropy(x, y, options);
    benchmark::DoNotOptimize(loss);
    benchmark::ClobberMemory();
  }
  sg::detail::override_isa(previous);
  count_elements(state, s);
}

/// The plain case with the class count in the type, `extents<dyn, C>`, against the dynamic
/// views of bm_shapeguard: the same kernel, the checks of the class axis at compile time.
template <std::size_t C>
void bm_shapeguard_static(benchmark::State& state, shape s, sg::isa set) {
  if (!sg::is_supported(set)) {
    state.SkipWithError("instruction set not supported here");
    return;
  }
  problem p = make(s);
  const sg::tensor_view<const float, sg::extents<sg::dyn, C>> x(p.logits.data(), s.rows);
  const sg::tensor_view<float, sg::extents<sg::dyn, C>> g(p.grad.data(), s.rows);
  const sg::tensor_view<const std::int64_t, sg::extents<sg::dyn>> y(p.labels.data(), s.rows);
  const sg::isa previous = sg::detail::override_isa(set);
  for (auto _ : state) {
    const float loss = sg::softmax_cross_entropy(x, y, g);
    benchmark::DoNotOptimize(loss);
    benchmark::ClobberMemory();
  }
  sg::detail::override_isa(previous);
  count_elements(state, s);
}

/// The plain case (class indices) with logits and gradient stored in 16 bits (H), computed in
/// float: the same logits as the float cases, rounded.
template <class H>
void bm_shapeguard16(benchmark::State& state, shape s, sg::isa set, bool backward) {
  if (!sg::is_supported(set)) {
    state.SkipWithError("instruction set not supported here");
    return;
  }
  const problem p = make(s);
  std::vector<H> logits(p.logits.size()), grad(p.logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = H(p.logits[i]);
  const sg::tensor_view<const H, sg::extents<sg::dyn, sg::dyn>> x(logits.data(), s.rows,
                                                                   s.classes);
  const sg::tensor_view<H, sg::extents<sg::dyn, sg::dyn>> g(grad.data(), s.rows, s.classes);
  const sg::tensor_view<const std::int64_t, sg::extents<sg::dyn>> y(p.labels.data(), s.rows);
  const sg::isa previous = sg::detail::override_isa(set);
  for (auto _ : state) {
    const float loss = backward ? sg::softmax_cross_entropy(x, y, g) : sg::softmax_cross_entropy(x, y);
    benchmark::DoNotOptimize(loss);
    benchmark::ClobberMemory();
  }
  sg::detail::override_isa(previous);
  count_elements(state, s);
}

#if SHAPEGUARD_BENCH_TORCH
/// torch's cross_entropy on logits of `type` (float or bfloat16); with `probabilities`, on
/// probability rows (the same ones as shapeguard's probabilities variant) instead of indices.
void bm_torch(benchmark::State& state, shape s, bool backward, int threads,
              torch::ScalarType type, bool probabilities) {
  at::set_num_threads(threads);
  problem p = make(s);
  const auto rows = std::int64_t(s.rows), classes = std::int64_t(s.classes);
  torch::Tensor x =
      torch::from_blob(p.logits.data(), {rows, classes}, torch::kFloat).to(type).clone();
  torch::Tensor y = torch::from_blob(p.labels.data(), {rows}, torch::kLong).clone();
  if (probabilities) {
    p.targets = probability_rows(p, s);
    y = torch::from_blob(p.targets.data(), {rows, classes}, torch::kFloat).to(type).clone();
  }
  x.requires_grad_(backward);
  namespace F = torch::nn::functional;
  for (auto _ : state) {
    if (backward) {
      torch::Tensor loss = F::cross_entropy(x, y);
      loss.backward();
      benchmark::DoNotOptimize(x.grad().data_ptr());
      x.mutable_grad() = torch::Tensor();  // zero_grad(set_to_none=True)
    } else {
      torch::NoGradGuard no_grad;
      torch::Tensor loss = F::cross_entropy(x, y);
      benchmark::DoNotOptimize(loss.data_ptr());
    }
    benchmark::ClobberMemory();
  }
  count_elements(state, s);
}
#endif

/// Segmentation in PyTorch's order: logits [N, C, H, W] with labels [N, H, W], the class axis
/// at 1 (sg::class_axis<1>), fused loss and gradient; with `classes_last`, the same values stored
/// [N, H, W, C] instead, the row-major call.
struct segmentation {
  std::size_t n, classes, h, w;
  auto elements() const -> std::size_t { return n * classes * h * w; }
  auto pixels() const -> std::size_t { return n * h * w; }
};
constexpr segmentation voc{32, 21, 128, 128};

auto make_segmentation(segmentation s) -> problem {
  std::mt19937_64 rng(17);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  problem p;
  p.logits.resize(s.elements());
  for (auto& x : p.logits) x = normal(rng);
  p.grad.resize(p.logits.size());
  p.labels.resize(s.pixels());
  for (auto& y : p.labels) y = std::int64_t(rng() % s.classes);
  return p;
}

void bm_segmentation(benchmark::State& state, segmentation s, sg::isa set, bool classes_last) {
  if (!sg::is_supported(set)) {
    state.SkipWithError("instruction set not supported here");
    return;
  }
  problem p = make_segmentation(s);
  const sg::isa previous = sg::detail::override_isa(set);
  const sg::tensor_view<const std::int64_t, sg::dims<3>> y(p.labels.data(), s.n, s.h, s.w);
  const sg::tensor_view<const float, sg::dims<4>> x(p.logits.data(), s.n, s.classes, s.h, s.w);
  const sg::tensor_view<float, sg::dims<4>> g(p.grad.data(), s.n, s.classes, s.h, s.w);
  const sg::tensor_view<const float, sg::dims<4>> x_last(p.logits.data(), s.n, s.h, s.w, s.classes);
  const sg::tensor_view<float, sg::dims<4>> g_last(p.grad.data(), s.n, s.h, s.w, s.classes);
  for (auto _ : state) {
    const float loss = classes_last
                           ? sg::softmax_cross_entropy(x_last, y, g_last)
                           : sg::softmax_cross_entropy(sg::class_axis<1>(x), y,
                                                       sg::class_axis<1>(g));
    benchmark::DoNotOptimize(loss);
    benchmark::ClobberMemory();
  }
  sg::detail::override_isa(previous);
  count_elements(state, {s.pixels(), s.classes});
}

#if SHAPEGUARD_BENCH_TORCH
void bm_torch_segmentation(benchmark::State& state, segmentation s) {
  at::set_num_threads(1);
  problem p = make_segmentation(s);
  const auto d = [](std::size_t v) { return std::int64_t(v); };
  torch::Tensor x = torch::from_blob(p.logits.data(), {d(s.n), d(s.classes), d(s.h), d(s.w)},
                                     torch::kFloat)
                        .clone();
  const torch::Tensor y =
      torch::from_blob(p.labels.data(), {d(s.n), d(s.h), d(s.w)}, torch::kLong).clone();
  x.requires_grad_(true);
  for (auto _ : state) {
    torch::Tensor loss = torch::nn::functional::cross_entropy(x, y);
    loss.backward();
    benchmark::DoNotOptimize(x.grad().data_ptr());
    x.mutable_grad() = torch::Tensor();
    benchmark::ClobberMemory();
  }
  count_elements(state, {s.pixels(), s.classes});
}
#endif

#if SHAPEGUARD_BENCH_DNNL
/// oneDNN's softmax forward over the rows (inference, accurate algorithm), one thread.
void bm_dnnl(benchmark::State& state, shape s) {
  problem p = make(s);
  using namespace dnnl;
  engine cpu(engine::kind::cpu, 0);
  stream strm(cpu);
  const memory::desc md({memory::dim(s.rows), memory::dim(s.classes)}, memory::data_type::f32,
                        memory::format_tag::ab);
  const softmax_v2_forward::primitive_desc pd(
      softmax_v2_forward::desc(prop_kind::forward_inference, algorithm::softmax_accurate, md, md,
                               1),
      cpu);
  const softmax_v2_forward softmax(pd);
  memory src(md, cpu, p.logits.data()), dst(md, cpu, p.grad.data());
  for (auto _ : state) {
    softmax.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
    strm.wait();
    benchmark::ClobberMemory();
  }
  count_elements(state, s);
}
#endif

#if SHAPEGUARD_BENCH_XNNPACK
/// XNNPACK's softmax over the rows, one thread (no thread pool).
void bm_xnnpack(benchmark::State& state, shape s) {
  problem p = make(s);
  if (xnn_initialize(nullptr) != xnn_status_success) {
    state.SkipWithError("xnn_initialize failed");
    return;
  }
  xnn_operator_t op = nullptr;
  if (xnn_create_softmax_nc_f32(s.classes, s.classes, s.classes, 0, &op) != xnn_status_success ||
      xnn_setup_softmax_nc_f32(op, s.rows, p.logits.data(), p.grad.data(), nullptr) !=
          xnn_status_success) {
    state.SkipWithError("XNNPACK's softmax could not be set up");
    return;
  }
  for (auto _ : state) {
    xnn_run_operator(op, nullptr);
    benchmark::ClobberMemory();
  }
  xnn_delete_operator(op);
  count_elements(state, s);
}
#endif

// The compute floor of the forward pass: per row, its max, then exp(x - max) of every logit,
// summed, with shapeguard's own vector exp (AVX-512, or AVX2), each row in pieces of at most
// 4096 logits (16 KiB, in L1), each piece its own max, in four chains each: the arithmetic no
// softmax can do without.
#if defined(__x86_64__)
// (one body, stamped out for each set: the vector layers inline only into functions of their set)
#define SHAPEGUARD_BENCH_EXP_FLOOR(NAME, TARGET, LAYER, NS)                                    \
  TARGET auto NAME(const float* x, std::size_t rows, std::size_t classes) -> float {           \
    using V = sg::detail::simd::LAYER;                                                          \
    constexpr std::size_t piece = 4096, W = V::width;                                          \
    float total = 0;                                                                            \
    for (std::size_t r = 0; r < rows; ++r)                                                      \
      for (std::size_t c0 = 0; c0 < classes; c0 += piece) {                                    \
        const float* row = x + r * classes + c0;                                                \
        const std::size_t n = classes - c0 < piece ? classes - c0 : piece;                     \
        /* four chains for the max and for the sum: one would wait on each add's latency */    \
        V::reg mv[4], sum[4];                                                                   \
        for (auto& v : mv) v = V::set1(-1e30f);                                                 \
        std::size_t c = 0;                                                                      \
        for (; c + 4 * W <= n; c += 4 * W)                                                      \
          for (std::size_t k = 0; k < 4; ++k)                                                   \
            mv[k] = V::max_ignore_nan(V::load(row + c + k * W), mv[k]);                         \
        for (; c + W <= n; c += W) mv[0] = V::max_ignore_nan(V::load(row + c), mv[0]);         \
        if (c < n) mv[1] = V::max_ignore_nan(V::load_tail(row + c, n - c, -1e30f), mv[1]);      \
        const V::reg m = V::set1(V::reduce_max(                                                 \
            V::max_ignore_nan(V::max_ignore_nan(mv[0], mv[1]), V::max_ignore_nan(mv[2], mv[3])))); \
        for (auto& v : sum) v = V::zero();                                                      \
        for (c = 0; c + 4 * W <= n; c += 4 * W)                                                 \
          for (std::size_t k = 0; k < 4; ++k)                                                   \
            sum[k] = V::add(sum[k],                                                             \
                            sg::detail::NS::vexp<V>(V::sub(V::load(row + c + k * W), m)));      \
        for (; c + W <= n; c += W)                                                              \
          sum[0] = V::add(sum[0], sg::detail::NS::vexp<V>(V::sub(V::load(row + c), m)));        \
        if (c < n)                                                                              \
          sum[1] = V::add(sum[1], sg::detail::NS::vexp<V>(                                      \
                                      V::sub(V::load_tail(row + c, n - c, -1e30f), m)));        \
        total += float(V::reduce_add(V::add(V::add(sum[0], sum[1]), V::add(sum[2], sum[3]))));  \
      }                                                                                         \
    return total;                                                                               \
  }
// (GCC 12's AVX-512 headers draw -Wmaybe-uninitialized at every inlined use: GCC bug 105593)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
SHAPEGUARD_BENCH_EXP_FLOOR(exp_floor_avx2, SHAPEGUARD_TARGET_AVX2, avx2_f32, avx2_kernel)
SHAPEGUARD_BENCH_EXP_FLOOR(exp_floor_avx512, SHAPEGUARD_TARGET_AVX512, avx512_f32, avx512_kernel)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#undef SHAPEGUARD_BENCH_EXP_FLOOR

void bm_exp_floor(benchmark::State& state, shape s, sg::isa set) {
  if (!sg::is_supported(set)) {
    state.SkipWithError("instruction set not supported here");
    return;
  }
  problem p = make(s);
  // a block of rows that stays in L2 (at most 256 KiB), read over and over: from cache
  const std::size_t rows = std::max<std::size_t>(1, std::min(s.rows, (std::size_t(1) << 16) / s.classes));
  for (auto _ : state) {
    for (std::size_t r = 0; r < s.rows; r += rows) {
      const float v = set == sg::isa::avx512 ? exp_floor_avx512(p.logits.data(), rows, s.classes)
                                             : exp_floor_avx2(p.logits.data(), rows, s.classes);
      benchmark::DoNotOptimize(v);
    }
    benchmark::ClobberMemory();
  }
  count_elements(state, s);
}
#endif

// The memory floor: read every logit once and write every gradient element once, with plain
// (cached) vector stores like the kernel's.
#if defined(__x86_64__)
__attribute__((target("avx2"))) void stream(const float* x, float* g, std::size_t n) {
  const __m256 half = _mm256_set1_ps(0.5f);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), half));
  for (; i < n; ++i) g[i] = 0.5f * x[i];
}
__attribute__((target("avx2"))) auto stream_read(const float* x, std::size_t n) -> float {
  __m256 a = _mm256_setzero_ps(), b = a;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a = _mm256_add_ps(a, _mm256_loadu_ps(x + i));
    b = _mm256_add_ps(b, _mm256_loadu_ps(x + i + 8));
  }
  float out[8];
  _mm256_storeu_ps(out, _mm256_add_ps(a, b));
  float sum = out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
  for (; i < n; ++i) sum += x[i];
  return sum;
}
#else
void stream(const float* x, float* g, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) g[i] = 0.5f * x[i];
}
auto stream_read(const float* x, std::size_t n) -> float {
  float sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += x[i];
  return sum;
}
#endif

/// With `bytes` 2, the same pass over half the bytes: the floor of 16-bit logits and gradient.
void bm_stream(benchmark::State& state, shape s, bool write, std::size_t bytes) {
  problem p = make(s);
  const std::size_t n = p.logits.size() * bytes / 4;
  for (auto _ : state) {
    if (write) {
      stream(p.logits.data(), p.grad.data(), n);
    } else {
      benchmark::DoNotOptimize(stream_read(p.logits.data(), n));
    }
    benchmark::ClobberMemory();
  }
  count_elements(state, s);
}

auto name(shape s) -> std::string {
  return std::to_string(s.rows) + "x" + std::to_string(s.classes);
}

}  // namespace

int main(int argc, char** argv) {
  // oneDNN (built with OpenMP here) on one thread, as every other single-thread case. The
  // OpenMP runtime reads OMP_NUM_THREADS when it is loaded, before main: set it and start again.
  if (std::getenv("OMP_NUM_THREADS") == nullptr) {
    setenv("OMP_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);
    std::perror("execv /proc/self/exe");  // then go on: oneDNN may use every core
  }
  for (shape s : shapes) {
    for (sg::isa set : {sg::isa::scalar, sg::isa::avx2, sg::isa::avx512, sg::isa::neon}) {
      if (!sg::is_supported(set)) continue;
      for (bool backward : {true, false}) {
        for (std::size_t threads : {std::size_t(1), std::size_t(2)}) {
          const std::string n = "shapeguard/" + std::string(sg::to_string(set)) +
                                (backward ? "/fused" : "/forward") + "/" + name(s) +
                                "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(n.c_str(), bm_shapeguard, s, set, backward, threads,
                                       variant::plain)
              ->UseRealTime();
        }
      }
    }
    // the options at a short and a long row (the z-loss, soft-capping and predictions also at
    // 32000): fused,
    // one thread
    if (s.classes == 10 || s.classes == 1000 || s.classes == 32000) {
      for (sg::isa set : {sg::isa::avx2, sg::isa::avx512, sg::isa::neon}) {
        if (!sg::is_supported(set)) continue;
        for (variant v : {variant::smoothing, variant::weights, variant::z_loss,
                          variant::soft_cap, variant::predictions, variant::probabilities}) {
          if (s.classes == 32000 && v != variant::z_loss && v != variant::soft_cap &&
              v != variant::predictions)
            continue;
          const std::string n = "shapeguard/" + std::string(sg::to_string(set)) + "/fused" +
                                variant_name(v) + "/" + name(s) + "/threads:1";
          benchmark::RegisterBenchmark(n.c_str(), bm_shapeguard, s, set, true, std::size_t(1), v)
              ->UseRealTime();
        }
      }
    }
    // the class count in the type, fused, one thread
    if (s.classes == 10) {
      for (sg::isa set : {sg::isa::avx2, sg::isa::avx512, sg::isa::neon}) {
        if (!sg::is_supported(set)) continue;
        const std::string n =
            "shapeguard/" + std::string(sg::to_string(set)) + "/fused/static/" + name(s) + "/threads:1";
        benchmark::RegisterBenchmark(n.c_str(), bm_shapeguard_static<10>, s, set)->UseRealTime();
      }
    }
    // 16-bit storage, one thread
    for (sg::isa set : {sg::isa::scalar, sg::isa::avx2, sg::isa::avx512, sg::isa::neon}) {
      if (!sg::is_supported(set)) continue;
      for (bool backward : {true, false}) {
        const std::string n = std::string(sg::to_string(set)) +
                              (backward ? "/fused" : "/forward") + "/" + name(s) + "/threads:1";
        benchmark::RegisterBenchmark(("shapeguard/bf16/" + n).c_str(),
                                     bm_shapeguard16<sg::bfloat16>, s, set, backward)
            ->UseRealTime();
        benchmark::RegisterBenchmark(("shapeguard/fp16/" + n).c_str(),
                                     bm_shapeguard16<sg::float16>, s, set, backward)
            ->UseRealTime();
      }
    }
#if SHAPEGUARD_BENCH_TORCH
    for (bool backward : {true, false}) {
      const std::string n =
          std::string(backward ? "/fused/" : "/forward/") + name(s) + "/threads:1";
      benchmark::RegisterBenchmark(("torch/bf16" + n).c_str(), bm_torch, s, backward, 1,
                                   torch::kBFloat16, false)
          ->UseRealTime();
    }
    for (int threads : {1, 2}) {
      const std::string t = "/" + name(s) + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(("torch/fused" + t).c_str(), bm_torch, s, true, threads,
                                   torch::kFloat, false)
          ->UseRealTime();
      benchmark::RegisterBenchmark(("torch/forward" + t).c_str(), bm_torch, s, false, threads,
                                   torch::kFloat, false)
          ->UseRealTime();
    }
    if (s.classes == 10 || s.classes == 1000)
      benchmark::RegisterBenchmark(("torch/fused/probabilities/" + name(s) + "/threads:1").c_str(),
                                   bm_torch, s, true, 1, torch::kFloat, true)
          ->UseRealTime();
#endif
#if SHAPEGUARD_BENCH_DNNL
    benchmark::RegisterBenchmark(("onednn/softmax_forward/" + name(s) + "/threads:1").c_str(),
                                 bm_dnnl, s)
        ->UseRealTime();
#endif
#if SHAPEGUARD_BENCH_XNNPACK
    benchmark::RegisterBenchmark(("xnnpack/softmax_forward/" + name(s) + "/threads:1").c_str(),
                                 bm_xnnpack, s)
        ->UseRealTime();
#endif
#if defined(__x86_64__)
    // (long rows only: rows shorter than a register spend the pass on per-row reductions,
    // which the tile kernel avoids, so it is no floor there)
    for (sg::isa set : {sg::isa::avx2, sg::isa::avx512})
      if (sg::is_supported(set) && s.classes >= 1000)
        benchmark::RegisterBenchmark(
            ("floor/exp_sum/" + std::string(sg::to_string(set)) + "/" + name(s)).c_str(),
            bm_exp_floor, s, set)
            ->UseRealTime();
#endif
    benchmark::RegisterBenchmark(("stream/read_write/" + name(s)).c_str(), bm_stream, s, true,
                                 std::size_t(4))
        ->UseRealTime();
    benchmark::RegisterBenchmark(("stream/read/" + name(s)).c_str(), bm_stream, s, false,
                                 std::size_t(4))
        ->UseRealTime();
    benchmark::RegisterBenchmark(("stream/read_write/16bit/" + name(s)).c_str(), bm_stream, s,
                                 true, std::size_t(2))
        ->UseRealTime();
  }
  // segmentation, class axis 1: one thread
  {
    const std::string n = "/32x21x128x128/threads:1";
    for (sg::isa set : {sg::isa::scalar, sg::isa::avx2, sg::isa::avx512, sg::isa::neon}) {
      if (!sg::is_supported(set)) continue;
      const std::string prefix = "segmentation/shapeguard/" + std::string(sg::to_string(set));
      benchmark::RegisterBenchmark((prefix + "/class_axis_1" + n).c_str(), bm_segmentation, voc,
                                   set, false)
          ->UseRealTime();
      benchmark::RegisterBenchmark((prefix + "/classes_last" + n).c_str(), bm_segmentation, voc,
                                   set, true)
          ->UseRealTime();
    }
#if SHAPEGUARD_BENCH_TORCH
    benchmark::RegisterBenchmark(("segmentation/torch/fused" + n).c_str(), bm_torch_segmentation,
                                 voc)
        ->UseRealTime();
#endif
    benchmark::RegisterBenchmark("segmentation/stream/read_write/32x21x128x128", bm_stream,
                                 shape{voc.pixels(), voc.classes}, true, std::size_t(4))
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
