#pragma once
// Shape checks of a (logits, labels) pair at run time: the labels' rank, each batch axis and,
// for per-class targets, the class axis. They test only what pair_traits could not decide from
// the types.

#include <cstddef>
#include <string_view>

#include "../../compatible.hpp"
#include "report.hpp"

namespace shapeguard::detail {

inline auto rank_mismatch(shape logits, std::string_view noun, shape labels,
                          std::size_t expected, const char* hint) -> check_result {
  return failure(error_kind::rank_mismatch,
                 fmt::format("rank mismatch: logits {} have rank {} but {} {} have rank {}, not "
                             "{}; hint: {}",
                             shape_text(logits), logits.size(), noun, shape_text(labels),
                             labels.size(), expected, hint));
}

/// Whether labels (class indices) have the shape of logits without axis 1: PyTorch's
/// [N, C, d...] order.
inline auto fits_classes_first(shape logits, shape labels) -> bool {
  if (logits.size() < 3 || labels.size() + 1 != logits.size()) return false;
  for (std::size_t a = 0; a < labels.size(); ++a)
    if (labels[a] != logits[a < 1 ? a : a + 1]) return false;
  return true;
}

inline auto batch_mismatch(shape logits, std::string_view noun, shape labels, std::size_t axis,
                           bool indices) -> check_result {
  if (indices && fits_classes_first(logits, labels))
    return failure(error_kind::batch_mismatch,
                   fmt::format("batch size mismatch on axis {}: logits {} have {} but {} {} have "
                               "{}; hint: " SHAPEGUARD_HINT_CLASSES_FIRST " ({} classes)",
                               axis, shape_text(logits), logits[axis], noun, shape_text(labels),
                               labels[axis], logits[1]));
  if (logits.size() == 2)
    return failure(error_kind::batch_mismatch,
                   fmt::format("batch size mismatch: logits {} have {} rows but {} {} have {} "
                               "(axis 0); hint: " SHAPEGUARD_HINT_SAME_BATCH,
                               shape_text(logits), logits[0], noun, shape_text(labels),
                               labels[0]));
  return failure(error_kind::batch_mismatch,
                 fmt::format("batch size mismatch on axis {}: logits {} have {} but {} {} have "
                             "{}; hint: " SHAPEGUARD_HINT_SAME_BATCH,
                             axis, shape_text(logits), logits[axis], noun, shape_text(labels),
                             labels[axis]));
}

inline auto class_mismatch(shape logits, std::string_view noun, shape labels) -> check_result {
  const std::size_t axis = logits.size() - 1, c = logits[axis], k = labels[axis];
  if (k == 1)
    return failure(error_kind::class_mismatch,
                   fmt::format("class count mismatch: logits {} have {} classes but {} {} have 1 "
                               "column on axis {} (the class axis); hint: [N, 1] labels look "
                               "like class indices with a trailing axis: " SHAPEGUARD_HINT_TRAILING_AXIS,
                               shape_text(logits), c, noun, shape_text(labels), axis));
  return failure(error_kind::class_mismatch,
                 fmt::format("class count mismatch: logits {} have {} classes but {} {} have {} "
                             "columns on axis {} (the class axis); hint: the labels were encoded "
                             "for {} classes: " SHAPEGUARD_HINT_ONE_HOT_WIDTH " ({})",
                             shape_text(logits), c, noun, shape_text(labels), k, axis, k, c));
}

inline auto single_class(shape logits) -> check_result {
  return failure(error_kind::single_class,
                 fmt::format("logits {} have a class axis of size 1 (axis {}); hint: "
                             SHAPEGUARD_HINT_SINGLE_CLASS,
                             shape_text(logits), logits.size() - 1));
}

/// The labels' rank (only when the types already proved it wrong: this is try_check's report),
/// each batch axis, the class axis of per-class targets, then a class axis of size 1.
template <class Traits>
auto check_shapes(const typename Traits::logits_view& logits,
                  const typename Traits::labels_view& labels) -> check_result {
  const auto x = sizes_of(logits);
  const auto y = sizes_of(labels);
  const std::string_view noun = labels_noun(Traits::encoding);
  if constexpr (!Traits::rank_ok) {
    const char* hint = SHAPEGUARD_HINT_RANK;
    if (Traits::indices && Traits::logits_rank == 1 && Traits::labels_rank == 1 &&
        !Traits::explicit_encoding)
      hint = SHAPEGUARD_HINT_FLAT_LOGITS;
    else if (Traits::indices && Traits::labels_rank == Traits::logits_rank &&
        labels.extent(Traits::labels_rank - 1) == 1)
      hint = "[N, 1] labels for [N, C] logits: " SHAPEGUARD_HINT_TRAILING_AXIS;
    else if (Traits::indices && !Traits::explicit_encoding &&
             Traits::labels_rank == Traits::logits_rank)
      hint = SHAPEGUARD_HINT_LOOKS_ONE_HOT;
    else if (!Traits::indices && !Traits::explicit_encoding &&
             Traits::labels_rank + 1 == Traits::logits_rank)
      hint = SHAPEGUARD_HINT_NO_CLASS_AXIS;
    return rank_mismatch(x, noun, y, Traits::expected_labels_rank, hint);
  } else {
    for (std::size_t a = 0; a < Traits::batch_rank; ++a) {
      if (Traits::logits_static(a) != dyn && Traits::labels_static(a) != dyn &&
          Traits::logits_static(a) == Traits::labels_static(a))
        continue;  // proven at compile time
      if (x[a] != y[a]) return batch_mismatch(x, noun, y, a, Traits::indices);
    }
    if constexpr (!Traits::indices)
      if (x[Traits::batch_rank] != y[Traits::batch_rank]) return class_mismatch(x, noun, y);
    if (x[Traits::batch_rank] == 1) return single_class(x);
    return {};
  }
}

}  // namespace shapeguard::detail
