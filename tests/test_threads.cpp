// ce_options::threads: how many threads a call uses, that each block of rows runs once, and that
// every result (the reduced loss, the gradient, per-sample losses) is the same bit for bit on
// any thread count, for every kind of target, on the active instruction set (CTest runs this
// program again per forced set).
#include <shapeguard/shapeguard.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#if defined(__unix__)
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <catch2/catch.hpp>

namespace sg = shapeguard;
namespace sd = shapeguard::detail;

namespace {

using matrix = sg::tensor_view<const float, sg::extents<sg::dyn, sg::dyn>>;
using mutable_matrix = sg::tensor_view<float, sg::extents<sg::dyn, sg::dyn>>;

template <class T>
auto same_bits(const std::vector<T>& a, const std::vector<T>& b) -> bool {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// One call's results on `threads` threads.
struct outcome {
  float loss = 0, sum = 0;
  std::vector<float> grad, losses;
};

template <class Labels>
auto solve(const std::vector<float>& x, std::size_t n, std::size_t c, const Labels& labels,
           sg::ce_options o) -> outcome {
  outcome r;
  r.grad.assign(n * c, -1.0f);
  r.losses.assign(n, -1.0f);
  r.loss = sg::softmax_cross_entropy(matrix(x.data(), n, c), labels,
                                     mutable_matrix(r.grad.data(), n, c), o);
  o.reduction = sg::reduction::sum;
  r.sum = sg::softmax_cross_entropy(matrix(x.data(), n, c), labels, o);
  o.reduction = sg::reduction::none;
  sg::softmax_cross_entropy(matrix(x.data(), n, c), labels, sg::per_sample(r.losses), o);
  return r;
}

template <class Labels>
void check_any_thread_count(const std::vector<float>& x, std::size_t n, std::size_t c,
                            const Labels& labels, const sg::ce_options& o,
                            const std::string& what) {
  INFO(what << " on " << sg::to_string(sg::active_isa()));
  sg::ce_options one = o;
  one.threads = 1;
  const outcome base = solve(x, n, c, labels, one);
  REQUIRE(std::isfinite(base.loss));
  REQUIRE(base.loss != 0.0f);
  for (std::size_t t : {std::size_t{2}, std::size_t{3}, std::size_t{5}, std::size_t{8}}) {
    INFO(t << " threads");
    sg::ce_options many = o;
    many.threads = t;
    const outcome r = solve(x, n, c, labels, many);
    CHECK(std::memcmp(&r.loss, &base.loss, sizeof r.loss) == 0);
    CHECK(std::memcmp(&r.sum, &base.sum, sizeof r.sum) == 0);
    CHECK(same_bits(r.grad, base.grad));
    CHECK(same_bits(r.losses, base.losses));
  }
}

/// Every caller of meet() on one `arrived` counts itself in and waits (at most 5 s) until
/// `n` have: whether they all did. Blocks that meet can only all finish if they run at once.
auto meet(std::atomic<std::size_t>& arrived, std::size_t n) -> bool {
  arrived.fetch_add(1);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (arrived.load() < n)
    if (std::chrono::steady_clock::now() > until) return false;
  return true;
}

}  // namespace

TEST_CASE("threads: one per 2^18 logits, at most the caller's, each block run once", "[threads]") {
  using sd::thread_count;
  constexpr std::size_t per = std::size_t(1) << 18;
  CHECK(thread_count(8192 * 10, 2) == 1);
  CHECK(thread_count(0, 4) == 1);
  CHECK(thread_count(2 * per - 1, 8) == 1);
  CHECK(thread_count(2 * per, 8) == 2);
  CHECK(thread_count(5 * per, 3) == 3);
  CHECK(thread_count(std::size_t(1) << 40, 1) == 1);

  for (const auto& [blocks, threads] : std::vector<std::pair<std::size_t, std::size_t>>{
           {10, 3}, {2, 8}, {7, 1}, {1, 4}, {0, 2}}) {
    std::mutex m;
    std::vector<std::thread::id> ran_on(blocks);
    std::vector<int> runs(blocks, 0);
    sd::for_each_block(blocks, threads, [&](std::size_t b) {
      const std::lock_guard lock(m);
      ran_on[b] = std::this_thread::get_id();
      ++runs[b];
    });
    INFO(blocks << " blocks on up to " << threads << " threads");
    CHECK(std::count(runs.begin(), runs.end(), 1) == std::ptrdiff_t(blocks));
    // the threads take blocks as they come free: a thread may find none left
    const std::set<std::thread::id> ids(ran_on.begin(), ran_on.end());
    CHECK(ids.size() <= std::min(blocks, threads));
    if (blocks > 0) CHECK(ran_on[0] == std::this_thread::get_id());  // the caller's thread
  }
  // `threads` threads run at once: blocks that wait for each other all finish
  for (const std::size_t threads : {std::size_t(2), std::size_t(3), std::size_t(5)}) {
    INFO(threads << " blocks that meet, on " << threads << " threads");
    std::atomic<std::size_t> arrived{0}, met{0};
    sd::for_each_block(threads, threads, [&](std::size_t) { met += meet(arrived, threads); });
    CHECK(met == threads);
  }
}

TEST_CASE("calls with threads > 1 reuse the pool's threads", "[threads]") {
  // a training loop's per-batch calls: threads are started by the first call only
  const std::size_t n = 256, c = 4096;  // 2^20 logits: 2 threads
  std::vector<float> x(n * c, 0.5f), g(n * c);
  std::vector<std::int64_t> y(n, 3);
  sg::ce_options o;
  o.threads = 2;
  const float first =
      sg::softmax_cross_entropy(matrix(x.data(), n, c), y, mutable_matrix(g.data(), n, c), o);
  const std::size_t started = sd::block_pool::threads_started();
  CHECK(started >= 1);
  std::set<std::thread::id> ids;
  for (int call = 0; call < 20; ++call) {
    CHECK(sg::softmax_cross_entropy(matrix(x.data(), n, c), y, mutable_matrix(g.data(), n, c),
                                    o) == first);
    // two blocks that meet: the caller runs one, a pool thread the other
    std::mutex m;
    std::atomic<std::size_t> arrived{0};
    std::atomic<bool> met{true};
    sd::for_each_block(2, 2, [&](std::size_t) {
      {
        const std::lock_guard lock(m);
        ids.insert(std::this_thread::get_id());
      }
      if (!meet(arrived, 2)) met = false;
    });
    CHECK(met);
  }
  CHECK(sd::block_pool::threads_started() == started);
  CHECK(ids.size() == 2);  // the caller and the same one pool thread, every time

  // calls from two threads at once: one holds the pool, the other starts threads of its own;
  // both get the right answer
  float a = 0, b = 0;
  std::thread other([&] {
    b = sg::softmax_cross_entropy(matrix(x.data(), n, c), y, o);
  });
  a = sg::softmax_cross_entropy(matrix(x.data(), n, c), y, o);
  other.join();
  CHECK(a == first);
  CHECK(b == first);
}

#if defined(__unix__)
TEST_CASE("a forked process starts a pool of its own", "[threads]") {
  // a data loader forked from a trainer that already used the pool: the child's copy of the
  // pool has no threads, and waiting on them would hang
  const std::size_t n = 256, c = 4096;
  std::vector<float> x(n * c, 0.25f);
  std::vector<std::int64_t> y(n, 1);
  sg::ce_options o;
  o.threads = 2;
  const float want = sg::softmax_cross_entropy(matrix(x.data(), n, c), y, o);
  REQUIRE(sd::block_pool::threads_started() >= 1);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    alarm(60);  // a hang ends the child with SIGALRM, which the parent reports
    const float got = sg::softmax_cross_entropy(matrix(x.data(), n, c), y, o);
    _exit(got == want ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
#endif

TEST_CASE("every result is the same bit for bit on any thread count", "[threads]") {
  // Each problem holds enough logits for 8 threads (one per 2^18) and many blocks of rows:
  // short rows (the tiles), rows of a few registers, long rows.
  for (const auto& [n, c] : std::vector<std::pair<std::size_t, std::size_t>>{
           {60000, 10}, {30000, 70}, {3001, 1000}}) {
    std::vector<float> x(n * c), w(c);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i) * 0.37f) * 5;
    for (std::size_t k = 0; k < c; ++k) w[k] = 0.5f + float(k % 7) * 0.25f;
    std::vector<std::int64_t> y(n);
    std::vector<std::uint16_t> y16(n);
    for (std::size_t i = 0; i < n; ++i) {
      y[i] = i % 11 == 3 ? -100 : std::int64_t((i * 7) % c);  // some rows ignored
      y16[i] = std::uint16_t((i * 13) % c);
    }
    std::vector<float> p(n * c);  // probability rows
    for (std::size_t i = 0; i < n; ++i) {
      double sum = 0;
      for (std::size_t k = 0; k < c; ++k) sum += 1.0 + double((i + k) % 5);
      for (std::size_t k = 0; k < c; ++k) p[i * c + k] = float((1.0 + double((i + k) % 5)) / sum);
    }
    const std::string shape = std::to_string(n) + "x" + std::to_string(c);
    check_any_thread_count(x, n, c, y, {}, shape + " class indices");
    check_any_thread_count(x, n, c, y16, {.label_smoothing = 0.1f},
                           shape + " uint16 class indices, smoothing");
    check_any_thread_count(x, n, c, y, {.label_smoothing = 0.1f, .class_weights = w},
                           shape + " class indices, smoothing, class weights");
    check_any_thread_count(x, n, c, sg::probabilities(matrix(p.data(), n, c)), {},
                           shape + " probability rows");
  }
}
