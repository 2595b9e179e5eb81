#pragma once
/// Compile-time checks: `compatible<Logits, Labels>` for user `static_assert`s,
/// `assert_compatible<Logits, Labels>()` for ones whose error says what is wrong, and the
/// assertions that make a checked call with a proven mismatch fail to compile.

#include <cstddef>
#include <type_traits>

#include "detail/messages.hpp"
#include "labels.hpp"

namespace shapeguard {
namespace detail {

/// What the types alone say about a (logits, labels) pair. Every predicate here is used
/// three ways: by `compatible`, by the static assertions, and by the run-time checks, which
/// only test at run time what is not decided here.
template <class LogitsView, class Labels>
struct pair_traits {
  using logits_view = LogitsView;
  using labels_view = decltype(Labels::view);
  using logit_type = typename LogitsView::value_type;
  using label_type = typename labels_view::value_type;
  static constexpr label_encoding encoding = Labels::encoding;
  static constexpr bool indices = encoding == label_encoding::class_indices;
  static constexpr bool explicit_encoding = !std::is_same_v<Labels, labels_t<labels_view>>;

  static constexpr std::size_t logits_rank = LogitsView::rank();
  static constexpr std::size_t labels_rank = labels_view::rank();
  static constexpr std::size_t expected_labels_rank =
      logits_rank == 0 ? 0 : (indices ? logits_rank - 1 : logits_rank);
  static constexpr std::size_t batch_rank = logits_rank == 0 ? 0 : logits_rank - 1;

  // the kernels read float, double and the 16-bit types (storage.hpp); long double is not one
  // of them, and double lanes do not read 16-bit targets
  static constexpr bool logits_floating = is_floating_v<logit_type>;
  static constexpr bool labels_type_ok =
      is_floating_v<label_type>
          ? !(is_16bit_v<label_type> && std::is_same_v<logit_type, double>)
          : !is_unsupported_floating_v<label_type>;
  static constexpr bool logits_ranked = logits_rank >= 1;
  static constexpr bool rank_ok = logits_ranked && labels_rank == expected_labels_rank;

  static constexpr auto logits_static(std::size_t r) -> std::size_t {
    return LogitsView::static_extent(r);
  }
  static constexpr auto labels_static(std::size_t r) -> std::size_t {
    return r < labels_rank ? labels_view::static_extent(r) : dyn;
  }
  static constexpr bool batch_ok = [] {
    if constexpr (!rank_ok) {
      return true;  // reported as a rank mismatch
    } else {
      for (std::size_t a = 0; a < batch_rank; ++a)
        if (!extents_agree(logits_static(a), labels_static(a))) return false;
      return true;
    }
  }();
  // labels [N, d...] for logits [N, C, d...]: the classes on axis 1, as PyTorch orders them
  static constexpr bool classes_first_fits = [] {
    if constexpr (!rank_ok || !indices || logits_rank < 3) {
      return false;
    } else {
      for (std::size_t a = 0; a < batch_rank; ++a)
        if (!extents_agree(logits_static(a < 1 ? a : a + 1), labels_static(a))) return false;
      return true;
    }
  }();
  static constexpr bool classes_ok =
      !rank_ok || indices || extents_agree(logits_static(batch_rank), labels_static(batch_rank));
  // a class axis of size 1 cannot learn (error_kind::single_class)
  static constexpr bool classes_known_single = logits_ranked && logits_static(batch_rank) == 1;

