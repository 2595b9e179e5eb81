#pragma once
/// Instruction sets of the fused softmax cross-entropy kernel, and which one runs.
///
/// One binary carries every set its target architecture has (x86-64: AVX2+FMA and AVX-512;
/// AArch64: NEON) beside the scalar reference, each compiled with per-function target
/// attributes, so no -m flag is needed. On first use the best set the CPU supports is chosen,
/// unless the environment variable `SHAPEGUARD_FORCE_ISA` names one (`scalar`, `avx2`,
/// `avx512`, `neon`). A forced set that this CPU or build cannot run, or a name that is none of
/// these, does not fail: the best supported set is used and one line on stderr says so.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string_view>

#include "detail/simd/target.hpp"

namespace shapeguard {

/// An instruction set of the fused kernel.
enum class isa {
  scalar,  ///< the reference: plain loops in double
  avx2,    ///< x86-64 AVX2 with FMA and F16C
  avx512,  ///< x86-64 AVX-512 (F, DQ, VL, BW)
  neon,    ///< AArch64 Advanced SIMD
};

/// The name `SHAPEGUARD_FORCE_ISA` accepts for `a`.
constexpr auto to_string(isa a) noexcept -> std::string_view {
  switch (a) {
    case isa::scalar: return "scalar";
    case isa::avx2: return "avx2";
    case isa::avx512: return "avx512";
    case isa::neon: return "neon";
  }
  return "invalid";
}

#if SHAPEGUARD_SIMD_X86
namespace detail {
/// F16C (half-precision conversions): CPUID leaf 1, ECX bit 29. Every CPU with AVX2 so far has
/// it; the check keeps a virtual machine that hides it on the scalar path.
inline auto cpu_has_f16c() noexcept -> bool {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29)) != 0;
}
}  // namespace detail
#endif

/// Whether this build carries `a` and this CPU can run it.
inline auto is_supported(isa a) noexcept -> bool {
  switch (a) {
    case isa::scalar: return true;
#if SHAPEGUARD_SIMD_X86
    case isa::avx2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             detail::cpu_has_f16c();
    case isa::avx512:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             detail::cpu_has_f16c();
#endif
#if SHAPEGUARD_SIMD_NEON
    case isa::neon: return true;  // Advanced SIMD is part of every AArch64 CPU
#endif
    default: return false;
  }
}

namespace detail {

inline constexpr std::array<isa, 4> all_isas = {isa::scalar, isa::avx2, isa::avx512, isa::neon};

inline auto isa_from_name(std::string_view name) noexcept -> std::optional<isa> {
  for (isa a : all_isas)
    if (to_string(a) == name) return a;
  return std::nullopt;
}

/// The sets is_supported says yes to, in all_isas order (so the best one is last).
struct isa_list {
  std::array<isa, 4> items{};
  std::size_t size = 0;
};

inline auto supported_list() -> const isa_list& {
  static const isa_list list = [] {
    isa_list l;
    for (isa a : all_isas)
      if (is_supported(a)) l.items[l.size++] = a;
    return l;
  }();
  return list;
}

/// What SHAPEGUARD_FORCE_ISA = `forced` (null or empty: unset) selects among `supported` (in
/// all_isas order, the best last): the forced set when it is supported, else the best one;
/// `refused` says why a forced value was not taken (null when it was, or when none was given).
struct isa_choice {
  isa chosen;
  const char* refused = nullptr;
};

inline auto choose_isa(const char* forced, std::span<const isa> supported) -> isa_choice {
  const isa best = supported.back();
  if (forced == nullptr || *forced == '\0') return {best};
  const auto wanted = isa_from_name(forced);
  if (!wanted) return {best, "is not one of scalar, avx2, avx512, neon"};
  for (isa a : supported)
    if (a == *wanted) return {a};
  return {best, "cannot run on this CPU or build"};
}

inline auto initial_isa() -> isa {
  const auto& l = supported_list();
  const char* forced = std::getenv("SHAPEGUARD_FORCE_ISA");
  const isa_choice c = choose_isa(forced, {l.items.data(), l.size});
  if (c.refused)
    std::fprintf(stderr, "shapeguard: SHAPEGUARD_FORCE_ISA=%s %s; using %s\n", forced, c.refused,
                 to_string(c.chosen).data());
  return c.chosen;
}

inline auto active_isa_slot() -> std::atomic<isa>& {
  static std::atomic<isa> slot{initial_isa()};  // thread-safe, once
  return slot;
}

/// Makes `a` the active set (tests and benchmarks compare sets in one process); returns the
/// previous one. `a` must be supported.
inline auto override_isa(isa a) -> isa { return active_isa_slot().exchange(a); }

}  // namespace detail

/// The set the loss runs on: the best supported one, or the one `SHAPEGUARD_FORCE_ISA` forced.
/// Chosen once, on first use.
inline auto active_isa() -> isa {
  return detail::active_isa_slot().load(std::memory_order_relaxed);
}

/// Every set this build and CPU can run, scalar first, the best last.
inline auto supported_isas() -> std::span<const isa> {
  const auto& l = detail::supported_list();
  return {l.items.data(), l.size};
}

}  // namespace shapeguard
