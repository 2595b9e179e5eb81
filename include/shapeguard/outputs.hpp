#pragma once
/// Output buffers of the loss: the gradient (a view with the logits' shape) and per-sample
/// losses for `reduction::none` (a view with the logits' batch shape, wrapped by `per_sample`).

#include <type_traits>

#include "labels.hpp"

namespace shapeguard {

/// Per-sample losses: a buffer shaped like the logits' batch axes.
template <class View>
struct per_sample_losses {
  View view;
};

namespace detail {
/// The mutable tensor_view that a view, span, vector or array stands for.
template <class V>
constexpr auto as_mutable_view(V&& v) {
  using R = std::remove_cvref_t<V>;
  if constexpr (is_tensor_view<R>) {
    static_assert(!std::is_const_v<typename R::element_type>,
                  "shapeguard: an output buffer needs a view of mutable elements");
    return v;
  } else {
    static_assert(!std::is_const_v<std::remove_reference_t<V>>,
                  "shapeguard: an output buffer needs mutable storage");
    auto s = std::span(v);
    return tensor_view<typename decltype(s)::element_type, extents<decltype(s)::extent>>(s);
  }
}

template <class T>
inline constexpr bool is_per_sample = false;
template <class V>
inline constexpr bool is_per_sample<per_sample_losses<V>> = true;

/// Marks an output that was not passed.
struct no_output {};
}  // namespace detail

/// Wraps a buffer for per-sample losses: `softmax_cross_entropy(logits, labels,
/// sg::per_sample(losses), {.reduction = sg::reduction::none})`.
template <class V>
  requires detail::view_like<std::remove_cvref_t<V>>
constexpr auto per_sample(V&& v) {
  auto view = detail::as_mutable_view(std::forward<V>(v));
  return per_sample_losses<decltype(view)>{view};
}

}  // namespace shapeguard