  static constexpr bool proven_compatible_types =
      logits_floating && labels_type_ok && logits_ranked;
  static constexpr bool compatible =
      proven_compatible_types && rank_ok && batch_ok && classes_ok && !classes_known_single;
};

// One function per check, so that the failed `static_assert` is a bare comparison of two
// template parameters: g++ then prints "the comparison reduces to '(10 == 15)'" and clang
// "'10UL == 15UL'", and the instantiation line names the axis.
template <std::size_t LabelsRank, std::size_t ExpectedRank>
constexpr void assert_integer_labels_rank() {
  static_assert(LabelsRank == ExpectedRank, SHAPEGUARD_MSG_LOOKS_ONE_HOT);
}
template <std::size_t LabelsRank, std::size_t ExpectedRank>
constexpr void assert_integer_labels_trailing_axis() {
  static_assert(LabelsRank == ExpectedRank, SHAPEGUARD_MSG_TRAILING);
}
template <std::size_t LabelsRank, std::size_t ExpectedRank>
constexpr void assert_floating_labels_rank() {
  static_assert(LabelsRank == ExpectedRank, SHAPEGUARD_MSG_NO_CLASS_AXIS);
}
template <std::size_t LabelsRank, std::size_t ExpectedRank>
constexpr void assert_flat_logits() {
  static_assert(LabelsRank == ExpectedRank, SHAPEGUARD_MSG_FLAT_LOGITS);
}
template <std::size_t BatchAxis, std::size_t LogitsExtent, std::size_t LabelsExtent>
constexpr void assert_classes_last() {
  static_assert(LogitsExtent == LabelsExtent, SHAPEGUARD_MSG_CLASSES_FIRST);
}
template <std::size_t LabelsRank, std::size_t ExpectedRank>
constexpr void assert_labels_rank() {
  static_assert(LabelsRank == ExpectedRank, SHAPEGUARD_MSG_RANK);
}
template <std::size_t BatchAxis, std::size_t LogitsExtent, std::size_t LabelsExtent>
constexpr void assert_batch_axis() {
  static_assert(LogitsExtent == LabelsExtent, SHAPEGUARD_MSG_BATCH);
}
template <std::size_t ClassAxis, std::size_t LogitsClasses, std::size_t LabelsClasses>
constexpr void assert_class_axis() {
  static_assert(LogitsClasses == LabelsClasses, SHAPEGUARD_MSG_CLASSES);
}
template <std::size_t ClassAxis, std::size_t LogitsClasses>
constexpr void assert_not_single_class() {
  static_assert(LogitsClasses != 1, SHAPEGUARD_MSG_SINGLE_CLASS);
}
template <std::size_t ClassAxis, std::size_t LogitsClasses, std::size_t LabelsClasses>
constexpr void assert_no_trailing_axis() {
  static_assert(LogitsClasses == LabelsClasses, SHAPEGUARD_MSG_TRAILING);
}

/// Fails to compile, with the first failing check, when the types prove a mismatch.
template <class Traits>
constexpr void assert_static_compatible() {
  static_assert(Traits::logits_floating, SHAPEGUARD_OP ": " SHAPEGUARD_HINT_FLOATING_LOGITS);
  static_assert(Traits::labels_type_ok, SHAPEGUARD_OP ": " SHAPEGUARD_HINT_FLOATING_LABELS);
  static_assert(Traits::logits_ranked, SHAPEGUARD_OP ": " SHAPEGUARD_HINT_LOGITS_RANK);
  if constexpr (!Traits::rank_ok) {
    constexpr auto got = Traits::labels_rank, want = Traits::expected_labels_rank;
    if constexpr (Traits::indices && got == 1 && Traits::logits_rank == 1 &&
                  !Traits::explicit_encoding)
      assert_flat_logits<got, want>();
    else if constexpr (Traits::indices && got == Traits::logits_rank &&
                       Traits::labels_view::static_extent(got - 1) == 1)
      assert_integer_labels_trailing_axis<got, want>();
    else if constexpr (Traits::indices && !Traits::explicit_encoding &&
                       got == Traits::logits_rank)
      assert_integer_labels_rank<got, want>();
    else if constexpr (!Traits::indices && !Traits::explicit_encoding &&
                       got + 1 == Traits::logits_rank)
      assert_floating_labels_rank<got, want>();
    else
      assert_labels_rank<got, want>();
  } else if constexpr (!Traits::batch_ok) {
    [&]<std::size_t... A>(std::index_sequence<A...>) {
      (
          [] {
            constexpr auto l = Traits::logits_static(A), y = Traits::labels_static(A);
            if constexpr (l != dyn && y != dyn) {
              if constexpr (Traits::classes_first_fits)
                assert_classes_last<A, l, y>();
              else
                assert_batch_axis<A, l, y>();
            }
          }(),
          ...);
    }(std::make_index_sequence<Traits::batch_rank>{});
  } else if constexpr (!Traits::classes_ok) {
    constexpr auto a = Traits::batch_rank;
    constexpr auto l = Traits::logits_static(a), y = Traits::labels_static(a);
    if constexpr (y == 1)
      assert_no_trailing_axis<a, l, y>();
    else
      assert_class_axis<a, l, y>();
  } else if constexpr (Traits::classes_known_single) {
    assert_not_single_class<Traits::batch_rank, Traits::logits_static(Traits::batch_rank)>();
  }
}

template <class Logits, class Labels>
using traits_of =
    pair_traits<decltype(as_const_view(std::declval<const Logits&>())), labels_t<Labels>>;

}  // namespace detail

/// Satisfied unless static information (element types, ranks, static extents) proves that
/// `Labels` cannot be labels for `Logits`.
template <class Logits, class Labels>
concept compatible = detail::view_like<Logits> && detail::labels_like<Labels> &&
                     detail::traits_of<Logits, Labels>::compatible;

/// True, or a compile error when static information proves that `Labels` cannot be labels
/// for `Logits`: the error a checked call would give, the library's sentence with the axis
/// and both numbers (g++: "the comparison reduces to '(10 == 15)'"; clang: "'10UL == 15UL'").
/// For user assertions that explain themselves:
/// `static_assert(sg::assert_compatible<batch_logits, batch_labels>());`
template <class Logits, class Labels>
consteval auto assert_compatible() -> bool {
  using L = std::remove_cvref_t<Logits>;
  using Y = std::remove_cvref_t<Labels>;
  static_assert(detail::view_like<L>,
                "sg::assert_compatible: Logits is not a view: pass an sg::tensor_view type, or "
                "a contiguous range (std::span, std::vector, std::array)");
  static_assert(detail::labels_like<Y>,
                "sg::assert_compatible: Labels are not labels: pass a view or contiguous range "
                "type, or the type of sg::class_indices(v), sg::one_hot(v) or "
                "sg::probabilities(v)");
  if constexpr (detail::view_like<L> && detail::labels_like<Y>)
    detail::assert_static_compatible<detail::traits_of<L, Y>>();
  return true;
}

}  // namespace shapeguard
