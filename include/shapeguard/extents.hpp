#pragma once
/// Shapes: `extents<E...>`, one entry per axis, each a number (static) or `dyn` (known at run
/// time). Same vocabulary as `std::extents`, plus fmt formatting as `[32, 10]`.

#include <array>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include <fmt/core.h>

#include "errors.hpp"

namespace shapeguard {

/// A run-time extent.
inline constexpr std::size_t dyn = std::dynamic_extent;

namespace detail {
/// Extents compatible when equal or either is dynamic (mdspan's rule).
constexpr auto extents_agree(std::size_t a, std::size_t b) noexcept -> bool {
  return a == dyn || b == dyn || a == b;
}

/// Storage for fully static extents: empty, so views of static shapes are one pointer.
struct no_dynamic_extents {
  constexpr auto operator[](std::size_t) const noexcept -> std::size_t { return 0; }
  constexpr auto operator[](std::size_t) noexcept -> std::size_t& { return sink_; }
  static inline std::size_t sink_ = 0;
};

/// `a * b`, or false when it overflows `std::size_t`.
constexpr auto checked_mul(std::size_t a, std::size_t b, std::size_t& out) noexcept -> bool {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return false;
  out = a * b;
  return true;
}

template <class J>
constexpr auto to_extent(J given, std::size_t axis) -> std::size_t {
  // as a standard integer type (std::cmp_* refuse char, bool and the charN_t types)
  using I = std::conditional_t<std::is_signed_v<J>, long long, unsigned long long>;
  const I value = static_cast<I>(given);
  if constexpr (std::is_signed_v<I>) {
    if (value < 0)
      raise(check_result(error_kind::invalid_option,
                         fmt::format("extents: extent {} of axis {} is negative; an extent "
                                     "counts elements and must be >= 0",
                                     value, axis)));
  }
  if (std::cmp_greater(value, std::numeric_limits<std::size_t>::max() - 1))
    raise(check_result(error_kind::invalid_option,
                       fmt::format("extents: extent {} of axis {} does not fit std::size_t",
                                   value, axis)));
  return static_cast<std::size_t>(value);
}

/// A static extent contradicted by a run-time one: `found` says where the run-time one came
/// from and its value ("the source has 32", "32 was given").
inline auto static_extent_contradicted(std::size_t axis, std::size_t fixed,
                                       const std::string& found) -> check_result {
  return check_result(
      error_kind::extent_mismatch,
      axis == 0
          ? fmt::format("extents: axis 0 is static {0} but {1}; hint: the type fixes {0} rows "
                        "on axis 0: use sg::dyn for a batch that varies (the last batch of an "
                        "epoch), or pass {0}",
                        fixed, found)
          : fmt::format("extents: axis {0} is static {1} but {2}; hint: the type fixes {1} on "
                        "axis {0}: use sg::dyn there for an extent that varies, or pass {1}",
                        axis, fixed, found));
}
}  // namespace detail

/// One entry per axis; stores only the dynamic ones.
template <std::size_t... E>
class extents {
  static constexpr std::array<std::size_t, sizeof...(E)> statics_{E...};

 public:
  using size_type = std::size_t;
  using rank_type = std::size_t;

  static constexpr auto rank() noexcept -> rank_type { return sizeof...(E); }
  static constexpr auto rank_dynamic() noexcept -> rank_type {
    return (std::size_t{E == dyn} + ... + 0);
  }
  static constexpr auto static_extent(rank_type r) noexcept -> std::size_t {
    return statics_[r];
  }

  /// Every dynamic extent 0.
  constexpr extents() noexcept = default;

  /// From the dynamic extents in axis order, or from every extent (static ones must match,
  /// else `extent_mismatch`).
  template <std::integral... I>
    requires(sizeof...(I) == rank_dynamic() ||
             (sizeof...(I) == rank() && rank() != rank_dynamic()))
  constexpr explicit extents(I... values) {
    std::array<std::size_t, sizeof...(I)> given{};
    std::size_t k = 0;
    ((given[k] = detail::to_extent(values, k), ++k), ...);
    if constexpr (sizeof...(I) == rank_dynamic()) {
      dynamic_ = given;
    } else {
      for (std::size_t r = 0, d = 0; r < rank(); ++r) {
        if (statics_[r] == dyn) {
          dynamic_[d++] = given[r];
        } else if (given[r] != statics_[r]) {
          detail::raise(detail::static_extent_contradicted(
              r, statics_[r], fmt::format("{} was given", given[r])));
        }
      }
    }
    check_size();
  }

