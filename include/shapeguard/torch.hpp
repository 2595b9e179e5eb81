#pragma once
/// libtorch tensors as shapeguard views (optional: it needs libtorch's headers, and a program
/// that calls from_torch links libtorch; the core library does not depend on it).
///
/// `sg::from_torch<T, Rank>(tensor)` (or `<T, Extents>` with static extents) views a CPU tensor
/// of T's dtype with its sizes and strides, without a copy: contiguous, transposed, sliced,
/// permuted or expanded, every strided tensor is read as it lies. What cannot be viewed is a
/// `shape_error` naming it: an undefined or non-strided (sparse) tensor, a device other than the
/// CPU, a dtype other than T's, another rank (`rank_mismatch`), or sizes that contradict static
/// extents. T is const for inputs (`from_torch<const float, 4>(logits)`) and not for outputs.
///
/// libtorch's 16-bit scalars are shapeguard storage (storage.hpp): `c10::BFloat16`
/// (`torch::kBFloat16`) and `c10::Half` (`torch::kHalf`) are read and written in place as
/// `sg::bfloat16` / `sg::float16`, whose bit layout they have.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include <ATen/core/Tensor.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <fmt/core.h>

#include "errors.hpp"
#include "extents.hpp"
#include "layout.hpp"
#include "storage.hpp"
#include "tensor_view.hpp"

template <>
struct shapeguard::storage_type<c10::BFloat16> {
  using type = shapeguard::bfloat16;
};
template <>
struct shapeguard::storage_type<c10::Half> {
  using type = shapeguard::float16;
};

static_assert(sizeof(c10::BFloat16) == 2 && std::is_trivially_copyable_v<c10::BFloat16>);
static_assert(sizeof(c10::Half) == 2 && std::is_trivially_copyable_v<c10::Half>);

namespace shapeguard {
namespace detail {

/// The dtype whose elements are T.
template <class T>
constexpr auto torch_dtype() -> c10::ScalarType {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, float>) return c10::ScalarType::Float;
  else if constexpr (std::is_same_v<U, double>) return c10::ScalarType::Double;
  else if constexpr (std::is_same_v<U, c10::BFloat16> || std::is_same_v<U, bfloat16>)
    return c10::ScalarType::BFloat16;
  else if constexpr (std::is_same_v<U, c10::Half> || std::is_same_v<U, float16>)
    return c10::ScalarType::Half;
  else if constexpr (std::is_same_v<U, bool>) return c10::ScalarType::Bool;
  else if constexpr (std::is_same_v<U, std::int64_t>) return c10::ScalarType::Long;
  else if constexpr (std::is_same_v<U, std::int32_t>) return c10::ScalarType::Int;
  else if constexpr (std::is_same_v<U, std::int16_t>) return c10::ScalarType::Short;
  else if constexpr (std::is_same_v<U, std::int8_t>) return c10::ScalarType::Char;
  else if constexpr (std::is_same_v<U, std::uint8_t>) return c10::ScalarType::Byte;
  else
    static_assert(sizeof(U) == 0,
                  "sg::from_torch: no torch dtype holds this element type (float, double, "
                  "bfloat16, half, bool, int64, int32, int16, int8, uint8)");
}

inline auto torch_refused(const at::Tensor& t, const std::string& why, const char* hint,
                          error_kind kind = error_kind::invalid_option) -> check_result {
  std::string sizes = "[";
  if (t.defined())
    for (std::int64_t r = 0; r < t.dim(); ++r)
      sizes += (r ? ", " : "") + std::to_string(t.size(r));
  sizes += "]";
  return check_result(kind, fmt::format("sg::from_torch: tensor {} {}; hint: {}", sizes, why, hint));
}

}  // namespace detail

/// A view of a CPU tensor's elements as T, with its sizes and strides (see above).
template <class T, class Extents>
  requires detail::is_extents<Extents>
auto from_torch(const at::Tensor& t) -> tensor_view<T, Extents, layout_stride> {
  constexpr std::size_t R = Extents::rank();
  constexpr c10::ScalarType want = detail::torch_dtype<T>();
  if (!t.defined())
    detail::raise(detail::torch_refused(t, "is undefined", "pass a tensor that holds data"));
  if (t.layout() != c10::kStrided)
    detail::raise(detail::torch_refused(
        t, fmt::format("has layout {}, not strided", c10::toString(t.layout())),
        "pass t.to_dense()"));
  if (!t.device().is_cpu())
    detail::raise(detail::torch_refused(
        t, fmt::format("is on {}; shapeguard reads host memory", t.device().str()),
        "pass t.cpu(), and copy the gradient back"));
  if (t.scalar_type() != want)
    detail::raise(detail::torch_refused(
        t, fmt::format("has dtype {}, not {}", c10::toString(t.scalar_type()), c10::toString(want)),
        "view it with the element type of its dtype, or convert it with t.to(...)"));
  if (t.dim() != std::int64_t(R))
    detail::raise(detail::torch_refused(
        t, fmt::format("has rank {}, not {}", t.dim(), R),
        "view it with its own rank, or reshape it first", error_kind::rank_mismatch));
  std::array<std::size_t, R> sizes{}, strides{};
  for (std::size_t r = 0; r < R; ++r) {
    const auto axis = std::int64_t(r);
    sizes[r] = static_cast<std::size_t>(t.size(axis));
    if (t.stride(axis) < 0)
      detail::raise(detail::torch_refused(t, fmt::format("has stride {} on axis {}",
                                                         t.stride(axis), r),
                                          "pass a tensor with strides >= 0"));
    strides[r] = static_cast<std::size_t>(t.stride(axis));
  }
  const Extents e = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return Extents(shapeguard::extents<((void)I, dyn)...>(sizes[I]...));
  }(std::make_index_sequence<R>{});
  return tensor_view<T, Extents, layout_stride>(static_cast<T*>(t.data_ptr()), e, strides);
}

/// A tensor passed where a view is: its element type and rank are known only at run time, so
/// the call does not compile, and says what to write instead.
template <>
struct view_adapter<at::Tensor> {
  template <class Tensor>
  static auto view(Tensor&) {
    static_assert(sizeof(Tensor) == 0,
                  "shapeguard: a torch::Tensor's dtype and rank are known only at run time: "
                  "view it with sg::from_torch<const float, 2>(t) (inputs) or "
                  "sg::from_torch<float, 2>(t) (outputs), with its element type and rank");
    return tensor_view<const float, dims<1>>();
  }
};

/// The same with every extent dynamic.
template <class T, std::size_t Rank>
auto from_torch(const at::Tensor& t) -> tensor_view<T, dims<Rank>, layout_stride> {
  return from_torch<T, dims<Rank>>(t);
}

}  // namespace shapeguard
