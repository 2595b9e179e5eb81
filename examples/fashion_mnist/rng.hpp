#pragma once
/// The trainer's only source of randomness: splitmix64, used for the initial weights and for
/// the batch order. reference.py implements the same generator, so both trainers start from
/// the same weights and see the same batches.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace fashion_mnist {

class splitmix64 {
 public:
  explicit splitmix64(std::uint64_t seed) noexcept : state_(seed) {}

  auto next() noexcept -> std::uint64_t {
    state_ += 0x9E3779B97F4A7C15u;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
  }

  /// Uniform in [0, 1) with 53 random bits: exact in double, so Python gets the same value.
  auto uniform() noexcept -> double { return double(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

/// Fisher-Yates, from the last position down; index j = next() mod (i + 1).
template <class T>
void shuffle(std::span<T> items, splitmix64& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.next() % i);
    std::swap(items[i - 1], items[j]);
  }
}

/// PyTorch's default for Linear and Conv2d weights and biases (kaiming_uniform with a = sqrt(5)
/// reduces to this): U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn in order.
template <class T>
void fill_uniform(std::span<T> values, std::size_t fan_in, splitmix64& rng) {
  const double bound = 1.0 / std::sqrt(double(fan_in));
  for (T& v : values) v = static_cast<T>((2.0 * rng.uniform() - 1.0) * bound);
}

}  // namespace fashion_mnist
