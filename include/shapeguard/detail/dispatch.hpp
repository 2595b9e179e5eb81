#pragma once
// Chooses the kernel that solves a rows_problem: the fused kernel of the active instruction set
// (isa.hpp), or the scalar reference; class-index rows and per-class target rows apart, so that
// a call compiles only the kernels its labels need.

#include <cstddef>

#include "../isa.hpp"
#include "kernel_instances.hpp"
#include "rows.hpp"
#include "scalar_kernel.hpp"
#include "simd_kernels.hpp"

namespace shapeguard::detail {

template <class T, class U = T>
using rows_kernel_fn = double (*)(const rows_problem<T, U>&);

/// The class-index kernel of set `a`, or null when this build does not carry `a` (neon on
/// x86-64, avx2 on AArch64). Whether the CPU can run it is the caller's business: see
/// is_supported.
template <class T>
auto index_kernel_for(isa a) noexcept -> rows_kernel_fn<T> {
  switch (a) {
    case isa::scalar: return &scalar_rows<T, T>;
#if SHAPEGUARD_SIMD_X86
    case isa::avx2: return &avx2_kernel::index_rows<T>;
    case isa::avx512: return &avx512_kernel::index_rows<T>;
#endif
#if SHAPEGUARD_SIMD_NEON
    case isa::neon: return &neon_kernel::index_rows<T>;
#endif
    default: return nullptr;
  }
}

/// The kernel of set `a` for per-class targets of type U, or null like index_kernel_for.
template <class T, class U>
auto dense_kernel_for(isa a) noexcept -> rows_kernel_fn<T, U> {
  switch (a) {
    case isa::scalar: return &scalar_rows<T, U>;
#if SHAPEGUARD_SIMD_X86
    case isa::avx2: return &avx2_kernel::dense_rows<T, U>;
    case isa::avx512: return &avx512_kernel::dense_rows<T, U>;
#endif
#if SHAPEGUARD_SIMD_NEON
    case isa::neon: return &neon_kernel::dense_rows<T, U>;
#endif
    default: return nullptr;
  }
}

template <class T, class U = T>
using sigmoid_kernel_fn = double (*)(const sigmoid_problem<T, U>&);

/// The sigmoid kernel of set `a` for targets of type U, or null like index_kernel_for.
template <class T, class U>
auto sigmoid_kernel_for(isa a) noexcept -> sigmoid_kernel_fn<T, U> {
  switch (a) {
    case isa::scalar: return &scalar_sigmoid<T, U>;
#if SHAPEGUARD_SIMD_X86
    case isa::avx2: return &avx2_kernel::sigmoid_rows<T, U>;
    case isa::avx512: return &avx512_kernel::sigmoid_rows<T, U>;
#endif
#if SHAPEGUARD_SIMD_NEON
    case isa::neon: return &neon_kernel::sigmoid_rows<T, U>;
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

/// The vector log1p over [0, 1] of set `a` (for tests), or null like exp_array_for.
template <class T>
auto log1p_unit_array_for(isa a) noexcept -> exp_array_fn<T> {
  switch (a) {
#if SHAPEGUARD_SIMD_X86
    case isa::avx2: return &avx2_kernel::log1p_unit_array<T>;
    case isa::avx512: return &avx512_kernel::log1p_unit_array<T>;
#endif
#if SHAPEGUARD_SIMD_NEON
    case isa::neon: return &neon_kernel::log1p_unit_array<T>;
#endif
    default: return nullptr;
  }
}

template <class T>
using soft_cap_array_fn = void (*)(const T*, T*, T*, std::size_t, double);

/// The soft-capping of set `a` over an array (for tests): y = s tanh(x / s) and, with d,
/// 1 - tanh^2(x / s); or null like exp_array_for.
template <class T>
auto soft_cap_array_for(isa a) noexcept -> soft_cap_array_fn<T> {
  switch (a) {
#if SHAPEGUARD_SIMD_X86
    case isa::avx2: return &avx2_kernel::soft_cap_array<T, T>;
    case isa::avx512: return &avx512_kernel::soft_cap_array<T, T>;
#endif
#if SHAPEGUARD_SIMD_NEON
    case isa::neon: return &neon_kernel::soft_cap_array<T, T>;
#endif
    default: return nullptr;
  }
}

template <class H>
using round16_array_fn = void (*)(const float*, H*, float*, std::size_t);

/// The 16-bit conversions of set `a` over an array (for tests), or null like exp_array_for.
template <class H>
auto round16_array_for(isa a) noexcept -> round16_array_fn<H> {
  switch (a) {
#if SHAPEGUARD_SIMD_X86
    case isa::avx2: return &avx2_kernel::round16_array<H>;
    case isa::avx512: return &avx512_kernel::round16_array<H>;
#endif
#if SHAPEGUARD_SIMD_NEON
    case isa::neon: return &neon_kernel::round16_array<H>;
#endif
    default: return nullptr;
  }
}

/// The float vector log of set `a` over an array (for tests), or null like exp_array_for.
inline auto log_array_for(isa a) noexcept -> exp_array_fn<float> {
  switch (a) {
#if SHAPEGUARD_SIMD_X86
    case isa::avx2: return &avx2_kernel::log_array<float>;
    case isa::avx512: return &avx512_kernel::log_array<float>;
#endif
#if SHAPEGUARD_SIMD_NEON
    case isa::neon: return &neon_kernel::log_array<float>;
#endif
    default: return nullptr;
  }
}

/// The kernel of set `a` for float class-index rows in columns (rows.hpp: class_stride), or
/// null when the set has none (scalar, neon) or `classes` exceeds its column_classes.
inline auto column_kernel_for(isa a, std::size_t classes) noexcept -> rows_kernel_fn<float> {
  switch (a) {
#if SHAPEGUARD_SIMD_X86
    case isa::avx2:
      return classes <= avx2_kernel::column_classes ? &avx2_kernel::index_columns<float>
                                                    : nullptr;
    case isa::avx512:
      return classes <= avx512_kernel::column_classes ? &avx512_kernel::index_columns<float>
                                                      : nullptr;
#endif
    default: (void)classes; return nullptr;
  }
}

template <class T>
using slice_stats_fn = void (*)(const slice_problem<T>&);
template <class T>
using slice_finish_fn = void (*)(const slice_problem<T>&);

/// The two phases of the vocabulary-parallel loss (slices.hpp) on set `a`, or nulls like
/// index_kernel_for.
template <class T>
struct slice_phases {
  slice_stats_fn<T> stats = nullptr;
  slice_finish_fn<T> finish = nullptr;
};
template <class T>
auto slice_phases_for(isa a) noexcept -> slice_phases<T> {
  switch (a) {
    case isa::scalar: return {&scalar_slice_stats<T>, &scalar_slice_finish<T>};
#if SHAPEGUARD_SIMD_X86
    case isa::avx2:
      return {&avx2_kernel::slice_stats_phase<T>, &avx2_kernel::slice_finish_phase<T>};
    case isa::avx512:
      return {&avx512_kernel::slice_stats_phase<T>, &avx512_kernel::slice_finish_phase<T>};
#endif
#if SHAPEGUARD_SIMD_NEON
    case isa::neon:
      return {&neon_kernel::slice_stats_phase<T>, &neon_kernel::slice_finish_phase<T>};
#endif
    default: return {};
  }
}

/// The kernels of the active set.
template <class T>
auto index_kernel() -> rows_kernel_fn<T> {
  return index_kernel_for<T>(active_isa());
}
template <class T, class U>
auto dense_kernel() -> rows_kernel_fn<T, U> {
  return dense_kernel_for<T, U>(active_isa());
}
template <class T, class U>
auto sigmoid_kernel() -> sigmoid_kernel_fn<T, U> {
  return sigmoid_kernel_for<T, U>(active_isa());
}
inline auto column_kernel(std::size_t classes) -> rows_kernel_fn<float> {
  return column_kernel_for(active_isa(), classes);
}
template <class T>
auto slice_phases_active() -> slice_phases<T> {
  return slice_phases_for<T>(active_isa());
}

}  // namespace shapeguard::detail
