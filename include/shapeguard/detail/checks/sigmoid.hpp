#pragma once
// The checks of sigmoid_cross_entropy: labels with exactly the logits' shape (decided from the
// types where they can be, with compile errors for proven mistakes), target values (integer
// labels 0 or 1, floating targets in [0, 1]), options and outputs. Messages are formatted in the
// non-template functions here and in the other check headers.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../../errors.hpp"
#include "../../extents.hpp"
#include "../../options.hpp"
#include "../../outputs.hpp"
#include "options.hpp"
#include "outputs.hpp"
#include "report.hpp"
#include "values.hpp"

#define SHAPEGUARD_SIGMOID_OP "sigmoid_cross_entropy"
#define SHAPEGUARD_HINT_SIGMOID_SHAPE "labels have exactly the logits' shape, one target per output"
#define SHAPEGUARD_HINT_ONE_LABEL_PER_ROW                                                 \
  "one label per row for several outputs: use softmax_cross_entropy with class indices, " \
  "or multi-hot encode the labels to the logits' shape"
#define SHAPEGUARD_HINT_BINARY_TRAILING \
  "no broadcasting: [N, 1] logits take [N, 1] labels (and [N] logits [N] labels)"
#define SHAPEGUARD_HINT_UNPOOLED                                                         \
  "the logits have axes the labels lack, as an unpooled spatial output: pool or flatten " \
  "them before the output layer, or give the labels the logits' shape"
#define SHAPEGUARD_HINT_SIGMOID_LABEL_TYPE \
  "labels need float or double targets, or an integer (or bool) type for multi-hot labels"

namespace shapeguard::detail {

/// What the types alone say about (logits, labels) of the sigmoid loss; used like pair_traits.
template <class LogitsView, class LabelsView>
struct sigmoid_traits {
  using logits_view = LogitsView;
  using labels_view = LabelsView;
  using logit_type = typename LogitsView::value_type;
  using label_type = typename LabelsView::value_type;
  static constexpr std::size_t rank = LogitsView::rank();
  static constexpr std::size_t labels_rank = LabelsView::rank();
  static constexpr bool logits_floating =
      std::is_same_v<logit_type, float> || std::is_same_v<logit_type, double>;
  static constexpr bool integer_labels = std::is_integral_v<label_type>;
  static constexpr bool labels_type_ok = integer_labels || std::is_same_v<label_type, float> ||
                                         std::is_same_v<label_type, double>;
  static constexpr bool logits_ranked = rank >= 1;
  static constexpr bool rank_ok = labels_rank == rank;

