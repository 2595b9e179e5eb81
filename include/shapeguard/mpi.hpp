#pragma once
/// The softmax cross-entropy over an MPI communicator (optional: it needs an MPI library, such
/// as Debian's libopenmpi-dev; the core library does not depend on it).
///
/// - `sg::mpi::vocab_parallel_cross_entropy(comm, logits, labels, slice[, outputs], options)`:
///   each rank holds the logits of its slice of the vocabulary (vocab_parallel.hpp) and the
///   labels of the whole batch, the same on every rank. One all-gather of a small header makes
///   every rank agree on validity, then one all-reduce of the rows' statistics with a
///   user-defined, commutative operation (sg::combine); each rank then writes its slice's
///   gradient and returns the loss, the same value on every rank.
/// - `sg::mpi::data_parallel_cross_entropy(comm, logits, labels[, outputs], options)`: each rank
///   holds whole rows of a larger batch; the mean divides by the global count of counted rows
///   (or the sum of their class weights), not by the ranks' own. One all-gather of the header
///   (validity and each rank's denominator), the local call, one all-gather of the ranks' losses
///   summed in rank order.
///
/// Failures do not hang: every rank checks its own inputs before any collective, the headers
/// carry each rank's outcome (and its slice, rows and a hash of its labels, which the ranks
/// compare), and when any rank failed every rank raises the `shape_error` of the first failing
/// rank, its message prefixed with that rank's number, having written nothing. Every rank of
/// `comm` must make the call.

#include <mpi.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "softmax_cross_entropy.hpp"
#include "vocab_parallel.hpp"

