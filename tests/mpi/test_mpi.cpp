// <shapeguard/mpi.hpp> under mpirun (CTest runs it on 1, 2, 3 and 4 ranks): every rank builds
// the whole problem from one seed, solves it alone with softmax_cross_entropy, and holds the
// collective calls to that:
// - vocabulary-parallel: each rank's slice (uneven: C = 1000 over the ranks in unequal parts,
//   C = 10 with one rank holding a single class), for every option; the loss within float
//   tolerance of the whole call and the same bits on every rank, the slice's gradient within
//   tolerance of the whole gradient's columns, predictions equal;
// - data-parallel: each rank's rows (unequal counts, unequal numbers of ignored rows); the
//   global mean equal to the whole call's, each rank's gradient rows equal to its rows of the
//   whole gradient;
// - failures: a bad label, or bad slices, on one rank raise the same error kind on every rank,
//   with no output written. A hang fails: the program aborts after 120 s (and CTest has a
//   timeout of its own).
#include <shapeguard/mpi.hpp>
#include <shapeguard/shapeguard.hpp>

#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <csignal>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace sg = shapeguard;

namespace {

int rank = 0, ranks = 1;
long checks = 0, failures = 0;

void expect(bool ok, const std::string& what) {
  ++checks;
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "rank %d: FAILED: %s\n", rank, what.c_str());
  }
}

auto close(double got, double want, double rel, double abs) -> bool {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= rel * std::fabs(want) + abs;
}

template <class T>
using matrix = sg::tensor_view<const T, sg::dims<2>>;
template <class T>
using mutable_matrix = sg::tensor_view<T, sg::dims<2>>;

auto logits(std::size_t N, std::size_t C, std::uint32_t seed) -> std::vector<float> {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0, 3);
  std::vector<float> x(N * C);
  for (auto& v : x) v = d(gen);
  return x;
}

auto labels(std::size_t N, std::size_t C, std::uint32_t seed, std::size_t ignore_every)
    -> std::vector<std::int64_t> {
  std::mt19937 gen(seed);
  std::vector<std::int64_t> y(N);
  for (auto& v : y) v = std::int64_t(gen() % C);
  if (ignore_every)
    for (std::size_t i = 0; i < N; i += ignore_every) y[i] = -100;
  return y;
}

/// Unequal slices of C over the ranks: rank k gets a share proportional to k + 1.
auto uneven_cuts(std::size_t C) -> std::vector<std::size_t> {
  std::vector<std::size_t> cuts = {0};
  const std::size_t parts = std::size_t(ranks) * std::size_t(ranks + 1) / 2;
  std::size_t done = 0;
  for (int k = 0; k < ranks; ++k) {
    done += std::size_t(k + 1);
    cuts.push_back(C * done / parts);
  }
  return cuts;
}

/// All ranks' values of v, in rank order.
template <class T>
auto gathered(T v) -> std::vector<T> {
  std::vector<T> all(static_cast<std::size_t>(ranks));
  MPI_Allgather(&v, int(sizeof(T)), MPI_BYTE, all.data(), int(sizeof(T)), MPI_BYTE, MPI_COMM_WORLD);
  return all;
}

