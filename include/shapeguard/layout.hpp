#pragma once
/// Layouts: where element (i0, ..., iR-1) of a view lies, as std::mdspan's layout policies.
/// `layout_right` (row-major, contiguous: the default), `layout_left` (column-major,
/// contiguous: Eigen's default, Fortran's), `layout_stride` (any non-negative stride per axis,
/// in elements: a slice, a transpose, an axis moved). Each has a `mapping<Extents>` with
/// `extents()`, `stride(r)`, `operator()(i...)`, `required_span_size()` and `is_unique()`.

#include <array>
#include <concepts>
#include <cstddef>
#include <type_traits>

#include <fmt/core.h>

#include "errors.hpp"
#include "extents.hpp"

namespace shapeguard {

struct layout_right {
  template <class Extents>
  class mapping;
};
struct layout_left {
  template <class Extents>
  class mapping;
};
struct layout_stride {
  template <class Extents>
  class mapping;
};

namespace detail {
/// The offset of an index tuple under strides `stride(r)`.
template <class Mapping, class... I>
constexpr auto offset_of(const Mapping& m, I... indices) noexcept -> std::size_t {
  std::size_t offset = 0, r = 0;
  ((offset += static_cast<std::size_t>(indices) * m.stride(r++)), ...);
  return offset;
}
}  // namespace detail

/// Row-major and contiguous: the last index varies fastest.
template <class Extents>
class layout_right::mapping {
 public:
  using extents_type = Extents;
  using layout_type = layout_right;

  constexpr mapping() noexcept = default;
  constexpr mapping(const Extents& e) noexcept : extents_(e) {}  // NOLINT: implicit, as std
  template <class F>
    requires std::is_constructible_v<Extents, F>
  constexpr explicit(!std::is_convertible_v<F, Extents>) mapping(const mapping<F>& other)
      : extents_(other.extents()) {}

  [[nodiscard]] constexpr auto extents() const noexcept -> const Extents& { return extents_; }
  [[nodiscard]] constexpr auto stride(std::size_t r) const noexcept -> std::size_t {
    std::size_t s = 1;
    for (std::size_t k = r + 1; k < Extents::rank(); ++k) s *= extents_.extent(k);
    return s;
  }
  template <std::integral... I>
    requires(sizeof...(I) == Extents::rank())
  constexpr auto operator()(I... indices) const noexcept -> std::size_t {
    std::size_t offset = 0, r = 0;
    ((offset = offset * extents_.extent(r++) + static_cast<std::size_t>(indices)), ...);
    return offset;
  }
  [[nodiscard]] constexpr auto required_span_size() const noexcept -> std::size_t {
    return extents_.size();
  }
  static constexpr auto is_always_exhaustive() noexcept -> bool { return true; }
  [[nodiscard]] constexpr auto is_unique() const noexcept -> bool { return true; }

 private:
  [[no_unique_address]] Extents extents_{};
};

/// Column-major and contiguous: the first index varies fastest.
template <class Extents>
class layout_left::mapping {
 public:
  using extents_type = Extents;
  using layout_type = layout_left;

  constexpr mapping() noexcept = default;
  constexpr mapping(const Extents& e) noexcept : extents_(e) {}  // NOLINT: implicit, as std
  template <class F>
    requires std::is_constructible_v<Extents, F>
  constexpr explicit(!std::is_convertible_v<F, Extents>) mapping(const mapping<F>& other)
      : extents_(other.extents()) {}

  [[nodiscard]] constexpr auto extents() const noexcept -> const Extents& { return extents_; }
  [[nodiscard]] constexpr auto stride(std::size_t r) const noexcept -> std::size_t {
    std::size_t s = 1;
    for (std::size_t k = 0; k < r; ++k) s *= extents_.extent(k);
    return s;
  }
  template <std::integral... I>
    requires(sizeof...(I) == Extents::rank())
  constexpr auto operator()(I... indices) const noexcept -> std::size_t {
    return detail::offset_of(*this, indices...);
  }
  [[nodiscard]] constexpr auto required_span_size() const noexcept -> std::size_t {
    return extents_.size();
  }
  static constexpr auto is_always_exhaustive() noexcept -> bool { return true; }
  [[nodiscard]] constexpr auto is_unique() const noexcept -> bool { return true; }

