#pragma once
/// Eigen's 16-bit scalars as shapeguard storage (storage.hpp): a buffer of `Eigen::bfloat16`
/// or `Eigen::half` (Eigen 3.4) is read and written in place as `sg::bfloat16` / `sg::float16`,
/// whose bit layout it has. Optional: include it after <Eigen/Core>; the core library does not
/// depend on Eigen.

#include <Eigen/Core>

#include "storage.hpp"

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
