#pragma once
/// `tensor_view<T, Extents>`: a non-owning, row-major, contiguous view of a tensor.

#include <concepts>
#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

#if __has_include(<mdspan>)
#include <mdspan>
#endif

#include "extents.hpp"

namespace shapeguard {

template <class T, class Extents>
  requires detail::is_extents<Extents>
class tensor_view {
 public:
  using element_type = T;
  using value_type = std::remove_cv_t<T>;
  using extents_type = Extents;
  using pointer = T*;
  using reference = T&;

  static constexpr auto rank() noexcept -> std::size_t { return Extents::rank(); }
  static constexpr auto rank_dynamic() noexcept -> std::size_t {
    return Extents::rank_dynamic();
  }
  static constexpr auto static_extent(std::size_t r) noexcept -> std::size_t {
    return Extents::static_extent(r);
  }

  constexpr tensor_view() noexcept = default;

  /// From a pointer and the dynamic extents in axis order (or every extent).
  template <std::integral... I>
    requires std::constructible_from<Extents, I...>
  constexpr explicit(sizeof...(I) == 0) tensor_view(T* data, I... dynamic_extents)
      : data_(data), extents_(dynamic_extents...) {}

  constexpr tensor_view(T* data, const Extents& e) noexcept : data_(data), extents_(e) {}

  /// A rank-1 view of a span (static length when the span has one).
  template <class U, std::size_t N>
    requires(rank() == 1 && std::is_convertible_v<U (*)[], T (*)[]> &&
             std::is_constructible_v<Extents, shapeguard::extents<N>>)
  constexpr explicit(static_extent(0) != dyn && N == dyn) tensor_view(std::span<U, N> s)
      : data_(s.data()), extents_(to_extents(s)) {}

  /// A rank-1 view of a vector.
  template <class U, class A>
    requires(rank() == 1 && std::is_convertible_v<U (*)[], T (*)[]>)
  constexpr explicit(rank() == 1 && static_extent(0) != dyn)
      tensor_view(std::vector<U, A>& v)
      : tensor_view(std::span<U>(v)) {}
  template <class U, class A>
    requires(rank() == 1 && std::is_const_v<T> && std::is_convertible_v<const U (*)[], T (*)[]>)
  constexpr explicit(rank() == 1 && static_extent(0) != dyn)
      tensor_view(const std::vector<U, A>& v)
      : tensor_view(std::span<const U>(v)) {}

  /// From another view: implicit when it only adds const or makes axes dynamic; explicit
  /// (and checked at run time) when it makes dynamic axes static.
  template <class U, class F>
    requires(std::is_convertible_v<U (*)[], T (*)[]> && std::is_constructible_v<Extents, F>)
  constexpr explicit(!std::is_convertible_v<F, Extents>)
      tensor_view(const tensor_view<U, F>& other)
      : data_(other.data()), extents_(other.extents()) {}

#if defined(__cpp_lib_mdspan)
  /// From a row-major `std::mdspan`.
  template <class U, class IndexType, std::size_t... F, class Accessor>
    requires(std::is_convertible_v<U (*)[], T (*)[]> &&
             std::is_constructible_v<Extents, shapeguard::extents<F...>>)
  constexpr explicit(!std::is_convertible_v<shapeguard::extents<F...>, Extents>)
      tensor_view(const std::mdspan<U, std::extents<IndexType, F...>, std::layout_right,
                                    Accessor>& m)
      : data_(m.data_handle()), extents_(from_std(m.extents())) {}
#endif

  [[nodiscard]] constexpr auto data() const noexcept -> T* { return data_; }
  [[nodiscard]] constexpr auto extents() const noexcept -> const Extents& { return extents_; }
  [[nodiscard]] constexpr auto extent(std::size_t r) const noexcept -> std::size_t {
    return extents_.extent(r);
  }
  [[nodiscard]] constexpr auto size() const noexcept -> std::size_t { return extents_.size(); }
  [[nodiscard]] constexpr auto empty() const noexcept -> bool { return size() == 0; }

  /// Element access, row-major; indices must be in range.
  template <std::integral... I>
    requires(sizeof...(I) == rank())
  constexpr auto operator()(I... indices) const noexcept -> T& {
    std::size_t offset = 0;
    std::size_t r = 0;
    ((offset = offset * extent(r++) + static_cast<std::size_t>(indices)), ...);
    return data_[offset];
  }

 private:
  template <class U, std::size_t N>
  static constexpr auto to_extents(std::span<U, N> s) -> Extents {
    if constexpr (N == dyn && static_extent(0) == dyn) {
      return Extents(s.size());
    } else {
      return Extents(shapeguard::extents<N>(s.size()));
    }
  }
#if defined(__cpp_lib_mdspan)
  template <class IndexType, std::size_t... F>
  static constexpr auto from_std(const std::extents<IndexType, F...>& e) -> Extents {
    return [&]<std::size_t... R>(std::index_sequence<R...>) {
      return Extents(shapeguard::extents<F...>(e.extent(R)...));
    }(std::make_index_sequence<sizeof...(F)>{});
  }
#endif

  T* data_ = nullptr;
  [[no_unique_address]] Extents extents_{};
};

template <class T, std::size_t N>
tensor_view(std::span<T, N>) -> tensor_view<T, extents<N>>;
template <class T, class A>
tensor_view(std::vector<T, A>&) -> tensor_view<T, extents<dyn>>;
template <class T, class A>
tensor_view(const std::vector<T, A>&) -> tensor_view<const T, extents<dyn>>;

/// A rank-1 view of a contiguous container (`std::vector`, `std::array`, `std::span`).
template <class R>
  requires requires(R& r) { std::span(r); }
constexpr auto view(R& range) {
  auto s = std::span(range);
  return tensor_view<typename decltype(s)::element_type, extents<decltype(s)::extent>>(s);
}

namespace detail {
template <class T>
inline constexpr bool is_tensor_view = false;
template <class T, class E>
inline constexpr bool is_tensor_view<tensor_view<T, E>> = true;
}  // namespace detail

}  // namespace shapeguard
