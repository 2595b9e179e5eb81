// The Eigen adapter's 16-bit scalars (shapeguard/eigen.hpp): a buffer of Eigen::bfloat16 or Eigen::half goes
// through the loss in place, with the same bits out as the library's own bfloat16 and float16.
// Skipped where Eigen's headers are not found.
#include <shapeguard/shapeguard.hpp>

#include <catch2/catch.hpp>

#include "skip.hpp"

#if __has_include(<Eigen/Core>)
#include <shapeguard/eigen.hpp>

#include "foreign16.hpp"

namespace sg = shapeguard;

static_assert(std::is_same_v<sg::storage_t<Eigen::bfloat16>, sg::bfloat16>);
static_assert(std::is_same_v<sg::storage_t<Eigen::half>, sg::float16>);
static_assert(std::is_same_v<sg::storage_t<const Eigen::half>, sg::float16>);

TEST_CASE("Eigen's 16-bit buffers give the bits of the library's own types", "[storage]") {
  shapeguard_test::same_bits_for_every_class_count<Eigen::bfloat16, Eigen::half>();
}

TEST_CASE("Eigen's 16-bit targets are read as floating targets", "[storage]") {
  shapeguard_test::floating_targets<Eigen::bfloat16>();
}
#else
TEST_CASE("Eigen's 16-bit scalars", "[storage]") {
  shapeguard_test::skip("Eigen's headers (<Eigen/Core>) are not found: nothing to test");
}
#endif
