#pragma once
/// Eigen's dense objects as shapeguard views (optional: include it after <Eigen/Core>; the core
/// library does not depend on Eigen).
///
/// A `Matrix`, `Array`, `Map`, `Ref`, `Block` or any other dense object with direct access to
/// its elements is taken by every call where a view is: `sg::softmax_cross_entropy(logits,
/// labels, grad)` with Eigen logits, labels and gradient, or `sg::view(m)` for the view itself.
/// Objects that are vectors at compile time (one row or one column) are rank-1 views; others
/// are [rows, cols] views. Static sizes become static extents, so `static_assert` with
/// `sg::compatible` works on `Eigen::Matrix<float, 64, 10, Eigen::RowMajor>`. Storage order and
/// strides are kept: a column-major matrix is read column-major (`layout_left`), never as if it
/// were row-major; a `Map` with strides, a `Ref` or a `Block` is a `layout_stride` view.
///
/// Eigen's 16-bit scalars are shapeguard storage (storage.hpp): a buffer of `Eigen::bfloat16` or
/// `Eigen::half` is read and written in place as `sg::bfloat16` / `sg::float16`, whose bit
/// layout it has.

#include <cstddef>
#include <type_traits>

#include <Eigen/Core>
#include <fmt/core.h>

#include "errors.hpp"
#include "extents.hpp"
#include "layout.hpp"
#include "storage.hpp"
#include "tensor_view.hpp"

template <>
struct shapeguard::storage_type<Eigen::bfloat16> {
  using type = shapeguard::bfloat16;
};
template <>
struct shapeguard::storage_type<Eigen::half> {
  using type = shapeguard::float16;
};

static_assert(sizeof(Eigen::bfloat16) == 2 && std::is_trivially_copyable_v<Eigen::bfloat16>);
static_assert(sizeof(Eigen::half) == 2 && std::is_trivially_copyable_v<Eigen::half>);

namespace shapeguard {
namespace detail {

/// A dense Eigen object whose elements lie in memory at its strides (the expressions of
/// Eigen's own CRTP base, and classes derived from them such as VectorBlock).
template <class D>
concept eigen_direct =
    requires(const D& m) {
      typename D::Scalar;
      typename D::PlainObject;
      m.data();
      m.innerStride();
      m.outerStride();
      m.rows();
      m.cols();
    } && std::is_base_of_v<Eigen::DenseBase<typename D::PlainObject>, typename D::PlainObject> &&
    (int(D::Flags) & Eigen::DirectAccessBit) != 0;

constexpr auto eigen_extent(Eigen::Index n) -> std::size_t {
  return n == Eigen::Dynamic ? dyn : static_cast<std::size_t>(n);
}

/// A plain Matrix or Array: contiguous in its storage order.
template <class D>
inline constexpr bool eigen_plain = std::is_base_of_v<Eigen::PlainObjectBase<D>, D>;

inline auto eigen_stride(Eigen::Index s, const char* which) -> std::size_t {
  if (s < 0)
    raise(check_result(error_kind::invalid_option,
                       fmt::format("Eigen object: {} stride {} is negative; hint: shapeguard "
                                   "views take strides >= 0",
                                   which, s)));
  return static_cast<std::size_t>(s);
}

/// The view of an Eigen object's elements, as T (const or not).
template <class T, class D>
auto eigen_view(T* data, const D& m) {
  if constexpr (D::IsVectorAtCompileTime) {
    using E = extents<eigen_extent(D::SizeAtCompileTime)>;
    const E e(static_cast<std::size_t>(m.size()));
    if constexpr (eigen_plain<D>)
      return tensor_view<T, E>(data, e);
    else
      return tensor_view<T, E, layout_stride>(data, e, {eigen_stride(m.innerStride(), "inner")});
  } else {
    using E = extents<eigen_extent(D::RowsAtCompileTime), eigen_extent(D::ColsAtCompileTime)>;
    const E e(static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols()));
    if constexpr (eigen_plain<D> && D::IsRowMajor) {
      return tensor_view<T, E>(data, e);
    } else if constexpr (eigen_plain<D>) {
      return tensor_view<T, E, layout_left>(data, e);
    } else {
      const std::size_t inner = eigen_stride(m.innerStride(), "inner");
      const std::size_t outer = eigen_stride(m.outerStride(), "outer");
      return tensor_view<T, E, layout_stride>(
          data, e, D::IsRowMajor ? std::array{outer, inner} : std::array{inner, outer});
    }
  }
}

}  // namespace detail

/// Eigen's dense objects with direct access, as views.
template <class D>
  requires detail::eigen_direct<D>
struct view_adapter<D> {
  using scalar = typename D::Scalar;
  static auto view(const D& m) { return detail::eigen_view<const scalar>(m.data(), m); }
  static auto view(D& m) {
    if constexpr (bool(int(D::Flags) & Eigen::LvalueBit))
      return detail::eigen_view<scalar>(const_cast<scalar*>(m.data()), m);
    else
      return detail::eigen_view<const scalar>(m.data(), m);
  }
};

/// The view of an Eigen object: const elements for a const object (or one Eigen does not let
/// write), mutable ones otherwise.
template <class D>
  requires detail::eigen_direct<std::remove_cvref_t<D>>
auto view(D&& m) {
  return view_adapter<std::remove_cvref_t<D>>::view(m);
}

}  // namespace shapeguard
