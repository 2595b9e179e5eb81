#pragma once
/// Label encodings. Labels are class indices or per-class targets, chosen by element type
/// and rank, never by looking at values; the wrappers say it explicitly where the element
/// type would mislead.

#include <concepts>
#include <string_view>
#include <type_traits>
#include <utility>

#include "storage.hpp"
#include "tensor_view.hpp"

namespace shapeguard {

/// How labels encode the target class.
enum class label_encoding {
  class_indices,  ///< one integer per sample; shape = logits shape without the class axis
  one_hot,        ///< a row per sample holding one 1 and zeros; shape = logits shape
  probabilities,  ///< a row per sample of non-negative values summing to 1; shape = logits shape
};

constexpr auto to_string(label_encoding e) noexcept -> std::string_view {
  switch (e) {
    case label_encoding::class_indices: return "class indices";
    case label_encoding::one_hot: return "one-hot labels";
    case label_encoding::probabilities: return "probability labels";
  }
  return "labels";
}

/// A view together with the encoding its values use.
template <label_encoding Encoding, class View>
struct encoded_labels {
  static constexpr label_encoding encoding = Encoding;
  View view;
};

namespace detail {
template <class T>
concept view_like = is_tensor_view<std::remove_cvref_t<T>> || adapted<std::remove_reference_t<T>> ||
                    requires(T& r) { std::span(r); };

/// The view of a buffer of T as its storage type (storage.hpp): the same pointer, read as
/// `bfloat16` or `float16` when T is another library's 16-bit type.
template <class T, class E, class L>
constexpr auto as_storage(const tensor_view<T, E, L>& v) {
  using S = std::conditional_t<std::is_const_v<T>, const storage_t<T>, storage_t<T>>;
  if constexpr (std::is_same_v<S, T>) {
    return v;
  } else {
    static_assert(sizeof(S) == sizeof(T) && std::is_trivially_copyable_v<std::remove_cv_t<T>>,
                  "shapeguard: a storage_type specialisation maps a type to one of another size");
    return tensor_view<S, E, L>(reinterpret_cast<S*>(v.data()), v.mapping());
  }
}

/// The tensor_view of const elements that a view, span, vector or array stands for.
template <view_like V>
constexpr auto as_const_view(const V& v) {
  if constexpr (is_tensor_view<V>) {
    return as_storage(tensor_view<const typename V::value_type, typename V::extents_type,
                                  typename V::layout_type>(v));
  } else if constexpr (adapted<const V>) {
    return as_const_view(view_adapter<V>::view(v));
  } else {
    auto s = std::span(v);
    using S = decltype(s);
    return as_storage(
        tensor_view<const std::remove_cv_t<typename S::element_type>, extents<S::extent>>(s));
  }
}

template <class T>
inline constexpr bool is_encoded = false;
template <label_encoding E, class V>
inline constexpr bool is_encoded<encoded_labels<E, V>> = true;

template <class T>
concept label_value = (std::is_arithmetic_v<T> || is_floating_v<T>) && !std::is_same_v<T, bool>;
}  // namespace detail

/// Labels that hold one class index per sample.
template <detail::view_like V>
constexpr auto class_indices(const V& v) {
  auto view = detail::as_const_view(v);
  static_assert(std::is_integral_v<typename decltype(view)::value_type> &&
                    !std::is_same_v<typename decltype(view)::value_type, bool>,
                "sg::class_indices: class indices need an integer element type");
  return encoded_labels<label_encoding::class_indices, decltype(view)>{view};
}

/// Labels that hold one-hot rows (0/1, integer or floating) with the logits' shape.
template <detail::view_like V>
constexpr auto one_hot(const V& v) {
  auto view = detail::as_const_view(v);
  static_assert(detail::label_value<typename decltype(view)::value_type>,
                "sg::one_hot: one-hot labels need an integer or floating element type");
  return encoded_labels<label_encoding::one_hot, decltype(view)>{view};
}

/// Labels that hold probability rows (floating) with the logits' shape.
template <detail::view_like V>
constexpr auto probabilities(const V& v) {
  auto view = detail::as_const_view(v);
  static_assert(detail::is_floating_v<typename decltype(view)::value_type>,
                "sg::probabilities: probability labels need a floating element type");
  return encoded_labels<label_encoding::probabilities, decltype(view)>{view};
}

namespace detail {
/// Labels as an encoding and a const view. Unwrapped labels: integer elements are class
/// indices; floating elements are per-class targets, validated as probability rows (a
/// one-hot row is one). Integer labels with the logits' rank are rejected by the checks.
template <class L>
constexpr auto as_labels(const L& labels) {
  if constexpr (is_encoded<L>) {
    return labels;
  } else {
    auto view = as_const_view(labels);
    using T = typename decltype(view)::value_type;
    constexpr auto e = is_floating_v<T> || std::is_floating_point_v<T>
                           ? label_encoding::probabilities
                                                   : label_encoding::class_indices;
    return encoded_labels<e, decltype(view)>{view};
  }
}

template <class L>
using labels_t = decltype(as_labels(std::declval<const L&>()));

template <class L>
concept labels_like = is_encoded<L> || view_like<L>;
}  // namespace detail

}  // namespace shapeguard