  static constexpr auto logits_static(std::size_t r) -> std::size_t {
    return r < rank ? LogitsView::static_extent(r) : dyn;
  }
  static constexpr auto labels_static(std::size_t r) -> std::size_t {
    return r < labels_rank ? LabelsView::static_extent(r) : dyn;
  }
  static constexpr bool axes_ok = [] {
    if constexpr (!rank_ok) {
      return true;  // reported as a rank mismatch
    } else {
      for (std::size_t a = 0; a < rank; ++a)
        if (!extents_agree(logits_static(a), labels_static(a))) return false;
      return true;
    }
  }();
  static constexpr bool proven_compatible_types =
      logits_floating && labels_type_ok && logits_ranked;
  static constexpr bool compatible = proven_compatible_types && rank_ok && axes_ok;
};

// One function per static check, each a bare comparison (see compatible.hpp).
template <std::size_t LabelsRank, std::size_t LogitsRank>
constexpr void assert_sigmoid_one_label_per_row() {
  static_assert(LabelsRank == LogitsRank, SHAPEGUARD_SIGMOID_OP
                ": rank mismatch: " SHAPEGUARD_HINT_ONE_LABEL_PER_ROW);
}
template <std::size_t LabelsRank, std::size_t LogitsRank>
constexpr void assert_sigmoid_trailing_axis() {
  static_assert(LabelsRank == LogitsRank, SHAPEGUARD_SIGMOID_OP
                ": rank mismatch: " SHAPEGUARD_HINT_BINARY_TRAILING);
}
template <std::size_t LabelsRank, std::size_t LogitsRank>
constexpr void assert_sigmoid_unpooled() {
  static_assert(LabelsRank == LogitsRank, SHAPEGUARD_SIGMOID_OP
                ": rank mismatch: " SHAPEGUARD_HINT_UNPOOLED);
}
template <std::size_t LabelsRank, std::size_t LogitsRank>
constexpr void assert_sigmoid_rank() {
  static_assert(LabelsRank == LogitsRank, SHAPEGUARD_SIGMOID_OP
                ": rank mismatch: " SHAPEGUARD_HINT_SIGMOID_SHAPE);
}
template <std::size_t Axis, std::size_t LogitsExtent, std::size_t LabelsExtent>
constexpr void assert_sigmoid_batch_axis() {
  static_assert(LogitsExtent == LabelsExtent, SHAPEGUARD_SIGMOID_OP
                ": batch size mismatch: " SHAPEGUARD_HINT_SAME_BATCH);
}
template <std::size_t ClassAxis, std::size_t LogitsOutputs, std::size_t LabelsOutputs>
constexpr void assert_sigmoid_one_label_for_outputs() {
  static_assert(LogitsOutputs == LabelsOutputs, SHAPEGUARD_SIGMOID_OP
                ": class count mismatch: " SHAPEGUARD_HINT_ONE_LABEL_PER_ROW);
}
template <std::size_t ClassAxis, std::size_t LogitsOutputs, std::size_t LabelsOutputs>
constexpr void assert_sigmoid_class_axis() {
  static_assert(LogitsOutputs == LabelsOutputs, SHAPEGUARD_SIGMOID_OP
                ": class count mismatch: multi-hot encode with as many columns as the logits "
                "have outputs");
}

/// Fails to compile, with the first failing check, when the types prove a mismatch.
template <class Traits>
constexpr void assert_sigmoid_static() {
  static_assert(Traits::logits_floating,
                SHAPEGUARD_SIGMOID_OP ": " SHAPEGUARD_HINT_SIGMOID_LOGITS);
  static_assert(Traits::labels_type_ok,
                SHAPEGUARD_SIGMOID_OP ": " SHAPEGUARD_HINT_SIGMOID_LABEL_TYPE);
  static_assert(Traits::logits_ranked, SHAPEGUARD_SIGMOID_OP ": " SHAPEGUARD_HINT_LOGITS_RANK);
  constexpr auto r = Traits::rank, q = Traits::labels_rank;
  if constexpr (!Traits::rank_ok) {
    constexpr auto last = Traits::logits_static(r - 1);
    if constexpr (q + 1 == r && last == 1)
      assert_sigmoid_trailing_axis<q, r>();  // [N, 1] against [N]
    else if constexpr (q + 1 == r && r >= 2)
      assert_sigmoid_one_label_per_row<q, r>();  // [N, C] against [N]
    else if constexpr (q == r + 1 && Traits::labels_static(q - 1) == 1)
      assert_sigmoid_trailing_axis<q, r>();  // [N] against [N, 1]
    else if constexpr (q < r)
      assert_sigmoid_unpooled<q, r>();  // [N, H, W, 1] against [N, 1]
    else
      assert_sigmoid_rank<q, r>();
  } else if constexpr (!Traits::axes_ok) {
    [&]<std::size_t... A>(std::index_sequence<A...>) {
      (
          [] {
            constexpr auto l = Traits::logits_static(A), y = Traits::labels_static(A);
            if constexpr (l != dyn && y != dyn && l != y) {
              if constexpr (A + 1 < Traits::rank || Traits::rank == 1)
                assert_sigmoid_batch_axis<A, l, y>();
              else if constexpr (y == 1)
                assert_sigmoid_one_label_for_outputs<A, l, y>();
              else
                assert_sigmoid_class_axis<A, l, y>();
            }
          }(),
          ...);
    }(std::make_index_sequence<r>{});
  }
}

inline auto sigmoid_rank_mismatch(shape logits, shape labels) -> check_result {
  const std::size_t r = logits.size(), q = labels.size();
  const char* hint = SHAPEGUARD_HINT_SIGMOID_SHAPE;
  if (q + 1 == r && logits.back() == 1)
    hint = "no broadcasting: drop the logits' trailing axis of 1 (view them with the labels' "
           "shape) or add one to the labels";
  else if (q + 1 == r && r >= 2)
    hint = SHAPEGUARD_HINT_ONE_LABEL_PER_ROW;
  else if (q == r + 1 && labels.back() == 1)
    hint = "no broadcasting: drop the labels' trailing axis of 1, or add one to the logits";
  else if (q < r)
    hint = SHAPEGUARD_HINT_UNPOOLED;
  return failure(error_kind::rank_mismatch,
                 fmt::format("rank mismatch: logits {} have rank {} but labels {} have rank {}; "
                             "hint: {}",
                             shape_text(logits), r, shape_text(labels), q, hint));
}

inline auto sigmoid_axis_mismatch(shape logits, shape labels, std::size_t axis) -> check_result {
  const std::size_t r = logits.size();
  if (axis + 1 < r || r == 1)
    return failure(error_kind::batch_mismatch,
                   fmt::format("batch size mismatch on axis {}: logits {} have {} but labels {} "
                               "have {}; hint: " SHAPEGUARD_HINT_SAME_BATCH,
                               axis, shape_text(logits), logits[axis], shape_text(labels),
                               labels[axis]));
  if (labels[axis] == 1)
    return failure(error_kind::class_mismatch,
                   fmt::format("class count mismatch: logits {} have {} outputs on axis {} but "
                               "labels {} have 1; hint: " SHAPEGUARD_HINT_ONE_LABEL_PER_ROW,
                               shape_text(logits), logits[axis], axis, shape_text(labels)));
  return failure(error_kind::class_mismatch,
                 fmt::format("class count mismatch: logits {} have {} outputs on axis {} but "
                             "labels {} have {}; hint: multi-hot encode with as many columns as "
                             "the logits have outputs ({})",
                             shape_text(logits), logits[axis], axis, shape_text(labels),
                             labels[axis], logits[axis]));
}

/// The labels' rank (try_check's report of what the types proved), then every axis.
template <class Traits>
auto check_sigmoid_shapes(const typename Traits::logits_view& logits,
                          const typename Traits::labels_view& labels) -> check_result {
  const auto x = sizes_of(logits);
  const auto y = sizes_of(labels);
  if constexpr (!Traits::rank_ok) {
    return sigmoid_rank_mismatch(x, y);
  } else {
    for (std::size_t a = 0; a < Traits::rank; ++a) {
      if (Traits::logits_static(a) != dyn && Traits::logits_static(a) == Traits::labels_static(a))
        continue;  // proven at compile time
      if (x[a] != y[a]) return sigmoid_axis_mismatch(x, y, a);
    }
    return {};
  }
}

inline auto multi_hot_value(shape logits, shape labels, std::string_view value, std::size_t pos)
    -> check_result {
  return failure(error_kind::label_out_of_range,
                 fmt::format("logits {}, labels {}: label {} at {} is not 0 or 1; multi-hot "
                             "labels hold 0 or 1 for each output; hint: class indices (one "
                             "integer per row) go to softmax_cross_entropy",
                             shape_text(logits), shape_text(labels), value,
                             position_text(labels, pos)));
}

inline auto target_value(shape labels, std::string_view value, bool whole, std::size_t pos)
    -> check_result {
  return failure(error_kind::invalid_probabilities,
                 fmt::format("targets {}: {} at {} is not in [0, 1]; a target is the probability "
                             "that its output is positive; hint: {}",
                             shape_text(labels), value, position_text(labels, pos),
                             whole ? "class indices stored as floats go to "
                                     "softmax_cross_entropy as integers"
                                   : "map the targets into [0, 1], or look for a NaN upstream"));
}

/// Integer labels each 0 or 1, floating targets each in [0, 1] (not NaN).
template <class Traits>
auto check_sigmoid_targets(const typename Traits::logits_view& logits,
                           const typename Traits::labels_view& labels) -> check_result {
  using Y = typename Traits::label_type;
  // labels of any layout, a chunk of them at a time; positions are row-major ones
  auto chunk = [&](const Y* t, std::size_t first, std::size_t n) -> check_result {
    // the common case first, without a branch per label and in groups of 8 the compiler can
    // vectorize; the second loop finds and names the first bad one
    auto any_bad = [&](auto is_bad) {
      unsigned bad = 0;
      std::size_t i = 0;
      for (; i + 8 <= n; i += 8) {
        unsigned group = 0;
        for (std::size_t j = 0; j < 8; ++j) group |= static_cast<unsigned>(is_bad(t[i + j]));
        bad |= group;
      }
      for (; i < n; ++i) bad |= static_cast<unsigned>(is_bad(t[i]));
      return bad != 0;
    };
    if constexpr (std::is_same_v<Y, bool>) {
      return {};
    } else if constexpr (Traits::integer_labels) {
      if (!any_bad([](Y v) { return !(v == Y(0) || v == Y(1)); })) return {};
      for (std::size_t i = 0; i < n; ++i)
        if (!(t[i] == Y(0) || t[i] == Y(1)))
          return multi_hot_value(sizes_of(logits), sizes_of(labels), value_text(t[i]),
                                 first + i);
      return {};
    } else {
      if (!any_bad([](Y v) { return static_cast<bool>(!(v >= Y(0)) | !(v <= Y(1))); }))
        return {};
      for (std::size_t i = 0; i < n; ++i)
        if (!(t[i] >= Y(0) && t[i] <= Y(1)))
          return target_value(sizes_of(labels), value_text(t[i]),
                              std::isfinite(t[i]) && t[i] == std::floor(t[i]), first + i);
      return {};
    }
  };
  return for_each_chunk(labels, labels.size(), 1, chunk);
}

/// The class count of the sigmoid loss: the last axis, or 1 for rank-1 logits.
template <class View>
auto sigmoid_classes(const View& logits) -> std::size_t {
  return View::rank() >= 2 ? logits.extent(View::rank() - 1) : 1;
}

/// Every output of `out`: a gradient and per-element losses, both with the logits' shape.
template <class Traits, class Outputs>
auto check_sigmoid_outputs(const typename Traits::logits_view& logits,
                           const typename Traits::labels_view& labels, const Outputs& out,
                           const bce_options& o, bool solving) -> check_result {
  using T = typename Traits::logit_type;
  static_assert(!Outputs::has_predictions,
                SHAPEGUARD_SIGMOID_OP ": sg::predictions(...) are the argmax of a softmax; a "
                "sigmoid output's prediction is its sign");
  const auto x = sizes_of(logits);
  const auto y = sizes_of(labels);
  const buffer logits_b = buffer_of(logits, x, "logits");
  const buffer labels_b = buffer_of(labels, y, "labels");
  const buffer weights_b = buffer_of(o.class_weights, "bce_options::class_weights");
  const buffer pos_b = buffer_of(o.pos_weight, "bce_options::pos_weight");
  if (auto r = check_reduction(o.reduction, "bce_options", x, "the logits' shape",
                               Outputs::has_losses, solving);
      !r)
    return r;
  [[maybe_unused]] std::array<std::size_t, Traits::rank> g{};
  [[maybe_unused]] buffer grad_b{};
  if constexpr (Outputs::has_grad) {
    using G = decltype(out.grad);
    static_assert(G::rank() == Traits::rank, SHAPEGUARD_SIGMOID_OP ": grad needs the logits' rank");
    static_assert(std::is_same_v<typename G::value_type, T>,
                  SHAPEGUARD_SIGMOID_OP ": " SHAPEGUARD_HINT_GRAD_TYPE);
    g = sizes_of(out.grad);
    grad_b = buffer_of(out.grad, g, "grad");
    if (auto r = check_grad(grad_b, logits_b, {labels_b, weights_b, pos_b}, same_elements(out.grad, logits));
        !r)
      return r;
    if (auto r = check_unique(out.grad, grad_b); !r) return r;
  }
  if constexpr (Outputs::has_losses) {
    using L = decltype(out.losses);
    static_assert(L::rank() == Traits::rank,
                  SHAPEGUARD_SIGMOID_OP ": per-sample losses have the logits' shape (one per "
                  "element)");
    static_assert(std::is_same_v<typename L::value_type, T>,
                  SHAPEGUARD_SIGMOID_OP ": per-sample losses need the logits' element type");
    const auto l = sizes_of(out.losses);
    const buffer losses_b = buffer_of(out.losses, l, "per-sample losses");
    if (auto r = check_losses(losses_b, x, true, logits_b, Outputs::has_grad ? &grad_b : nullptr,
                              {labels_b, weights_b, pos_b});
        !r)
      return r;
    if (auto r = check_unique(out.losses, losses_b); !r) return r;
  }
  return {};
}

/// Every check of one sigmoid call, in order: shapes, data, options, outputs, target values,
/// finite logits. `Static`: proven mismatches fail to compile (the loss, `check`) instead of
/// being returned (`try_check`).
template <bool Static, class LogitsView, class LabelsView, class Outputs>
auto sigmoid_checks(const LogitsView& logits, const LabelsView& labels, const Outputs& out,
                    const bce_options& o, bool solving) -> check_result {
  using Traits = sigmoid_traits<LogitsView, LabelsView>;
  static_assert(Traits::logits_floating,
                SHAPEGUARD_SIGMOID_OP ": " SHAPEGUARD_HINT_SIGMOID_LOGITS);
  static_assert(Traits::labels_type_ok,
                SHAPEGUARD_SIGMOID_OP ": " SHAPEGUARD_HINT_SIGMOID_LABEL_TYPE);
  static_assert(Traits::logits_ranked, SHAPEGUARD_SIGMOID_OP ": " SHAPEGUARD_HINT_LOGITS_RANK);
  if constexpr (Static) assert_sigmoid_static<Traits>();
  if (auto r = check_sigmoid_shapes<Traits>(logits, labels); !r) return r;
  if constexpr (Traits::rank_ok) {
    const auto x = sizes_of(logits);
    const auto y = sizes_of(labels);
    if (auto r = check_data(buffer_of(logits, x, "logits")); !r) return r;
    if (auto r = check_data(buffer_of(labels, y, "labels")); !r) return r;
    if (auto r = check_bce_options(x, sigmoid_classes(logits), o); !r) return r;
    if (auto r = check_sigmoid_outputs<Traits>(logits, labels, out, o, solving); !r) return r;
    if (auto r = check_sigmoid_targets<Traits>(logits, labels); !r) return r;
    if (o.check_finite)
      if (auto r = check_finite_logits(logits); !r) return r;
  }
  return {};
}

template <bool Static, class LogitsView, class LabelsView, class Outputs>
auto validate_sigmoid(const LogitsView& logits, const LabelsView& labels, const Outputs& out,
                      const bce_options& o, bool solving) -> check_result {
  return titled(SHAPEGUARD_SIGMOID_OP,
                sigmoid_checks<Static>(logits, labels, out, o, solving));
}

}  // namespace shapeguard::detail