void vocab_case(std::size_t N, std::size_t C, const std::vector<std::size_t>& cuts, int variant) {
  const std::string name = fmt::format("vocab C={} cuts={} variant {}", C, fmt::join(cuts, ","), variant);
  const auto x = logits(N, C, std::uint32_t(C + 17));
  auto y = labels(N, C, std::uint32_t(variant + 3), variant >= 3 ? 4 : 0);
  std::vector<float> w(C);
  for (std::size_t c = 0; c < C; ++c) w[c] = 0.5f + float(c % 5) * 0.25f;
  sg::ce_options o;
  bool weighted = false;
  switch (variant) {
    case 0: break;
    case 1: o.label_smoothing = 0.1f; break;
    case 2: weighted = true; break;
    case 3: o.label_smoothing = 0.2f; weighted = true; break;
    case 4: o.z_loss = 1e-3; o.reduction = sg::reduction::sum; break;
    case 5: o.reduction = sg::reduction::none; o.label_smoothing = 0.1f; break;
  }
  // the whole problem, solved alone
  sg::ce_options whole_o = o;
  if (weighted) whole_o.class_weights = w;
  std::vector<float> g(N * C), l(N);
  std::vector<std::int64_t> p(N);
  float loss = 0;
  if (o.reduction == sg::reduction::none)
    sg::softmax_cross_entropy(matrix<float>(x.data(), N, C), y, mutable_matrix<float>(g.data(), N, C),
                              sg::per_sample(l), whole_o);
  else
    loss = sg::softmax_cross_entropy(matrix<float>(x.data(), N, C), y,
                                     mutable_matrix<float>(g.data(), N, C), sg::predictions(p),
                                     whole_o);
  // this rank's slice
  const std::size_t lo = cuts[std::size_t(rank)], n = cuts[std::size_t(rank) + 1] - lo;
  std::vector<float> xs(N * n), gs(N * n, -9.0f), ls(N, -9.0f);
  for (std::size_t i = 0; i < N; ++i) std::copy_n(x.data() + i * C + lo, n, xs.data() + i * n);
  std::vector<float> ws(w.begin() + long(lo), w.begin() + long(lo + n));
  sg::ce_options so = o;
  if (weighted) so.class_weights = ws;
  std::vector<std::int64_t> ps(N, -9);
  const sg::vocab_slice slice{lo, C};
  float got = 0;
  if (o.reduction == sg::reduction::none) {
    sg::mpi::vocab_parallel_cross_entropy(MPI_COMM_WORLD, matrix<float>(xs.data(), N, n), y, slice,
                                          so, mutable_matrix<float>(gs.data(), N, n),
                                          sg::per_sample(ls));
    bool same = true;
    for (std::size_t i = 0; i < N; ++i) same = same && close(ls[i], l[i], 2e-5, 1e-6);
    expect(same, name + ": per-sample losses");
    std::uint64_t h = 0;
    for (float v : ls) {
      std::uint32_t b;
      std::memcpy(&b, &v, 4);
      h = h * 1000003u + b;
    }
    for (auto v : gathered(h)) expect(v == h, name + ": per-sample losses differ between ranks");
  } else {
    got = sg::mpi::vocab_parallel_cross_entropy(MPI_COMM_WORLD, matrix<float>(xs.data(), N, n), y,
                                                slice, so, mutable_matrix<float>(gs.data(), N, n),
                                                sg::predictions(ps));
    expect(close(got, loss, 2e-5, 1e-6), fmt::format("{}: loss {} but the whole call's {}", name, got, loss));
    for (float v : gathered(got))
      expect(std::memcmp(&v, &got, sizeof v) == 0, name + ": the loss differs between ranks");
    expect(ps == p, name + ": predictions");
  }
  std::size_t bad = 0;
  for (std::size_t i = 0; i < N; ++i) {
    double row = 0;
    for (std::size_t c = 0; c < C; ++c) row = std::max(row, double(std::fabs(g[i * C + c])));
    for (std::size_t c = 0; c < n; ++c)
      bad += !close(gs[i * n + c], g[i * C + lo + c], 2e-5, 2e-5 * row + 1e-9);
  }
  expect(bad == 0, fmt::format("{}: {} gradient entries differ", name, bad));
}

void data_case(int variant) {
  // unequal rows per rank, unequal numbers of ignored rows
  const std::size_t C = 50;
  std::vector<std::size_t> first = {0};
  for (int k = 0; k < ranks; ++k) first.push_back(first.back() + 7 + 5 * std::size_t(k));
  const std::size_t N = first.back();
  const auto x = logits(N, C, 99);
  auto y = labels(N, C, 5, 0);
  for (int k = 0; k < ranks; ++k)  // rank k's first k + (variant == 2 ? all : 0) rows ignored
    for (std::size_t i = first[std::size_t(k)];
         i < first[std::size_t(k) + 1] && i < first[std::size_t(k)] + std::size_t(k) * 2; ++i)
      y[i] = -100;
  if (variant == 2)  // one rank with every row ignored
    for (std::size_t i = first[0]; i < first[1]; ++i) y[i] = -100;
  std::vector<float> w(C);
  for (std::size_t c = 0; c < C; ++c) w[c] = 0.25f + float(c % 3);
  sg::ce_options o;
  if (variant == 1) {
    o.class_weights = w;
    o.label_smoothing = 0.1f;
  }
  std::vector<float> g(N * C);
  const float loss = sg::softmax_cross_entropy(matrix<float>(x.data(), N, C), y,
                                               mutable_matrix<float>(g.data(), N, C), o);
  const std::size_t r0 = first[std::size_t(rank)], n = first[std::size_t(rank) + 1] - r0;
  std::vector<float> gs(n * C);
  const std::vector<std::int64_t> ys(y.begin() + long(r0), y.begin() + long(r0 + n));
  const float got = sg::mpi::data_parallel_cross_entropy(
      MPI_COMM_WORLD, matrix<float>(x.data() + r0 * C, n, C), ys, o,
      mutable_matrix<float>(gs.data(), n, C));
  const std::string name = fmt::format("data-parallel variant {}", variant);
  expect(close(got, loss, 2e-5, 1e-7), fmt::format("{}: loss {} but the whole call's {}", name, got, loss));
  for (float v : gathered(got))
    expect(std::memcmp(&v, &got, sizeof v) == 0, name + ": the loss differs between ranks");
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n * C; ++i) bad += !close(gs[i], g[r0 * C + i], 1e-5, 1e-9);
  expect(bad == 0, fmt::format("{}: {} gradient entries differ", name, bad));
}

/// A call that must raise `kind` on every rank, writing nothing into `out`.
template <class F>
void failure_case(const std::string& name, sg::error_kind kind, std::vector<float>& out,
                  const F& call) {
  const std::vector<float> before = out;
  int got = -1;
  try {
    call();
  } catch (const sg::shape_error& e) {
    got = int(e.kind());
    if (rank == 0) std::printf("%s: %s\n", name.c_str(), e.what());
  }
  expect(got == int(kind), fmt::format("{}: error kind {} (-1: none), not {}", name, got, int(kind)));
  expect(out == before, name + ": an output was written");
  for (int v : gathered(got)) expect(v == got, name + ": ranks raised different errors");
}

