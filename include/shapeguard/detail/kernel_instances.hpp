#pragma once
// The kernel instances a program can compile once (see shapeguard/compile_kernels.hpp).
//
// Every translation unit that calls a loss instantiates the scalar kernel and the fused kernel
// of each instruction set for its (logit, target) types. With SHAPEGUARD_EXTERN_KERNELS defined,
// the headers declare those instances extern instead: units only call them, and the one unit
// that includes compile_kernels.hpp defines them. The kernels are reached through function
// pointers (dispatch.hpp), so nothing is lost to inlining.

#include "scalar_kernel.hpp"
#include "simd_kernels.hpp"

// X(T) for every logit type, X(T, U) for every (logit type, per-class target type) pair a loss
// can solve (sigmoid targets of an integer type are solved as float); both are float or double, which pair_traits (compatible.hpp) requires of logits
// and floating labels. Class-index kernels (also one-hot rows, solved by their hot column) do
// not depend on the label type.
#define SHAPEGUARD_DETAIL_LOGIT_TYPES(X) \
  X(float)                               \
  X(double)
#define SHAPEGUARD_DETAIL_KERNEL_TYPES(X) \
  X(float, float)                         \
  X(float, double)                        \
  X(double, float)                        \
  X(double, double)

// The kernels applied, with `extern` or without (EXT), to every set this build carries.
#define SHAPEGUARD_DETAIL_SCALAR_INSTANCE(EXT, T, U)                                        \
  EXT template auto shapeguard::detail::scalar_rows<T, U>(const rows_problem<T, U>&)->double; \
  EXT template auto shapeguard::detail::scalar_sigmoid<T, U>(const sigmoid_problem<T, U>&)->double;
#define SHAPEGUARD_DETAIL_DENSE_INSTANCE(EXT, NS, T, U)                                        \
  EXT template auto shapeguard::detail::NS::dense_rows<T, U>(const rows_problem<T, U>&)->double; \
  EXT template auto shapeguard::detail::NS::sigmoid_rows<T, U>(const sigmoid_problem<T, U>&)->double;
#define SHAPEGUARD_DETAIL_INDEX_INSTANCE(EXT, NS, T) \
  EXT template auto shapeguard::detail::NS::index_rows<T>(const rows_problem<T>&)->double;

#if SHAPEGUARD_SIMD_X86
#define SHAPEGUARD_DETAIL_SIMD_INSTANCES(EXT, T, U)          \
  SHAPEGUARD_DETAIL_DENSE_INSTANCE(EXT, avx2_kernel, T, U)   \
  SHAPEGUARD_DETAIL_DENSE_INSTANCE(EXT, avx512_kernel, T, U)
#define SHAPEGUARD_DETAIL_SIMD_INDEX_INSTANCES(EXT, T)   \
  SHAPEGUARD_DETAIL_INDEX_INSTANCE(EXT, avx2_kernel, T) \
  SHAPEGUARD_DETAIL_INDEX_INSTANCE(EXT, avx512_kernel, T)
#elif SHAPEGUARD_SIMD_NEON
#define SHAPEGUARD_DETAIL_SIMD_INSTANCES(EXT, T, U) \
  SHAPEGUARD_DETAIL_DENSE_INSTANCE(EXT, neon_kernel, T, U)
#define SHAPEGUARD_DETAIL_SIMD_INDEX_INSTANCES(EXT, T) \
  SHAPEGUARD_DETAIL_INDEX_INSTANCE(EXT, neon_kernel, T)
#else
#define SHAPEGUARD_DETAIL_SIMD_INSTANCES(EXT, T, U)
#define SHAPEGUARD_DETAIL_SIMD_INDEX_INSTANCES(EXT, T)
#endif

#define SHAPEGUARD_DETAIL_EXTERN_INSTANCE(T, U)   \
  SHAPEGUARD_DETAIL_SCALAR_INSTANCE(extern, T, U) \
  SHAPEGUARD_DETAIL_SIMD_INSTANCES(extern, T, U)
#define SHAPEGUARD_DETAIL_DEFINE_INSTANCE(T, U) \
  SHAPEGUARD_DETAIL_SCALAR_INSTANCE(, T, U)     \
  SHAPEGUARD_DETAIL_SIMD_INSTANCES(, T, U)
#define SHAPEGUARD_DETAIL_EXTERN_INDEX_INSTANCE(T) SHAPEGUARD_DETAIL_SIMD_INDEX_INSTANCES(extern, T)
#define SHAPEGUARD_DETAIL_DEFINE_INDEX_INSTANCE(T) SHAPEGUARD_DETAIL_SIMD_INDEX_INSTANCES(, T)

#if defined(SHAPEGUARD_EXTERN_KERNELS)
SHAPEGUARD_DETAIL_KERNEL_TYPES(SHAPEGUARD_DETAIL_EXTERN_INSTANCE)
SHAPEGUARD_DETAIL_LOGIT_TYPES(SHAPEGUARD_DETAIL_EXTERN_INDEX_INSTANCE)
#endif
