// A vocabulary-parallel loss over MPI: each rank holds the logits of its slice of a 32,000-class
// vocabulary for a batch of 256 tokens (as the last layer of a tensor-parallel language model
// produces them) and the whole batch's labels; one call per step gives every rank the same loss
// and its slice's gradient. Rank 0 then checks the result against the single-process call on
// the whole logits, and shows what a bad label on one rank does.
//
//   mpirun --oversubscribe --allow-run-as-root -np 2 build-examples/examples/vocab_parallel
#include <shapeguard/mpi.hpp>
#include <shapeguard/shapeguard.hpp>

#include <mpi.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

namespace sg = shapeguard;

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);

  const std::size_t N = 256, C = 32000;
  // every rank draws the same batch; in a trainer each rank's logits come from its own shard of
  // the output layer
  std::mt19937 gen(42);
  std::normal_distribution<float> normal(0, 2);
  std::vector<float> logits(N * C);
  for (auto& v : logits) v = normal(gen);
  std::vector<std::int64_t> labels(N);
  for (auto& y : labels) y = std::int64_t(gen() % C);
  labels[3] = -100;  // padding

  // this rank's slice of the classes
  const std::size_t first = C * std::size_t(rank) / std::size_t(ranks);
  const std::size_t count = C * std::size_t(rank + 1) / std::size_t(ranks) - first;
  std::vector<float> mine(N * count), grad(N * count);
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t c = 0; c < count; ++c) mine[i * count + c] = logits[i * C + first + c];

  sg::ce_options options;
  options.label_smoothing = 0.1f;
  const sg::tensor_view<const float, sg::dims<2>> x(mine.data(), N, count);
  const sg::tensor_view<float, sg::dims<2>> dx(grad.data(), N, count);
  const float loss = sg::mpi::vocab_parallel_cross_entropy(MPI_COMM_WORLD, x, labels,
                                                           sg::vocab_slice{first, C}, options, dx);
  std::printf("rank %d: classes [%zu, %zu), loss %.6f\n", rank, first, first + count, loss);

  if (rank == 0) {
    std::vector<float> whole_grad(N * C);
    const float whole = sg::softmax_cross_entropy(
        sg::tensor_view<const float, sg::dims<2>>(logits.data(), N, C), labels,
        sg::tensor_view<float, sg::dims<2>>(whole_grad.data(), N, C), options);
    double worst = 0;
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t c = 0; c < count; ++c)
        worst = std::fmax(worst, std::fabs(double(grad[i * count + c]) - whole_grad[i * C + c]));
    std::printf("single process: loss %.6f; rank 0's gradient within %.2g of its columns\n",
                whole, worst);
  }

  // a label outside the vocabulary on the last rank alone: every rank raises the same error,
  // and nothing is written
  if (rank == ranks - 1) labels[7] = std::int64_t(C) + 5;
  try {
    sg::mpi::vocab_parallel_cross_entropy(MPI_COMM_WORLD, x, labels, sg::vocab_slice{first, C},
                                          options, dx);
  } catch (const sg::shape_error& e) {
    if (rank == 0) std::printf("%s: %s\n", std::string(sg::to_string(e.kind())).c_str(), e.what());
  }
  MPI_Finalize();
  return 0;
}