 private:
  [[no_unique_address]] Extents extents_{};
};

/// Any non-negative stride per axis, in elements. Built from extents and strides, or from the
/// mapping of another layout (implicitly). A span that overflows std::size_t is refused
/// (`invalid_option`).
template <class Extents>
class layout_stride::mapping {
 public:
  using extents_type = Extents;
  using layout_type = layout_stride;
  using strides_type = std::array<std::size_t, Extents::rank()>;

  /// Row-major strides of the default extents.
  constexpr mapping() noexcept {
    const layout_right::mapping<Extents> right;
    for (std::size_t r = 0; r < Extents::rank(); ++r) strides_[r] = right.stride(r);
  }
  constexpr mapping(const Extents& e, const strides_type& strides)
      : extents_(e), strides_(strides) {
    check_span();
  }
  /// From a layout_right, layout_left or layout_stride mapping.
  template <class M>
    requires(!std::is_same_v<M, mapping> && requires { typename M::layout_type; } &&
             std::is_constructible_v<Extents, typename M::extents_type>)
  constexpr explicit(!std::is_convertible_v<typename M::extents_type, Extents>)
      mapping(const M& other)
      : extents_(other.extents()) {
    for (std::size_t r = 0; r < Extents::rank(); ++r) strides_[r] = other.stride(r);
  }

  [[nodiscard]] constexpr auto extents() const noexcept -> const Extents& { return extents_; }
  [[nodiscard]] constexpr auto stride(std::size_t r) const noexcept -> std::size_t {
    return strides_[r];
  }
  [[nodiscard]] constexpr auto strides() const noexcept -> const strides_type& {
    return strides_;
  }
  template <std::integral... I>
    requires(sizeof...(I) == Extents::rank())
  constexpr auto operator()(I... indices) const noexcept -> std::size_t {
    return detail::offset_of(*this, indices...);
  }
  /// 1 + the largest offset; 0 for an empty view.
  [[nodiscard]] constexpr auto required_span_size() const noexcept -> std::size_t {
    std::size_t span = 1;
    for (std::size_t r = 0; r < Extents::rank(); ++r) {
      if (extents_.extent(r) == 0) return 0;
      span += (extents_.extent(r) - 1) * strides_[r];
    }
    return span;
  }
  static constexpr auto is_always_exhaustive() noexcept -> bool { return false; }
  /// Whether no two indices share an offset. Decided by a sufficient test: ordered by stride,
  /// each axis of extent > 1 steps past the whole span of the axes before it (so a stride 0, a
  /// repeat, or interleaved axes that happen to be disjoint count as not unique).
  [[nodiscard]] constexpr auto is_unique() const noexcept -> bool {
    std::array<std::size_t, Extents::rank()> order{};
    std::size_t n = 0;
    for (std::size_t r = 0; r < Extents::rank(); ++r) {
      if (extents_.extent(r) == 0) return true;
      if (extents_.extent(r) > 1) order[n++] = r;
    }
    for (std::size_t i = 1; i < n; ++i)  // insertion sort by stride: ranks are small
      for (std::size_t j = i; j > 0 && strides_[order[j]] < strides_[order[j - 1]]; --j) {
        const std::size_t t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
    std::size_t reach = 0;  // the largest offset of the axes so far
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t r = order[i];
      if (strides_[r] <= reach) return false;
      reach += (extents_.extent(r) - 1) * strides_[r];
    }
    return true;
  }

 private:
  constexpr void check_span() const {
    std::size_t span = 1;
    for (std::size_t r = 0; r < Extents::rank(); ++r) {
      std::size_t step = 0;
      if (extents_.extent(r) == 0) return;
      if (!detail::checked_mul(extents_.extent(r) - 1, strides_[r], step) ||
          span > static_cast<std::size_t>(-1) - step)
        detail::raise(check_result(
            error_kind::invalid_option,
            fmt::format("layout_stride: extents {} with stride {} on axis {} reach past the "
                        "largest std::size_t offset",
                        extents_, strides_[r], r)));
      span += step;
    }
  }

  [[no_unique_address]] Extents extents_{};
  strides_type strides_{};
};

namespace detail {
template <class L>
inline constexpr bool is_layout =
    std::is_same_v<L, layout_right> || std::is_same_v<L, layout_left> ||
    std::is_same_v<L, layout_stride>;
}  // namespace detail

}  // namespace shapeguard
