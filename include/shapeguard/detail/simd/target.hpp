#pragma once
// Which vector layers this build compiles, and the function attributes that enable each
// instruction set for one function at a time. Nothing here needs a -m flag: a binary built with
// plain -O2 carries every layer and the dispatcher runs the best one the CPU has.

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHAPEGUARD_SIMD_X86 1
#include <cpuid.h>
#include <immintrin.h>
// Each instruction set is requested with the sets it builds on, so that every intrinsic of the
// layer is usable inside the function whatever flags the including program was built with.
#define SHAPEGUARD_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define SHAPEGUARD_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,f16c")))
#else
#define SHAPEGUARD_SIMD_X86 0
#endif

#if defined(__aarch64__) && defined(__ARM_NEON)
#define SHAPEGUARD_SIMD_NEON 1
#include <arm_neon.h>
#else
#define SHAPEGUARD_SIMD_NEON 0
#endif

// Vector-layer operations are always inlined: a call per vector would cost more than the work.
#define SHAPEGUARD_SIMD_INLINE inline __attribute__((always_inline))

// Loops over arrays of registers (tiles, transposes) are unrolled so that the arrays stay in
// registers. Under AddressSanitizer they stay loops: unrolled, with a check at every access,
// they made functions so large that clang 14 spent minutes on each kernel (188 s instead of 19 s
// for one set's float kernels); the loops compute the same values either way.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SHAPEGUARD_DETAIL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(SHAPEGUARD_DETAIL_ASAN)
#define SHAPEGUARD_UNROLL(n)
#else
#define SHAPEGUARD_DETAIL_PRAGMA(x) _Pragma(#x)
#define SHAPEGUARD_UNROLL(n) SHAPEGUARD_DETAIL_PRAGMA(GCC unroll n)
#endif
