#pragma once
/// libtorch's 16-bit scalars as shapeguard storage (storage.hpp): a buffer of `c10::BFloat16`
/// (`torch::kBFloat16`) or `c10::Half` (`torch::kHalf`) is read and written in place as
/// `sg::bfloat16` / `sg::float16`, whose bit layout it has. Optional: it needs only libtorch's
/// c10 headers; the core library does not depend on libtorch.

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include "storage.hpp"

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
