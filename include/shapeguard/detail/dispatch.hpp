#pragma once
// Chooses the kernel that solves a rows_problem: the fused kernel of the active instruction set
// (isa.hpp), or the scalar reference.

#include <cstddef>

#include "../isa.hpp"
#include "kernel_instances.hpp"
#include "rows.hpp"
#include "scalar_kernel.hpp"
#include "simd_kernels.hpp"

namespace shapeguard::detail {

template <class T, class U>
using rows_kernel_fn = double (*)(const rows_problem<T, U>&);

/// The kernel of set `a`, or null when this build does not carry `a` (neon on x86-64, avx2 on
/// AArch64). Whether the CPU can run it is the caller's business: see is_supported.
template <class T, class U>
auto rows_kernel_for(isa a) noexcept -> rows_kernel_fn<T, U> {
  switch (a) {
    case isa::scalar: return &scalar_rows<T, U>;
#if SHAPEGUARD_SIMD_X86
    case isa::avx2: return &avx2_kernel::fused_rows<T, U>;
    case isa::avx512: return &avx512_kernel::fused_rows<T, U>;
#endif
#if SHAPEGUARD_SIMD_NEON
    case isa::neon: return &neon_kernel::fused_rows<T, U>;
#endif
    default: return nullptr;
  }
}

template <class T>
using exp_array_fn = void (*)(const T*, T*, std::size_t);

/// The vector exp of set `a` over an array (for tests), or null for scalar and for sets this
/// build does not carry.
template <class T>
auto exp_array_for(isa a) noexcept -> exp_array_fn<T> {
  switch (a) {
#if SHAPEGUARD_SIMD_X86
    case isa::avx2: return &avx2_kernel::exp_array<T>;
    case isa::avx512: return &avx512_kernel::exp_array<T>;
#endif
#if SHAPEGUARD_SIMD_NEON
    case isa::neon: return &neon_kernel::exp_array<T>;
#endif
    default: return nullptr;
  }
}

/// The float vector log of set `a` over an array (for tests), or null where the tile kernel,
/// its only user, does not run (scalar, NEON, sets this build does not carry).
inline auto log_array_for(isa a) noexcept -> exp_array_fn<float> {
  switch (a) {
#if SHAPEGUARD_SIMD_X86
    case isa::avx2: return &avx2_kernel::log_array<float>;
    case isa::avx512: return &avx512_kernel::log_array<float>;
#endif
    default: return nullptr;
  }
}

template <class T, class U>
auto rows_kernel() -> rows_kernel_fn<T, U> {
  return rows_kernel_for<T, U>(active_isa());
}

}  // namespace shapeguard::detail
