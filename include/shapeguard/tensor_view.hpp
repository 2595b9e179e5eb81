#pragma once
/// `tensor_view<T, Extents, Layout>`: a non-owning view of a tensor, row-major and contiguous
/// by default (`layout_right`); `layout_left` (column-major) and `layout_stride` (any strides)
/// as std::mdspan's (layout.hpp). `class_axis<A>(v)`: the view with its axis A moved last,
/// for tensors whose classes lie on another axis (PyTorch's [N, C, H, W]).

#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#if __has_include(<mdspan>)
#include <mdspan>
#endif

#include "extents.hpp"
#include "layout.hpp"

namespace shapeguard {

template <class T, class Extents, class Layout = layout_right>
  requires(detail::is_extents<Extents> && detail::is_layout<Layout>)
class tensor_view {
 public:
  using element_type = T;
  using value_type = std::remove_cv_t<T>;
  using extents_type = Extents;
  using layout_type = Layout;
  using mapping_type = typename Layout::template mapping<Extents>;
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

  /// From a pointer and the dynamic extents in axis order (or every extent); layout_right and
  /// layout_left.
  template <std::integral... I>
    requires(std::constructible_from<Extents, I...> &&
             std::is_constructible_v<mapping_type, Extents>)
  constexpr explicit(sizeof...(I) == 0) tensor_view(T* data, I... dynamic_extents)
      : data_(data), map_(Extents(dynamic_extents...)) {}

  constexpr tensor_view(T* data, const Extents& e) noexcept
    requires std::is_constructible_v<mapping_type, Extents>
      : data_(data), map_(e) {}

  /// From a pointer and a mapping (for layout_stride: extents and strides).
  constexpr tensor_view(T* data, const mapping_type& m) noexcept : data_(data), map_(m) {}

  /// From a pointer, extents and one stride per axis, in elements (layout_stride).
  constexpr tensor_view(T* data, const Extents& e,
                        const std::array<std::size_t, Extents::rank()>& strides)
    requires std::is_same_v<Layout, layout_stride>
      : data_(data), map_(e, strides) {}

  /// A rank-1 view of a span (static length when the span has one).
  template <class U, std::size_t N>
    requires(rank() == 1 && std::is_same_v<Layout, layout_right> &&
             std::is_convertible_v<U (*)[], T (*)[]> &&
             std::is_constructible_v<Extents, shapeguard::extents<N>>)
  constexpr explicit(static_extent(0) != dyn && N == dyn) tensor_view(std::span<U, N> s)
      : data_(s.data()), map_(to_extents(s)) {}

  /// A rank-1 view of a vector.
  template <class U, class A>
    requires(rank() == 1 && std::is_same_v<Layout, layout_right> &&
             std::is_convertible_v<U (*)[], T (*)[]>)
  constexpr explicit(rank() == 1 && static_extent(0) != dyn)
      tensor_view(std::vector<U, A>& v)
      : tensor_view(std::span<U>(v)) {}
  template <class U, class A>
    requires(rank() == 1 && std::is_same_v<Layout, layout_right> && std::is_const_v<T> &&
             std::is_convertible_v<const U (*)[], T (*)[]>)
  constexpr explicit(rank() == 1 && static_extent(0) != dyn)
      tensor_view(const std::vector<U, A>& v)
      : tensor_view(std::span<const U>(v)) {}

  /// From another view of the same layout, or of any layout into layout_stride: implicit when
  /// it only adds const or makes axes dynamic; explicit (and checked at run time) when it makes
  /// dynamic axes static.
  template <class U, class F, class L>
    requires(std::is_convertible_v<U (*)[], T (*)[]> && std::is_constructible_v<Extents, F> &&
             (std::is_same_v<L, Layout> || std::is_same_v<Layout, layout_stride>))
  constexpr explicit(!std::is_convertible_v<F, Extents>)
      tensor_view(const tensor_view<U, F, L>& other)
      : data_(other.data()), map_(mapping_type(other.mapping())) {}

#if defined(__cpp_lib_mdspan)
  /// From a `std::mdspan` of layout_right (into layout_right), layout_left (into layout_left)
  /// or any other layout with strides (into layout_stride).
  template <class U, class IndexType, std::size_t... F, class L, class Accessor>
    requires(std::is_convertible_v<U (*)[], T (*)[]> &&
             std::is_constructible_v<Extents, shapeguard::extents<F...>> &&
             (std::is_same_v<L, std::layout_right> == std::is_same_v<Layout, layout_right>) &&
             (std::is_same_v<L, std::layout_left> == std::is_same_v<Layout, layout_left>))
  constexpr explicit(!std::is_convertible_v<shapeguard::extents<F...>, Extents>)
      tensor_view(const std::mdspan<U, std::extents<IndexType, F...>, L, Accessor>& m)
      : data_(m.data_handle()), map_(from_std(m)) {}
#endif

