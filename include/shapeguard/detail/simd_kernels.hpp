#pragma once
// The fused SIMD kernels: simd/kernel.inl compiled once per instruction set this build can
// carry, each in its own namespace (avx2_kernel, avx512_kernel, neon_kernel) with the matching
// vector layer and function attribute.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "row_stats.hpp"
#include "rows.hpp"
#include "scalar_kernel.hpp"
#include "slices.hpp"
#include "targets.hpp"
#include "simd/avx2.hpp"
#include "simd/avx512.hpp"
#include "simd/neon.hpp"

namespace shapeguard::detail::simd {

/// A row's sums in double (row_stats.hpp).
using row_sums = detail::row_sums;

// Float lanes sum at most this many elements before their sums go into double: each lane then
// adds at most fold_elems / width terms, which keeps the relative error of a row's sums near
// 1e-7 however long the row.
inline constexpr std::size_t fold_elems = 1024;
// Rows whose logits take at most this many bytes keep their exp values in the gradient until
// the scaling pass (the row's gradient stays in L2 between the two); longer rows use the online
// sums and recompute exp for the gradient, so no pass reads back a gradient that left the cache.
inline constexpr std::size_t cached_row_bytes = 1024 * 1024;
// Block of the row loops: read twice (max, then exp), the second time from L1.
inline constexpr std::size_t block_bytes = 16 * 1024;

// Soft-capping caps the logits of groups of rows of at most this many elements (or one row)
// into a scratch, with their derivatives: the two stay in L1 for the capped kernel and the
// chain rule.
inline constexpr std::size_t soft_cap_elems = 4096;

// Rows of at most one register are solved this many at a time, interleaved.
inline constexpr std::size_t short_group = 4;

/// Row losses waiting for their log: A * log(s) + gap (+ z (m + log s)^2 with the z-loss) is
/// evaluated a batch at a time, away from the vector code (a call to log inside it would spill
/// every register, row after row), and added to the total in row order.
template <class T>
class loss_batch {
 public:
  loss_batch(T* losses, double z_loss) noexcept : losses_(losses), z_(z_loss) {}
  void push(std::size_t row, double s, double a, double gap, double m) {
    if (n_ == size) drain();
    row_[n_] = row;
    s_[n_] = s;
    a_[n_] = a;
    gap_[n_] = gap;
    m_[n_++] = m;
  }
  auto finish() -> double {
    drain();
    return total_;
  }

 private:
  static constexpr std::size_t size = 64;
  [[gnu::noinline]] void drain() {
    for (std::size_t k = 0; k < n_; ++k) {
      const double log_s = std::log(s_[k]);
      double loss = a_[k] * log_s + gap_[k];
      if (z_ != 0) loss += z_ * (m_[k] + log_s) * (m_[k] + log_s);
      if (losses_) losses_[row_[k]] = T(loss);
      total_ += loss;
    }
    n_ = 0;
  }
  T* losses_;
  double z_;
  std::size_t n_ = 0;
  double total_ = 0;
  std::size_t row_[size];
  double s_[size], a_[size], gap_[size], m_[size];
};

}  // namespace shapeguard::detail::simd

#if SHAPEGUARD_SIMD_X86
// GCC 12's AVX-512 headers start many intrinsics from `__m512 y = y;` (_mm512_undefined_ps),
// which its -W(maybe-)uninitialized then reports at every inlined use (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
namespace shapeguard::detail::avx2_kernel {
using vf = simd::avx2_f32;
using vd = simd::avx2_f64;
#define SHAPEGUARD_SIMD_TARGET SHAPEGUARD_TARGET_AVX2
#define SHAPEGUARD_SIMD_TILES 1
#include "simd/kernel.inl"
#undef SHAPEGUARD_SIMD_TILES
#undef SHAPEGUARD_SIMD_TARGET
}  // namespace shapeguard::detail::avx2_kernel

namespace shapeguard::detail::avx512_kernel {
using vf = simd::avx512_f32;
using vd = simd::avx512_f64;
#define SHAPEGUARD_SIMD_TARGET SHAPEGUARD_TARGET_AVX512
#define SHAPEGUARD_SIMD_TILES 1
#include "simd/kernel.inl"
#undef SHAPEGUARD_SIMD_TILES
#undef SHAPEGUARD_SIMD_TARGET
}  // namespace shapeguard::detail::avx512_kernel
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

#if SHAPEGUARD_SIMD_NEON
namespace shapeguard::detail::neon_kernel {
using vf = simd::neon_f32;
using vd = simd::neon_f64;
#define SHAPEGUARD_SIMD_TARGET
#define SHAPEGUARD_SIMD_TILES 0
#include "simd/kernel.inl"
#undef SHAPEGUARD_SIMD_TILES
#undef SHAPEGUARD_SIMD_TARGET
}  // namespace shapeguard::detail::neon_kernel
#endif
