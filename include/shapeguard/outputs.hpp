#pragma once
/// Output buffers of the loss. A call takes its outputs after the labels, in any order, each at
/// most once: a view with the logits' shape is the gradient; `per_sample(v)`, a view with the
/// logits' batch shape, receives one loss per sample (`reduction::none`); `predictions(v)`, a
/// view of signed integers with the logits' batch shape, receives each row's predicted class
/// (softmax_cross_entropy). Each kind of output has one slot in `detail::output_set`, so a new
/// kind is a new slot, not new overloads.

#include <cstddef>
#include <type_traits>
#include <utility>

#include "labels.hpp"
#include "options.hpp"

namespace shapeguard {

/// Per-sample losses: a buffer shaped like the logits' batch axes.
template <class View>
struct per_sample_losses {
  View view;
};

/// Predictions: a buffer shaped like the logits' batch axes receiving each row's argmax, and
/// where to count the rows predicted right (null: not counted).
template <class View>
struct predicted_classes {
  View view;
  std::size_t* correct = nullptr;
};

namespace detail {
/// The mutable tensor_view that a view, span, vector or array stands for.
template <class V>
constexpr auto as_mutable_view(V&& v) {
  using R = std::remove_cvref_t<V>;
  if constexpr (is_tensor_view<R>) {
    static_assert(!std::is_const_v<typename R::element_type>,
                  "shapeguard: an output buffer needs a view of mutable elements");
    return as_storage(v);
  } else if constexpr (adapted<std::remove_reference_t<V>>) {
    auto view = view_adapter<std::remove_cv_t<R>>::view(v);
    static_assert(!std::is_const_v<typename decltype(view)::element_type>,
                  "shapeguard: an output buffer needs mutable storage");
    return as_storage(view);
  } else {
    static_assert(!std::is_const_v<std::remove_reference_t<V>>,
                  "shapeguard: an output buffer needs mutable storage");
    auto s = std::span(v);
    return as_storage(
        tensor_view<typename decltype(s)::element_type, extents<decltype(s)::extent>>(s));
  }
}

template <class T>
inline constexpr bool is_per_sample = false;
template <class V>
inline constexpr bool is_per_sample<per_sample_losses<V>> = true;

template <class T>
inline constexpr bool is_predictions = false;
template <class V>
inline constexpr bool is_predictions<predicted_classes<V>> = true;

/// Marks an output slot that was not filled.
struct no_output {};

/// The outputs of one call, one slot per kind (a tensor_view, a predicted_classes, or
/// no_output).
template <class Grad = no_output, class Losses = no_output, class Predictions = no_output>
struct output_set {
  static constexpr bool has_grad = !std::is_same_v<Grad, no_output>;
  static constexpr bool has_losses = !std::is_same_v<Losses, no_output>;
  static constexpr bool has_predictions = !std::is_same_v<Predictions, no_output>;
  [[no_unique_address]] Grad grad{};
  [[no_unique_address]] Losses losses{};
  [[no_unique_address]] Predictions predictions{};
};

/// What a call accepts as an output.
template <class O>
concept output_like = is_per_sample<std::remove_cvref_t<O>> ||
                      is_predictions<std::remove_cvref_t<O>> || view_like<std::remove_cvref_t<O>>;

template <class G, class L, class P, class O>
constexpr auto with_output(const output_set<G, L, P>& s, O&& o) {
  using R = std::remove_cvref_t<O>;
  using S = output_set<G, L, P>;
  if constexpr (is_per_sample<R>) {
    static_assert(!S::has_losses, "shapeguard: per-sample losses are passed twice");
    return output_set<G, decltype(o.view), P>{s.grad, o.view, s.predictions};
  } else if constexpr (is_predictions<R>) {
    static_assert(!S::has_predictions, "shapeguard: predictions are passed twice");
    return output_set<G, L, R>{s.grad, s.losses, o};
  } else {
    static_assert(!S::has_grad,
                  "shapeguard: two gradient buffers; per-sample losses go in sg::per_sample(...)");
    auto v = as_mutable_view(std::forward<O>(o));
    return output_set<decltype(v), L, P>{v, s.losses, s.predictions};
  }
}

template <class S>
constexpr auto collect_into(const S& s) {
  return s;
}
template <class S, class O, class... Rest>
constexpr auto collect_into(const S& s, O&& o, Rest&&... rest) {
  return collect_into(with_output(s, std::forward<O>(o)), std::forward<Rest>(rest)...);
}

/// The outputs passed to a call, each in its slot.
template <class... O>
constexpr auto collect_outputs(O&&... outputs) {
  return collect_into(output_set<>{}, std::forward<O>(outputs)...);
}

/// A call's options (ce_options, bce_options) when none are given: one loss per sample when
/// per-sample losses are passed, the mean otherwise.
template <class Options, class... O>
constexpr auto default_options_of() -> Options {
  Options o;
  if constexpr ((is_per_sample<std::remove_cvref_t<O>> || ...)) o.reduction = reduction::none;
  return o;
}
template <class... O>
constexpr auto default_options() -> ce_options {
  return default_options_of<ce_options, O...>();
}
}  // namespace detail

/// Wraps a buffer of signed integers shaped like the logits' batch axes for each row's predicted
/// class, its first maximum (as torch.argmax), written in the loss's own pass; -1 for a row
/// whose softmax is undefined (a NaN or +inf logit, or none above -inf).
template <class V>
  requires detail::view_like<std::remove_cvref_t<V>>
constexpr auto predictions(V&& v) {
  auto view = detail::as_mutable_view(std::forward<V>(v));
  return predicted_classes<decltype(view)>{view, nullptr};
}

/// The same, and `correct` receives the count of rows predicted right: rows not ignored whose
/// prediction is their class index (class indices or one-hot labels). Written only when the
/// call succeeds.
template <class V>
  requires detail::view_like<std::remove_cvref_t<V>>
constexpr auto predictions(V&& v, std::size_t& correct) {
  auto view = detail::as_mutable_view(std::forward<V>(v));
  return predicted_classes<decltype(view)>{view, &correct};
}

/// Wraps a buffer for per-sample losses: `softmax_cross_entropy(logits, labels,
/// sg::per_sample(losses), {.reduction = sg::reduction::none})`.
template <class V>
  requires detail::view_like<std::remove_cvref_t<V>>
constexpr auto per_sample(V&& v) {
  auto view = detail::as_mutable_view(std::forward<V>(v));
  return per_sample_losses<decltype(view)>{view};
}

}  // namespace shapeguard