  [[nodiscard]] constexpr auto data() const noexcept -> T* { return data_; }
  [[nodiscard]] constexpr auto extents() const noexcept -> const Extents& {
    return map_.extents();
  }
  [[nodiscard]] constexpr auto mapping() const noexcept -> const mapping_type& { return map_; }
  [[nodiscard]] constexpr auto extent(std::size_t r) const noexcept -> std::size_t {
    return map_.extents().extent(r);
  }
  /// The distance in elements between neighbours along axis r.
  [[nodiscard]] constexpr auto stride(std::size_t r) const noexcept -> std::size_t {
    return map_.stride(r);
  }
  [[nodiscard]] constexpr auto size() const noexcept -> std::size_t {
    return map_.extents().size();
  }
  [[nodiscard]] constexpr auto empty() const noexcept -> bool { return size() == 0; }
  /// The elements from data() that the view can reach: 1 + its largest offset.
  [[nodiscard]] constexpr auto required_span_size() const noexcept -> std::size_t {
    return map_.required_span_size();
  }

  /// Element access through the layout; indices must be in range.
  template <std::integral... I>
    requires(sizeof...(I) == rank())
  constexpr auto operator()(I... indices) const noexcept -> T& {
    return data_[map_(indices...)];
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
  template <class M>
  static constexpr auto from_std(const M& m) -> mapping_type {
    return [&]<std::size_t... R>(std::index_sequence<R...>) {
      const Extents e(shapeguard::extents<M::extents_type::static_extent(R)...>(
          static_cast<std::size_t>(m.extent(R))...));
      if constexpr (std::is_same_v<Layout, layout_stride>)
        return mapping_type(e, {static_cast<std::size_t>(m.stride(R))...});
      else
        return mapping_type(e);
    }(std::make_index_sequence<Extents::rank()>{});
  }
#endif

  T* data_ = nullptr;
  [[no_unique_address]] mapping_type map_{};
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

/// Another library's tensors as views: a specialisation for T has `static auto view(T&)` and
/// `static auto view(const T&)`, returning tensor_views of its elements (mutable and const).
/// Every call then takes a T where it takes a view. eigen.hpp specialises it for Eigen's dense
/// objects with direct access.
template <class T>
struct view_adapter;

namespace detail {
template <class T>
concept adapted = requires(T& t) { view_adapter<std::remove_cv_t<T>>::view(t); };

template <class T>
inline constexpr bool is_tensor_view = false;
template <class T, class E, class L>
inline constexpr bool is_tensor_view<tensor_view<T, E, L>> = true;

template <std::size_t A, class E, std::size_t... R>
constexpr auto moved_last(std::index_sequence<R...>) {
  constexpr auto from = [](std::size_t r) { return r < A ? r : r == E::rank() - 1 ? A : r + 1; };
  return shapeguard::extents<E::static_extent(from(R))...>{};
}
}  // namespace detail

/// The view `v` with its axis A moved last, the others in order: a strided view of the same
/// elements (no copy), as `torch.movedim(v, A, -1)`. For logits whose classes lie on axis A,
/// such as PyTorch's [N, C, H, W] with A = 1: `class_axis<1>(logits)` is [N, H, W, C], whose
/// labels are [N, H, W]; pass the gradient (and per-class targets) the same way. Static extents
/// move with their axes, so compile-time checks still apply.
template <std::size_t A, class T, class E, class L>
  requires(A < E::rank())
constexpr auto class_axis(const tensor_view<T, E, L>& v) {
  using Moved = decltype(detail::moved_last<A, E>(std::make_index_sequence<E::rank()>{}));
  std::array<std::size_t, E::rank()> sizes{}, strides{};
  for (std::size_t r = 0; r < E::rank(); ++r) {
    const std::size_t from = r < A ? r : r == E::rank() - 1 ? A : r + 1;
    sizes[r] = v.extent(from);
    strides[r] = v.stride(from);
  }
  const auto all = [&]<std::size_t... R>(std::index_sequence<R...>) {
    return shapeguard::extents<((void)R, dyn)...>(sizes[R]...);
  }(std::make_index_sequence<E::rank()>{});
  return tensor_view<T, Moved, layout_stride>(v.data(), Moved(all), strides);
}

}  // namespace shapeguard
