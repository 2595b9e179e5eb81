#pragma once
// Checks of the values a call reads: class indices in [0, C) or ignore_index, one-hot rows of
// exactly one 1, probability rows that sum to 1, and (with check_finite) finite logits. The label
// pass also counts what the loss needs from it (label_counts), so the labels are read once
// before the kernels run.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "../../options.hpp"
#include "../../storage.hpp"
#include "../strided.hpp"
#include "report.hpp"

namespace shapeguard::detail {

/// What the label pass counted: the rows not ignored and, with class weights, the sum of their
/// targets' weights. The sum is taken in four chains, the label at row-major position i in
/// chain i % 4, and then (0 + 1) + (2 + 3): a weight costs a quarter of an addition's latency
/// (one chain took 1.4x the time of the whole unweighted call at 8192x10), and the sum does not
/// depend on how the labels were read (whole, or a block at a time through a layout).
/// vocab_denominator sums the same way.
struct label_counts {
  std::size_t counted = 0;
  double weight_chains[4] = {};
  void add_weight(std::size_t position, double w) { weight_chains[position % 4] += w; }
  [[nodiscard]] auto target_weight() const -> double {
    return (weight_chains[0] + weight_chains[1]) + (weight_chains[2] + weight_chains[3]);
  }
};

/// `v + 1` as text, without overflow.
inline auto units_needed(unsigned long long v) -> std::string {
  if (v == std::numeric_limits<unsigned long long>::max()) return "18446744073709551616";
  return std::to_string(v + 1);
}

inline auto negative_label(shape logits, shape labels, std::string_view value, std::size_t pos,
                           std::int64_t ignore) -> check_result {
  return failure(error_kind::label_out_of_range,
                 fmt::format("logits {}, labels {}: label {} at {} is outside [0, {}) and is not "
                             "ignore_index ({}); hint: labels count classes from 0; if these "
                             "rows are padding, set ce_options::ignore_index to {}",
                             shape_text(logits), shape_text(labels), value,
                             position_text(labels, pos), logits.back(), ignore, value));
}

inline auto label_too_large(shape logits, shape labels, std::string_view value,
                            std::string_view units, std::size_t pos) -> check_result {
  const std::size_t c = logits.back();
  return failure(error_kind::label_out_of_range,
                 fmt::format("logits {}, labels {}: label {} at {} is outside [0, {}): logits "
                             "have {} classes; the output layer needs {} units, or the labels "
                             "need re-indexing",
                             shape_text(logits), shape_text(labels), value,
                             position_text(labels, pos), c, c, units));
}

template <class Traits>
auto check_class_indices(const typename Traits::logits_view& logits,
                         const typename Traits::labels_view& labels, const ce_options& o,
                         label_counts& counts) -> check_result {
  const std::size_t c = logits.extent(Traits::batch_rank);
  const bool weighted = !o.class_weights.empty();
  label_counts total;
  // labels of any layout, a chunk of them at a time; positions are row-major ones
  auto chunk = [&](const auto* y, std::size_t first, std::size_t n) -> check_result {
    if (!weighted) {
      // The common case first, without a branch per label: count the rows that are not
      // ignored and note whether any label is out of range; the loop below finds and names it.
      // Four independent chains, so that a label costs about a cycle.
      // (unsigned, not bool: `|` and `&` on bools draw clang's -Wbitwise-instead-of-logical)
      std::size_t counted[4] = {};
      unsigned bad[4] = {};
      auto scan = [&](std::size_t k, std::size_t i) {
        const auto v = y[i];
        const unsigned live = !std::cmp_equal(v, o.ignore_index);
        const unsigned out = unsigned{std::cmp_less(v, 0)} | unsigned{!std::cmp_less(v, c)};
        bad[k] |= live & out;
        counted[k] += live;
      };
      std::size_t i = 0;
      for (; i + 4 <= n; i += 4) {
        scan(0, i);
        scan(1, i + 1);
        scan(2, i + 2);
        scan(3, i + 3);
      }
      for (; i < n; ++i) scan(0, i);
      if ((bad[0] | bad[1] | bad[2] | bad[3]) == 0) {
        total.counted += counted[0] + counted[1] + counted[2] + counted[3];
        return {};
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto v = y[i];
      if (std::cmp_equal(v, o.ignore_index)) continue;
      if (std::cmp_less(v, 0))
        return negative_label(sizes_of(logits), sizes_of(labels), value_text(v), first + i,
                              o.ignore_index);
      if (!std::cmp_less(v, c))
        return label_too_large(sizes_of(logits), sizes_of(labels), value_text(v),
                               units_needed(static_cast<unsigned long long>(v)), first + i);
      ++total.counted;
      if (weighted)
        total.add_weight(first + i, double(o.class_weights[static_cast<std::size_t>(v)]));
    }
    return {};
  };
  if (auto r = for_each_chunk(labels, labels.size(), 1, chunk); !r) return r;
  counts = total;
  return {};
}

inline auto one_hot_entry(shape labels, std::size_t row, std::string_view value, std::size_t pos)
    -> check_result {
  return failure(error_kind::invalid_one_hot,
                 fmt::format("one-hot labels {}: row {} holds {} at {}; a one-hot row holds "
                             "exactly one 1 and zeros elsewhere; hint: pass soft targets as "
                             "sg::probabilities(...)",
                             shape_text(labels), row, value, position_text(labels, pos)));
}

inline auto one_hot_count(shape labels, std::size_t row, std::size_t ones, std::size_t first)
    -> check_result {
  return failure(error_kind::invalid_one_hot,
                 fmt::format("one-hot labels {}: row {} holds {} ones{}; a one-hot row holds "
                             "exactly one 1 and zeros elsewhere; hint: {}",
                             shape_text(labels), row, ones,
                             ones == 0 ? std::string()
                                       : fmt::format(" (the first at column {})", first),
                             ones == 0 ? "pass soft targets as sg::probabilities(...), or class "
                                         "indices with ignore_index for rows without a class"
                                       : "rows with several 1s are multi-label (multi-hot) "
                                         "targets: use sigmoid_cross_entropy, which scores each "
                                         "class on its own"));
}

inline auto probability_entry(std::string_view noun, shape labels, std::size_t row,
                              std::string_view value, std::size_t pos) -> check_result {
  return failure(error_kind::invalid_probabilities,
                 fmt::format("{} {}: row {} holds {} at {}; probability rows hold finite, "
                             "non-negative values that sum to 1; hint: make targets with a "
                             "softmax or by normalising counts",
                             noun, shape_text(labels), row, value, position_text(labels, pos)));
}

/// `multi_hot`: the row holds only 0s and 1s (and more than one 1).
inline auto probability_sum(std::string_view noun, shape labels, std::size_t row, double sum,
                            double tol, bool multi_hot) -> check_result {
  return failure(error_kind::invalid_probabilities,
                 fmt::format("{} {}: row {} sums to {} instead of 1 (tolerance {:g}); hint: {}",
                             noun, shape_text(labels), row, sum, tol,
                             multi_hot ? "the row is multi-hot, several classes at once: "
                                         "multi-label targets go to sigmoid_cross_entropy, which "
                                         "scores each class on its own"
                                       : "targets are one-hot or probability rows: normalise "
                                         "them, or pass integer class indices (independent "
                                         "per-class targets go to sigmoid_cross_entropy)"));
}

/// The tolerance of a probability row's sum: 1e-4 (float) or 1e-9 (double), plus C epsilons.
template <class U>
auto probability_tolerance(std::size_t c) -> double {
  return (std::is_same_v<U, double> ? 1e-9 : 1e-4) +
         double(c) * double(std::numeric_limits<U>::epsilon());
}

/// Target types whose sign is their top bit (float, double and the 16-bit types), which the
/// fast paths of check_target_rows or together.
template <class U>
inline constexpr bool sign_on_top_v = std::is_floating_point_v<U> || is_16bit_v<U>;

template <class U>
using sign_word = std::conditional_t<sizeof(U) == 2, std::uint16_t,
                                     std::conditional_t<sizeof(U) == 4, std::uint32_t,
                                                        std::uint64_t>>;

/// Whether target bits (or-ed, widened) have U's sign bit set.
template <class U>
auto has_sign(std::uint64_t bits) -> bool {
  return (bits >> (8 * sizeof(U) - 1)) != 0;
}

/// Whether a probability row is valid without doubt (check_target_rows): every entry finite
/// and >= 0 (a NaN or infinite entry makes the sum NaN or infinite; a negative one sets the
/// sign bit every entry's bits are or-ed into, as -0 does, whose row the loop then decides),
/// and the sum within the tolerance less the rounding by which it can differ from the loop's.
/// Sixteen chains in the lanes' type: float for float and 16-bit targets (every entry exact in
/// float), double for double; the chains and their sign words fit in the registers of the
/// baseline instruction set, so that the row streams through at about the speed of a read.
template <class U>
auto probability_row_surely_valid(const U* row, std::size_t c) -> bool {
  static_assert(sign_on_top_v<U>);
  using bits = sign_word<U>;
  using lane = std::conditional_t<std::is_same_v<U, double>, double, float>;
  constexpr std::size_t L = 16;
  lane sums[L] = {};
  bits signs[L] = {};
  std::size_t k = 0;
  // the sixteen chains written out, so that they stay in registers
  const auto step = [&]<std::size_t... j>(std::index_sequence<j...>) {
    ((sums[j] += lane(row[k + j]), signs[j] |= std::bit_cast<bits>(row[k + j])), ...);
  };
  for (; k + L <= c; k += L) step(std::make_index_sequence<L>{});
  for (std::size_t j = 0; k < c; ++k, ++j) {  // the tail, one entry per chain
    sums[j] += lane(row[k]);
    signs[j] |= std::bit_cast<bits>(row[k]);
  }
  for (std::size_t w = L / 2; w > 0; w /= 2)  // pairwise: 4 levels, not 16 dependent additions
    for (std::size_t j = 0; j < w; ++j) {
      sums[j] += sums[j + w];
      signs[j] |= signs[j + w];
    }
  const double sum = double(sums[0]);
  // A sum of non-negative terms, each chain at most c / 16 + 1 of them and 4 levels on top, is
  // within (c / 16 + 5) epsilon of the lanes' type of the exact sum, and the loop's double sum
  // within c double epsilons: twice both is a safe margin (an overflowed float sum is infinite,
  // and the loop decides the row).
  const double margin =
      2.0 *
      (double(c / L + 5) * double(std::numeric_limits<lane>::epsilon()) +
       double(c) * std::numeric_limits<double>::epsilon()) *
      (sum + 1);
  return !has_sign<U>(signs[0]) && std::fabs(sum - 1.0) <= probability_tolerance<U>(c) - margin;
}

/// Whether each of the 4 probability rows from `row` (c classes apart) is valid: every entry
/// finite and >= 0, and each row's sum, added in the order of check_target_rows' loop, within
/// the tolerance. The same sums in the same order as that loop, so the same verdicts: a NaN or
/// infinite entry makes its row's sum NaN or infinite, outside the tolerance, and a negative
/// one sets the sign bit that every entry's bits are or-ed into (as -0 does, which sends its
/// rows to the loop, where it is valid). The four chains are interleaved, with no branch and
/// no comparison per entry (check_target_rows' rows of fewer than 64 classes).
template <class U>
auto probability_rows_valid4(const U* row, std::size_t c) -> bool {
  static_assert(sign_on_top_v<U>);
  using bits = sign_word<U>;
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::uint64_t signs = 0;
  for (std::size_t k = 0; k < c; ++k) {
    const U v0 = row[k], v1 = row[c + k], v2 = row[2 * c + k], v3 = row[3 * c + k];
    s0 += double(v0);
    s1 += double(v1);
    s2 += double(v2);
    s3 += double(v3);
    signs |= std::uint64_t{std::bit_cast<bits>(v0)} | std::bit_cast<bits>(v1) |
             std::bit_cast<bits>(v2) | std::bit_cast<bits>(v3);
  }
  const double tol = probability_tolerance<U>(c);
  return !has_sign<U>(signs) && std::fabs(s0 - 1.0) <= tol &&
         std::fabs(s1 - 1.0) <= tol && std::fabs(s2 - 1.0) <= tol && std::fabs(s3 - 1.0) <= tol;
}

template <class Traits>
auto check_target_rows(const typename Traits::logits_view& logits,
                       const typename Traits::labels_view& labels, label_counts& counts)
    -> check_result {
  using U = typename Traits::label_type;
  const std::size_t c = logits.extent(Traits::batch_rank);
  const auto e = sizes_of(labels);
  // rows from the batch axes, not size / c: with no classes, each row sums to 0, not to 1
  std::size_t rows = 1;
  for (std::size_t a = 0; a < Traits::batch_rank; ++a) rows *= e[a];
  auto chunk = [&](const U* t, std::size_t first, std::size_t n) -> check_result {
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t r = first + i;
      const U* row = t + i * c;
      if constexpr (Traits::encoding == label_encoding::one_hot) {
        std::size_t ones = 0, hot = 0;
        for (std::size_t k = 0; k < c; ++k) {
          if (row[k] == U(1)) {
            if (ones++ == 0) hot = k;
          } else if (row[k] != U(0)) {
            return one_hot_entry(e, r, value_text(row[k]), r * c + k);
          }
        }
        if (ones != 1) return one_hot_count(e, r, ones, hot);
      } else {
        // The common case first, for floating rows, with no branch per entry (a single
        // chain of double additions would take its latency, 4 cycles, per entry): rows of 64
        // classes or more in sixteen independent sums, let through only when surely valid
        // (every entry finite and >= 0, the sum within the tolerance less the rounding by which
        // this order of the sum can differ from the loop's); shorter rows four at a time through
        // the loop's own sums, interleaved. The loop below decides every other row and names
        // what is wrong.
        if constexpr (sign_on_top_v<U>) {
          if (c >= 64 && probability_row_surely_valid(row, c)) continue;
          if (c < 64 && i % 4 == 0 && i + 4 <= n && probability_rows_valid4(row, c)) {
            i += 3;
            continue;
          }
        }
        double sum = 0;
        for (std::size_t k = 0; k < c; ++k) {
          if (!(row[k] >= U(0)) || !std::isfinite(row[k]))
            return probability_entry(labels_noun(Traits::encoding), e, r, value_text(row[k]),
                                     r * c + k);
          sum += double(row[k]);
        }
        const double tol = probability_tolerance<U>(c);
        if (!(std::fabs(sum - 1.0) <= tol)) {
          const bool multi_hot = sum > 1 && std::all_of(row, row + c, [](U v) {
            return v == U(0) || v == U(1);
          });
          return probability_sum(labels_noun(Traits::encoding), e, r, sum, tol, multi_hot);
        }
      }
    }
    return {};
  };
  if (auto r = for_each_chunk(labels, rows, c, chunk); !r) return r;
  counts.counted = rows;
  return {};
}

inline auto non_finite_logit(shape logits, std::string_view value, std::size_t pos)
    -> check_result {
  return failure(error_kind::non_finite,
                 fmt::format("logits {}: {} at {} is not finite; hint: look for an overflow or a "
                             "division by zero in the forward pass (a learning rate too high?)",
                             shape_text(logits), value, position_text(logits, pos)));
}

template <class View>
auto check_finite_logits(const View& logits) -> check_result {
  return for_each_chunk(logits, logits.size(), 1,
                        [&](const auto* x, std::size_t first, std::size_t n) -> check_result {
                          for (std::size_t i = 0; i < n; ++i)
                            if (!std::isfinite(x[i]))
                              return non_finite_logit(sizes_of(logits), value_text(x[i]),
                                                      first + i);
                          return {};
                        });
}

}  // namespace shapeguard::detail
