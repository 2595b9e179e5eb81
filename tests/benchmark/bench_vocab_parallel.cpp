// The vocabulary-parallel call over MPI beside the single-process call on the same data:
// logits [256, 32000], class indices, mean, loss and gradient. Every rank holds an equal slice
// of the classes. Timed, each a median over the repetitions (every rank starts together after
// a barrier; a rank's time is its own wall time):
//   mpi call      sg::mpi::vocab_parallel_cross_entropy, the whole call on each rank;
//   of which      the statistics phase, the header all-gather plus the statistics all-reduce
//                 (the communication), and the finish phase, timed apart in the same sequence;
//   one process   softmax_cross_entropy on the whole logits on rank 0 (1 thread, then as many
//                 threads as ranks), the others asleep;
//   two phases    the statistics and finish of the whole vocabulary in one process, no MPI.
// Figures are ns per logit element of the whole [256, 32000] problem.
//
//   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSHAPEGUARD_BUILD_BENCHMARKS=ON
//   cmake --build build-bench --target bench_vocab_parallel
//   mpirun --oversubscribe --allow-run-as-root --bind-to none -np 2 \
//     build-bench/tests/benchmark/bench_vocab_parallel [repetitions]
// (--bind-to none: Open MPI binds each rank to one core by default, which would hold the
// threaded single-process call to one core.)
#include <shapeguard/mpi.hpp>
#include <shapeguard/shapeguard.hpp>

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace sg = shapeguard;

namespace {

using clock_type = std::chrono::steady_clock;

auto median(std::vector<double> v) -> double {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// A barrier whose waiting ranks sleep instead of polling, so that a rank timed alone has
/// every core (MPI_Barrier spins).
void quiet_barrier() {
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  for (int done = 0;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

template <class F>
auto timed(const F& f) -> double {
  const auto t0 = clock_type::now();
  f();
  return std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  {  // (the MPI objects below are freed before MPI_Finalize)
  const std::size_t N = 256, C = 32000, reps = argc > 1 ? std::size_t(std::stoul(argv[1])) : 41;
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> logits(N * C), grad(N * C);
  for (auto& x : logits) x = normal(rng);
  std::vector<std::int64_t> labels(N);
  for (auto& y : labels) y = std::int64_t(rng() % C);

  const std::size_t first = C * std::size_t(rank) / std::size_t(ranks);
  const std::size_t count = C * std::size_t(rank + 1) / std::size_t(ranks) - first;
  std::vector<float> mine(N * count), dmine(N * count);
  for (std::size_t i = 0; i < N; ++i)
    std::copy_n(logits.data() + i * C + first, count, mine.data() + i * count);
  const sg::tensor_view<const float, sg::dims<2>> x(mine.data(), N, count);
  const sg::tensor_view<float, sg::dims<2>> dx(dmine.data(), N, count);
  const sg::vocab_slice slice{first, C};
  const sg::ce_options o;

  std::vector<double> call, stats_t, comm_t, finish_t, single1, single2, two_phase;
  std::vector<sg::slice_stats> st(N), all(N), whole_st(N);
  const sg::mpi::detail::stats_op op;
  for (std::size_t r = 0; r < reps + 2; ++r) {
    const bool keep = r >= 2;  // two warm-up rounds
    MPI_Barrier(MPI_COMM_WORLD);
    const double t_call = timed([&] {
      sg::mpi::vocab_parallel_cross_entropy(MPI_COMM_WORLD, x, labels, slice, o, dx);
    });
    MPI_Barrier(MPI_COMM_WORLD);
    // the same sequence, phase by phase
    double t_comm = 0;
    const double t_stats = timed([&] { sg::vocab_parallel_stats(x, labels, slice, std::span(st), o); });
    t_comm += timed([&] {
      sg::mpi::detail::header h;
      (void)sg::mpi::detail::exchange(MPI_COMM_WORLD, h);
      MPI_Allreduce(st.data(), all.data(), int(N), op.type, op.op, MPI_COMM_WORLD);
    });
    const double t_finish = timed([&] {
      sg::vocab_parallel_finish(x, labels, slice, std::span<const sg::slice_stats>(all), dx, o);
    });
    MPI_Barrier(MPI_COMM_WORLD);
    double t1 = 0, t2 = 0, tp = 0;
    if (rank == 0) {
      const sg::tensor_view<const float, sg::dims<2>> X(logits.data(), N, C);
      const sg::tensor_view<float, sg::dims<2>> G(grad.data(), N, C);
      t1 = timed([&] { sg::softmax_cross_entropy(X, labels, G, o); });
      sg::ce_options threaded = o;
      threaded.threads = std::size_t(ranks);
      t2 = timed([&] { sg::softmax_cross_entropy(X, labels, G, threaded); });
      tp = timed([&] {
        sg::vocab_parallel_stats(X, labels, sg::vocab_slice{0, C}, std::span(whole_st), o);
        sg::vocab_parallel_finish(X, labels, sg::vocab_slice{0, C},
                                  std::span<const sg::slice_stats>(whole_st), G, o);
      });
    }
    quiet_barrier();  // the other ranks sleep meanwhile, leaving rank 0 every core
    if (keep) {
      call.push_back(t_call);
      stats_t.push_back(t_stats);
      comm_t.push_back(t_comm);
      finish_t.push_back(t_finish);
      single1.push_back(t1);
      single2.push_back(t2);
      two_phase.push_back(tp);
    }
  }
  const double elems = double(N * C);
  struct row {
    double call, stats, comm, finish;
  } mine_row{median(call) / elems, median(stats_t) / elems, median(comm_t) / elems,
             median(finish_t) / elems};
  std::vector<row> rows(static_cast<std::size_t>(ranks));
  MPI_Gather(&mine_row, int(sizeof(row)), MPI_BYTE, rows.data(), int(sizeof(row)), MPI_BYTE, 0,
             MPI_COMM_WORLD);
  if (rank == 0) {
    const double s1 = median(single1) / elems, s2 = median(single2) / elems,
                 tp = median(two_phase) / elems;
    std::printf("[%zu, %zu] on %d ranks, %s, median of %zu, ns per logit element of the whole "
                "problem\n",
                N, C, ranks, std::string(sg::to_string(sg::active_isa())).c_str(), reps);
    std::printf("| rank | mpi call | statistics | communication | finish | communication share "
                "| one process, 1 thread | one process, %d threads | two phases, one process "
                "|\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
                ranks);
    for (int k = 0; k < ranks; ++k) {
      const row& r = rows[std::size_t(k)];
      const double parts = r.stats + r.comm + r.finish;
      std::printf("| %d | %.3f | %.3f | %.4f | %.3f | %.1f%% | %.3f | %.3f | %.3f |\n", k, r.call,
                  r.stats, r.comm, r.finish, 100 * r.comm / parts, s1, s2, tp);
    }
    std::printf("one process (1 thread) / mpi call on rank 0: %.2fx\n", s1 / rows[0].call);
  }
  }
  MPI_Finalize();
  return 0;
}