  /// From other extents of the same rank: implicit when this is no more static than `other`,
  /// explicit (and checked at run time: `extent_mismatch`) otherwise.
  template <std::size_t... F>
    requires(sizeof...(F) == sizeof...(E) && (detail::extents_agree(E, F) && ...))
  constexpr explicit(((E != dyn && F == dyn) || ...)) extents(const extents<F...>& other) {
    for (std::size_t r = 0, d = 0; r < rank(); ++r) {
      if (statics_[r] == dyn) {
        dynamic_[d++] = other.extent(r);
      } else if (other.extent(r) != statics_[r]) {
        detail::raise(detail::static_extent_contradicted(
            r, statics_[r], fmt::format("the source has {}", other.extent(r))));
      }
    }
  }

  [[nodiscard]] constexpr auto extent(rank_type r) const noexcept -> std::size_t {
    if (statics_[r] != dyn) return statics_[r];
    std::size_t d = 0;
    for (std::size_t i = 0; i < r; ++i) d += statics_[i] == dyn ? std::size_t{1} : std::size_t{0};
    return dynamic_[d];
  }

  /// The number of elements (the product of all extents; 1 for rank 0).
  [[nodiscard]] constexpr auto size() const noexcept -> std::size_t {
    std::size_t n = 1;
    for (std::size_t r = 0; r < rank(); ++r) n *= extent(r);
    return n;
  }

  template <std::size_t... F>
  friend constexpr auto operator==(const extents& a, const extents<F...>& b) noexcept -> bool {
    if constexpr (sizeof...(F) != sizeof...(E)) {
      return false;
    } else {
      for (std::size_t r = 0; r < rank(); ++r)
        if (a.extent(r) != b.extent(r)) return false;
      return true;
    }
  }

 private:
  constexpr void check_size() const {
    std::size_t n = 1;
    for (std::size_t r = 0; r < rank(); ++r) {
      if (!detail::checked_mul(n, extent(r), n))
        detail::raise(check_result(
            error_kind::invalid_option,
            fmt::format("extents: the element count of {} overflows std::size_t", *this)));
    }
  }

  using storage = std::conditional_t<rank_dynamic() == 0, detail::no_dynamic_extents,
                                     std::array<std::size_t, rank_dynamic()>>;
  [[no_unique_address]] storage dynamic_{};
};

namespace detail {
template <std::size_t... I>
auto all_dynamic(std::index_sequence<I...>) -> extents<((void)I, dyn)...>;
}  // namespace detail

/// `extents` with every axis dynamic.
template <std::size_t Rank>
using dims = decltype(detail::all_dynamic(std::make_index_sequence<Rank>{}));

namespace detail {
template <class T>
inline constexpr bool is_extents = false;
template <std::size_t... E>
inline constexpr bool is_extents<extents<E...>> = true;
}  // namespace detail

}  // namespace shapeguard

/// Formats as `[32, 10]`, with the run-time values of dynamic axes. The digits are written
/// directly, so that formatting extents needs none of fmt's formatting engine in the program.
template <std::size_t... E>
struct fmt::formatter<shapeguard::extents<E...>> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <class Ctx>
  auto format(const shapeguard::extents<E...>& e, Ctx& ctx) const {
    auto out = ctx.out();
    *out++ = '[';
    char digits[24];
    for (std::size_t r = 0; r < e.rank(); ++r) {
      if (r != 0) {
        *out++ = ',';
        *out++ = ' ';
      }
      const char* end = std::to_chars(digits, digits + sizeof digits, e.extent(r)).ptr;
      for (const char* d = digits; d != end; ++d) *out++ = *d;
    }
    *out++ = ']';
    return out;
  }
};