void failures_case() {
  const std::size_t N = 6, C = 12;
  const auto x = logits(N, C, 1);
  auto y = labels(N, C, 2, 0);
  const auto cuts = uneven_cuts(C);
  const std::size_t lo = cuts[std::size_t(rank)], n = cuts[std::size_t(rank) + 1] - lo;
  std::vector<float> xs(N * n);
  for (std::size_t i = 0; i < N; ++i) std::copy_n(x.data() + i * C + lo, n, xs.data() + i * n);
  std::vector<float> gs(N * n, -4.0f);
  // a label outside the vocabulary on the last rank only
  auto bad = y;
  if (rank == ranks - 1) bad[2] = std::int64_t(C);
  failure_case("a bad label on the last rank", sg::error_kind::label_out_of_range, gs, [&] {
    sg::mpi::vocab_parallel_cross_entropy(MPI_COMM_WORLD, matrix<float>(xs.data(), N, n), bad,
                                          sg::vocab_slice{lo, C}, mutable_matrix<float>(gs.data(), N, n));
  });
  if (ranks > 1) {
    // the same rows, other labels on rank 1: refused, every label valid
    auto other = y;
    if (rank == 1) other[0] = (other[0] + 1) % std::int64_t(C);
    failure_case("labels that differ between ranks", sg::error_kind::batch_mismatch, gs, [&] {
      sg::mpi::vocab_parallel_cross_entropy(MPI_COMM_WORLD, matrix<float>(xs.data(), N, n), other,
                                            sg::vocab_slice{lo, C},
                                            mutable_matrix<float>(gs.data(), N, n));
    });
    // overlapping slices: rank 1 claims rank 0's offset
    failure_case("overlapping slices", sg::error_kind::invalid_option, gs, [&] {
      sg::mpi::vocab_parallel_cross_entropy(MPI_COMM_WORLD, matrix<float>(xs.data(), N, n), y,
                                            sg::vocab_slice{rank == 1 ? 0 : lo, C},
                                            mutable_matrix<float>(gs.data(), N, n));
    });
    // another row count on the last rank
    const std::size_t rows = rank == ranks - 1 ? N - 1 : N;
    std::vector<std::int64_t> yr(y.begin(), y.begin() + long(rows));
    failure_case("another batch size on the last rank", sg::error_kind::batch_mismatch, gs, [&] {
      sg::mpi::vocab_parallel_cross_entropy(MPI_COMM_WORLD, matrix<float>(xs.data(), rows, n), yr,
                                            sg::vocab_slice{lo, C},
                                            mutable_matrix<float>(gs.data(), rows, n));
    });
  }
  // a gap in the vocabulary: the last rank's slice ends one class short
  {
    const std::size_t m = rank == ranks - 1 ? n - 1 : n;
    std::vector<float> xm(N * m);
    std::vector<float> gm(N * m, -4.0f);
    auto ym = y;
    for (auto& v : ym) v = v % std::int64_t(C - 1);
    failure_case("slices that leave a class out", sg::error_kind::invalid_option, gm, [&] {
      sg::mpi::vocab_parallel_cross_entropy(MPI_COMM_WORLD, matrix<float>(xm.data(), N, m), ym,
                                            sg::vocab_slice{lo, C},
                                            mutable_matrix<float>(gm.data(), N, m));
    });
  }
  // data-parallel: a bad label on rank 0 only
  std::vector<float> g(N * C, -4.0f);
  auto yd = y;
  if (rank == 0) yd[1] = -5;
  failure_case("data-parallel: a bad label on rank 0", sg::error_kind::label_out_of_range, g, [&] {
    sg::mpi::data_parallel_cross_entropy(MPI_COMM_WORLD, matrix<float>(x.data(), N, C), yd,
                                         mutable_matrix<float>(g.data(), N, C));
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGALRM, [](int) {
    const char text[] = "test_mpi: no progress in 120 s (a hang): aborting\n";
    (void)!write(2, text, sizeof text - 1);
    std::_Exit(3);
  });
  alarm(120);
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  for (int variant = 0; variant < 6; ++variant) {
    vocab_case(37, 1000, uneven_cuts(1000), variant);
    if (ranks == 4) vocab_case(37, 10, {0, 3, 4, 7, 10}, variant);  // rank 1 holds one class
    else vocab_case(37, 10, uneven_cuts(10), variant);
    vocab_case(5, 9000, uneven_cuts(9000), variant);  // slices of several blocks
  }
  for (int variant = 0; variant < 3; ++variant) data_case(variant);
  failures_case();
  long all_checks = 0, all_failures = 0;
  MPI_Allreduce(&checks, &all_checks, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(&failures, &all_failures, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0)
    std::printf("test_mpi on %d ranks: %ld checks, %ld failed\n", ranks, all_checks, all_failures);
  MPI_Finalize();
  return all_failures == 0 ? 0 : 1;
}
