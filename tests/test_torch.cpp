// The libtorch adapter's 16-bit scalars (shapeguard/torch.hpp): a buffer of c10::BFloat16 or c10::Half goes
// through the loss in place, with the same bits out as the library's own bfloat16 and float16.
// Skipped where libtorch's headers are not found.
#include <shapeguard/shapeguard.hpp>

#include <catch2/catch.hpp>

#include "skip.hpp"

#if __has_include(<c10/util/BFloat16.h>)
#include <shapeguard/torch.hpp>

#include "foreign16.hpp"

namespace sg = shapeguard;

static_assert(std::is_same_v<sg::storage_t<c10::BFloat16>, sg::bfloat16>);
static_assert(std::is_same_v<sg::storage_t<c10::Half>, sg::float16>);
static_assert(std::is_same_v<sg::storage_t<const c10::Half>, sg::float16>);

TEST_CASE("libtorch's 16-bit buffers give the bits of the library's own types", "[storage]") {
  shapeguard_test::same_bits_for_every_class_count<c10::BFloat16, c10::Half>();
}

TEST_CASE("libtorch's 16-bit targets are read as floating targets", "[storage]") {
  shapeguard_test::floating_targets<c10::BFloat16>();
}
#else
TEST_CASE("libtorch's 16-bit scalars", "[storage]") {
  shapeguard_test::skip("libtorch's headers (<c10/util/BFloat16.h>) are not found: nothing to test");
}
#endif
