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

// X(T) for every logit type, X(T, U) for every (logit type, per-class target type) pair of
// float and double, which both losses solve (sigmoid targets of an integer type are solved as
// float), and the pairs of 16-bit logits (storage.hpp) with targets of their own type or float,
// which the softmax loss solves. Other pairs that pair_traits (compatible.hpp) accepts, such as
// float logits with 16-bit targets, are compiled where they are called. Class-index kernels
// (also one-hot rows, solved by their hot column) do not depend on the label type.
#define SHAPEGUARD_DETAIL_LOGIT_TYPES(X) \
  X(float)                               \
  X(double)                              \
  X(::shapeguard::bfloat16)              \
  X(::shapeguard::float16)
#define SHAPEGUARD_DETAIL_KERNEL_TYPES(X) \
  X(float, float)                         \
  X(float, double)                        \
  X(double, float)                        \
  X(double, double)
#define SHAPEGUARD_DETAIL_SOFTMAX16_TYPES(X)                \
  X(::shapeguard::bfloat16, ::shapeguard::bfloat16)         \
  X(::shapeguard::bfloat16, float)                          \
  X(::shapeguard::float16, ::shapeguard::float16)           \
  X(::shapeguard::float16, float)

// The kernels applied, with `extern` or without (EXT), to every set this build carries.
#define SHAPEGUARD_DETAIL_SCALAR_INSTANCE(EXT, T, U)                                        \
  EXT template auto shapeguard::detail::scalar_rows<T, U>(const rows_problem<T, U>&)->double; \
  EXT template auto shapeguard::detail::scalar_sigmoid<T, U>(const sigmoid_problem<T, U>&)->double;
#define SHAPEGUARD_DETAIL_DENSE_INSTANCE(EXT, NS, T, U)                                        \
  EXT template auto shapeguard::detail::NS::dense_rows<T, U>(const rows_problem<T, U>&)->double; \
  EXT template auto shapeguard::detail::NS::sigmoid_rows<T, U>(const sigmoid_problem<T, U>&)->double;
#define SHAPEGUARD_DETAIL_SCALAR_ROWS_INSTANCE(EXT, T, U) \
  EXT template auto shapeguard::detail::scalar_rows<T, U>(const rows_problem<T, U>&)->double;
#define SHAPEGUARD_DETAIL_DENSE_ROWS_INSTANCE(EXT, NS, T, U) \
  EXT template auto shapeguard::detail::NS::dense_rows<T, U>(const rows_problem<T, U>&)->double;
#define SHAPEGUARD_DETAIL_INDEX_INSTANCE(EXT, NS, T) \
  EXT template auto shapeguard::detail::NS::index_rows<T>(const rows_problem<T>&)->double;

#if SHAPEGUARD_SIMD_X86
#define SHAPEGUARD_DETAIL_SIMD_INSTANCES(EXT, T, U)          \
  SHAPEGUARD_DETAIL_DENSE_INSTANCE(EXT, avx2_kernel, T, U)   \
  SHAPEGUARD_DETAIL_DENSE_INSTANCE(EXT, avx512_kernel, T, U)
#define SHAPEGUARD_DETAIL_SIMD_ROWS_INSTANCES(EXT, T, U)          \
  SHAPEGUARD_DETAIL_DENSE_ROWS_INSTANCE(EXT, avx2_kernel, T, U)   \
  SHAPEGUARD_DETAIL_DENSE_ROWS_INSTANCE(EXT, avx512_kernel, T, U)
#define SHAPEGUARD_DETAIL_SIMD_INDEX_INSTANCES(EXT, T)   \
  SHAPEGUARD_DETAIL_INDEX_INSTANCE(EXT, avx2_kernel, T) \
  SHAPEGUARD_DETAIL_INDEX_INSTANCE(EXT, avx512_kernel, T)
#define SHAPEGUARD_DETAIL_COLUMNS_INSTANCES(EXT)                                            \
  EXT template auto shapeguard::detail::avx2_kernel::index_columns<float>(                   \
      const rows_problem<float>&)                                                             \
      ->double;                                                                               \
  EXT template auto shapeguard::detail::avx512_kernel::index_columns<float>(                 \
      const rows_problem<float>&)                                                             \
      ->double;
#elif SHAPEGUARD_SIMD_NEON
#define SHAPEGUARD_DETAIL_COLUMNS_INSTANCES(EXT)
#define SHAPEGUARD_DETAIL_SIMD_INSTANCES(EXT, T, U) \
  SHAPEGUARD_DETAIL_DENSE_INSTANCE(EXT, neon_kernel, T, U)
#define SHAPEGUARD_DETAIL_SIMD_ROWS_INSTANCES(EXT, T, U) \
  SHAPEGUARD_DETAIL_DENSE_ROWS_INSTANCE(EXT, neon_kernel, T, U)
#define SHAPEGUARD_DETAIL_SIMD_INDEX_INSTANCES(EXT, T) \
  SHAPEGUARD_DETAIL_INDEX_INSTANCE(EXT, neon_kernel, T)
#else
#define SHAPEGUARD_DETAIL_COLUMNS_INSTANCES(EXT)
#define SHAPEGUARD_DETAIL_SIMD_INSTANCES(EXT, T, U)
#define SHAPEGUARD_DETAIL_SIMD_ROWS_INSTANCES(EXT, T, U)
#define SHAPEGUARD_DETAIL_SIMD_INDEX_INSTANCES(EXT, T)
#endif

#define SHAPEGUARD_DETAIL_EXTERN_INSTANCE(T, U)   \
  SHAPEGUARD_DETAIL_SCALAR_INSTANCE(extern, T, U) \
  SHAPEGUARD_DETAIL_SIMD_INSTANCES(extern, T, U)
#define SHAPEGUARD_DETAIL_DEFINE_INSTANCE(T, U) \
  SHAPEGUARD_DETAIL_SCALAR_INSTANCE(, T, U)     \
  SHAPEGUARD_DETAIL_SIMD_INSTANCES(, T, U)
#define SHAPEGUARD_DETAIL_EXTERN_SOFTMAX_INSTANCE(T, U)     \
  SHAPEGUARD_DETAIL_SCALAR_ROWS_INSTANCE(extern, T, U) \
  SHAPEGUARD_DETAIL_SIMD_ROWS_INSTANCES(extern, T, U)
#define SHAPEGUARD_DETAIL_DEFINE_SOFTMAX_INSTANCE(T, U) \
  SHAPEGUARD_DETAIL_SCALAR_ROWS_INSTANCE(, T, U)   \
  SHAPEGUARD_DETAIL_SIMD_ROWS_INSTANCES(, T, U)
#define SHAPEGUARD_DETAIL_EXTERN_INDEX_INSTANCE(T) SHAPEGUARD_DETAIL_SIMD_INDEX_INSTANCES(extern, T)
#define SHAPEGUARD_DETAIL_DEFINE_INDEX_INSTANCE(T) SHAPEGUARD_DETAIL_SIMD_INDEX_INSTANCES(, T)

#if defined(SHAPEGUARD_EXTERN_KERNELS)
SHAPEGUARD_DETAIL_KERNEL_TYPES(SHAPEGUARD_DETAIL_EXTERN_INSTANCE)
SHAPEGUARD_DETAIL_SOFTMAX16_TYPES(SHAPEGUARD_DETAIL_EXTERN_SOFTMAX_INSTANCE)
SHAPEGUARD_DETAIL_LOGIT_TYPES(SHAPEGUARD_DETAIL_EXTERN_INDEX_INSTANCE)
SHAPEGUARD_DETAIL_COLUMNS_INSTANCES(extern)
#endif