namespace shapeguard::mpi {
namespace detail {
using namespace shapeguard::detail;

/// What each rank tells the others before the data moves.
struct header {
  std::int32_t failed = 0;
  std::int32_t kind = 0;  // error_kind, when failed
  std::uint64_t rows = 0;
  std::uint64_t offset = 0, local = 0, classes = 0;  // the slice (vocabulary-parallel)
  std::uint64_t labels_hash = 0;
  double denominator = 0;  // the rank's own divisor of the mean (data-parallel)
  std::array<char, 1024> message{};
};

inline void check_mpi(int code, const char* what) {
  if (code != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    raise(failure(error_kind::invalid_option,
                  fmt::format("sg::mpi: {} failed: {}", what, std::string(text, std::size_t(length)))));
  }
}

inline auto rank_of(MPI_Comm comm) -> int {
  int r = 0;
  check_mpi(MPI_Comm_rank(comm, &r), "MPI_Comm_rank");
  return r;
}

/// Every rank's header, in rank order.
inline auto exchange(MPI_Comm comm, const header& mine) -> std::vector<header> {
  int size = 0;
  check_mpi(MPI_Comm_size(comm, &size), "MPI_Comm_size");
  std::vector<header> all(static_cast<std::size_t>(size));
  check_mpi(MPI_Allgather(&mine, int(sizeof(header)), MPI_BYTE, all.data(), int(sizeof(header)),
                          MPI_BYTE, comm),
            "MPI_Allgather");
  return all;
}

inline auto local_header(const check_result& r) -> header {
  header h;
  if (!r) {
    h.failed = 1;
    h.kind = static_cast<std::int32_t>(r.kind());
    const std::size_t n = std::min(r.message().size(), h.message.size() - 1);
    std::memcpy(h.message.data(), r.message().data(), n);
  }
  return h;
}

/// The first failing rank's error, raised on every rank.
inline void raise_first_failure(const std::vector<header>& all) {
  for (std::size_t k = 0; k < all.size(); ++k)
    if (all[k].failed)
      raise(failure(static_cast<error_kind>(all[k].kind),
                    fmt::format("rank {}: {}", k, all[k].message.data())));
}

/// FNV-1a over the labels as int64, so that ranks can tell whether they hold the same ones.
template <class LabelsView>
auto labels_hash(const LabelsView& labels) -> std::uint64_t {
  std::uint64_t h = 1469598103934665603ull;
  std::vector<typename LabelsView::value_type> y(labels.size());
  gather(labels, 0, labels.size(), y.data());
  for (const auto v : y) {
    const auto u = static_cast<std::uint64_t>(static_cast<std::int64_t>(v));
    for (int b = 0; b < 8; ++b) h = (h ^ ((u >> (8 * b)) & 0xff)) * 1099511628211ull;
  }
  return h;
}

/// What the ranks' headers of a vocabulary-parallel call must agree on: the rows, the labels,
/// the vocabulary, and slices that cover it once.
inline auto check_slices(const std::vector<header>& all) -> check_result {
  const header& first = all[0];
  for (std::size_t k = 1; k < all.size(); ++k) {
    if (all[k].rows != first.rows)
      return failure(error_kind::batch_mismatch,
                     fmt::format("batch size mismatch between ranks: rank 0 has {} rows but rank "
                                 "{} has {}; hint: every rank holds the whole batch's rows, "
                                 "each for its slice of the classes",
                                 first.rows, k, all[k].rows));
    if (all[k].classes != first.classes)
      return failure(error_kind::invalid_option,
                     fmt::format("vocab_slice::classes is {} on rank 0 but {} on rank {}; hint: "
                                 "every rank names the whole vocabulary's class count",
                                 first.classes, all[k].classes, k));
    if (all[k].labels_hash != first.labels_hash)
      return failure(error_kind::batch_mismatch,
                     fmt::format("the labels differ between rank 0 and rank {}; hint: every rank "
                                 "of a vocabulary-parallel call holds the same labels, those of "
                                 "the whole batch",
                                 k));
  }
  std::vector<std::pair<std::uint64_t, std::size_t>> order;
  for (std::size_t k = 0; k < all.size(); ++k) order.emplace_back(all[k].offset, k);
  std::sort(order.begin(), order.end());
  std::uint64_t next = 0;
  for (const auto& [offset, k] : order) {
    if (all[k].local == 0) continue;
    if (offset != next)
      return failure(error_kind::invalid_option,
                     fmt::format("the ranks' slices do not cover the {} classes once: rank {} "
                                 "holds classes [{}, {}) where [{}, ...) was due; hint: give "
                                 "each rank the offset of its first class, the slices side by "
                                 "side",
                                 first.classes, k, offset, offset + all[k].local, next));
    next = offset + all[k].local;
  }
  if (next != first.classes)
    return failure(error_kind::invalid_option,
                   fmt::format("the ranks' slices cover classes [0, {}) of {}; hint: the slices "
                               "together hold every class",
                               next, first.classes));
  return {};
}

extern "C" inline void combine_stats(void* in, void* inout, int* count, MPI_Datatype*) {
  auto* a = static_cast<const slice_stats*>(in);
  auto* b = static_cast<slice_stats*>(inout);
  for (int i = 0; i < *count; ++i) b[i] = combine(a[i], b[i]);
}

/// The statistics as an MPI type and their combine as an MPI operation, freed on scope exit.
struct stats_op {
  MPI_Datatype type = MPI_DATATYPE_NULL;
  MPI_Op op = MPI_OP_NULL;
  stats_op() {
    check_mpi(MPI_Type_contiguous(int(sizeof(slice_stats)), MPI_BYTE, &type),
              "MPI_Type_contiguous");
    check_mpi(MPI_Type_commit(&type), "MPI_Type_commit");
    check_mpi(MPI_Op_create(&combine_stats, 1, &op), "MPI_Op_create");
  }
  stats_op(const stats_op&) = delete;
  auto operator=(const stats_op&) -> stats_op& = delete;
  ~stats_op() {
    if (op != MPI_OP_NULL) MPI_Op_free(&op);
    if (type != MPI_DATATYPE_NULL) MPI_Type_free(&type);
  }
};

template <class X, class Y, class Outputs>
auto vocab_call(MPI_Comm comm, const X& x, const Y& y, const vocab_slice& slice,
                const Outputs& out, const ce_options& o) {
  const std::size_t rank = X::rank();
  std::size_t rows = 1;
  for (std::size_t a = 0; a + 1 < rank; ++a) rows *= x.extent(a);
  std::vector<slice_stats> stats(rows), combined(rows);
  label_counts counts;
  // every check of both phases on this rank, before any collective
  check_result local = titled(SHAPEGUARD_VOCAB_OP, vocab_checks(x, y, out, slice, combined.data(),
                                                                rows, true, o, counts));
  header mine = local_header(local);
  mine.rows = rows;
  mine.offset = slice.offset;
  mine.local = x.extent(rank - 1);
  mine.classes = slice.classes;
  if (local) mine.labels_hash = labels_hash(y.view);
  const std::vector<header> all = exchange(comm, mine);
  raise_first_failure(all);
  if (auto r = check_slices(all); !r) raise(titled(SHAPEGUARD_VOCAB_OP, r));

  // (checked above: the phases do not read the labels and logits for their checks again)
  vocab_stats_views(x, y, slice, std::span(stats), o, false);
  const stats_op op;
  // (in pieces of at most 2^30 rows: MPI counts are ints)
  constexpr std::size_t piece = std::size_t(1) << 30;
  for (std::size_t r0 = 0; r0 < rows; r0 += piece)
    check_mpi(MPI_Allreduce(stats.data() + r0, combined.data() + r0,
                            int(rows - r0 < piece ? rows - r0 : piece), op.type, op.op, comm),
              "MPI_Allreduce");
  return vocab_finish_views(x, y, slice, std::span<const slice_stats>(combined), out, o, false);
}

template <class X, class Y, class Outputs>
auto data_call(MPI_Comm comm, const X& x, const Y& y, const Outputs& out, const ce_options& o) {
  using R = math_t<typename X::value_type>;
  label_counts counts;
  const check_result local = validate<true>(x, y, out, o, true, counts);
  header mine = local_header(local);
  if (local) mine.denominator = own_denominator<Y::encoding>(counts, o);
  const std::vector<header> all = exchange(comm, mine);
  raise_first_failure(all);
  const bool mean = o.reduction == reduction::mean;
  double d = 1;
  if (mean) {
    d = o.denominator;
    if (d == 0)
      for (const header& h : all) d += h.denominator;  // in rank order: the same on every rank
  }
  // (checked above: solved without checking again; a batch without a counted row on any rank
  // has d = 0, loss 0 and gradient 0)
  const double total = solve(x, y, out, o, d > 0 ? 1.0 / d : 0.0);
  if constexpr (!Outputs::has_losses) {
    const double share = !mean ? total : d > 0 ? total / d : 0.0;
    std::vector<double> each(all.size());
    check_mpi(MPI_Allgather(&share, 1, MPI_DOUBLE, each.data(), 1, MPI_DOUBLE, comm),
              "MPI_Allgather");
    double sum = 0;
    for (const double v : each) sum += v;
    return R(sum);
  }
}

}  // namespace detail

/// The vocabulary-parallel loss over `comm`: this rank's slice of the logits, the whole batch's
/// labels; outputs as vocab_parallel_finish's (this slice's gradient, per-sample losses,
/// predictions). Returns the loss reduced over the whole batch, the same on every rank.
template <shapeguard::detail::view_like Logits, shapeguard::detail::labels_like Labels,
          shapeguard::detail::output_like... O>
auto vocab_parallel_cross_entropy(MPI_Comm comm, const Logits& logits, const Labels& labels,
                                  const vocab_slice& slice, O&&... outputs) {
  return detail::vocab_call(comm, shapeguard::detail::as_const_view(logits),
                            shapeguard::detail::as_labels(labels), slice,
                            shapeguard::detail::collect_outputs(std::forward<O>(outputs)...),
                            shapeguard::detail::default_options<O...>());
}

template <shapeguard::detail::view_like Logits, shapeguard::detail::labels_like Labels,
          shapeguard::detail::output_like... O>
auto vocab_parallel_cross_entropy(MPI_Comm comm, const Logits& logits, const Labels& labels,
                                  const vocab_slice& slice, const ce_options& options,
                                  O&&... outputs) {
  return detail::vocab_call(comm, shapeguard::detail::as_const_view(logits),
                            shapeguard::detail::as_labels(labels), slice,
                            shapeguard::detail::collect_outputs(std::forward<O>(outputs)...),
                            options);
}

/// The data-parallel loss over `comm`: each rank's rows of the batch; the mean divides by the
/// sum of the ranks' own divisors (sg::mean_denominator), so that the ranks' gradients add up
/// to the gradient of the mean over every rank's rows; the loss returned is that mean, the same
/// on every rank. Outputs as softmax_cross_entropy's.
template <shapeguard::detail::view_like Logits, shapeguard::detail::labels_like Labels,
          shapeguard::detail::output_like... O>
auto data_parallel_cross_entropy(MPI_Comm comm, const Logits& logits, const Labels& labels,
                                 O&&... outputs) {
  return detail::data_call(comm, shapeguard::detail::as_const_view(logits),
                           shapeguard::detail::as_labels(labels),
                           shapeguard::detail::collect_outputs(std::forward<O>(outputs)...),
                           shapeguard::detail::default_options<O...>());
}

template <shapeguard::detail::view_like Logits, shapeguard::detail::labels_like Labels,
          shapeguard::detail::output_like... O>
auto data_parallel_cross_entropy(MPI_Comm comm, const Logits& logits, const Labels& labels,
                                 const ce_options& options, O&&... outputs) {
  return detail::data_call(comm, shapeguard::detail::as_const_view(logits),
                           shapeguard::detail::as_labels(labels),
                           shapeguard::detail::collect_outputs(std::forward<O>(outputs)...),
                           options);
}

}  // namespace shapeguard::mpi
