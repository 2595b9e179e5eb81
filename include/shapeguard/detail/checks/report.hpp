#pragma once
// How a failed check is reported. Every message is formatted here, in functions that take shapes
// as spans of sizes and values already turned into text: they are not templates, so a program
// compiles the formatting once, whatever view types its calls use.

#include <array>
#include <charconv>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/core.h>

#include "../../errors.hpp"
#include "../../labels.hpp"
#include "../messages.hpp"

namespace shapeguard::detail {

/// A tensor's shape, as its sizes.
using shape = std::span<const std::size_t>;

/// The sizes of a view's extents.
template <class View>
auto sizes_of(const View& v) -> std::array<std::size_t, View::rank()> {
  std::array<std::size_t, View::rank()> out{};
  for (std::size_t r = 0; r < View::rank(); ++r) out[r] = v.extent(r);
  return out;
}

/// `[32, 10]`.
inline auto shape_text(shape s) -> std::string {
  std::string out = "[";
  char digits[24];
  for (std::size_t r = 0; r < s.size(); ++r) {
    if (r != 0) out += ", ";
    const auto end = std::to_chars(digits, digits + sizeof digits, s[r]).ptr;
    out.append(digits, end);
  }
  return out + "]";
}

/// A value as the message shows it: integers of every width (char types as numbers), floats in
/// their shortest exact form.
template <class T>
auto value_text(T v) -> std::string {
  if constexpr (std::is_integral_v<T>) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, +v).ptr;
    return std::string(digits, end);
  } else if constexpr (is_16bit_v<T>) {
    return fmt::format("{}", float(v));  // the value, in float's shortest form
  } else {
    return fmt::format("{}", v);
  }
}

/// `position 4`, or `position 4 (index [1, 1])` for a rank above 1 (row-major).
inline auto position_text(shape s, std::size_t pos) -> std::string {
  std::array<std::size_t, 32> idx{};
  if (s.size() <= 1 || s.size() > idx.size()) return fmt::format("position {}", pos);
  for (std::size_t r = s.size(), rest = pos; r-- > 0;) {
    idx[r] = rest % s[r];  // s[r] > 0: the tensor holds an element at pos
    rest /= s[r];
  }
  return fmt::format("position {} (index {})", pos, shape_text({idx.data(), s.size()}));
}

/// How messages name labels: `labels [15]`, `one-hot labels [8, 5]`.
constexpr auto labels_noun(label_encoding e) noexcept -> std::string_view {
  switch (e) {
    case label_encoding::one_hot: return "one-hot labels";
    case label_encoding::probabilities: return "probability labels";
    default: return "labels";
  }
}

/// The failed result of a check. Its message names what failed; the call's checks put the
/// loss's name in front (titled).
inline auto failure(error_kind kind, std::string message) -> check_result {
  return check_result(kind, std::move(message));
}

/// A call's result, with the loss's name before a failure's message.
inline auto titled(std::string_view op, check_result r) -> check_result {
  if (r) return r;
  std::string message(op);
  message += ": ";
  message += r.message();
  return check_result(r.kind(), std::move(message));
}

}  // namespace shapeguard::detail
