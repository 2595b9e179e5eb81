// Compile-only: sg::compatible decides from types alone. Negatives are the pairs a checked
// call refuses to compile (see tests/compile_fail/ for the diagnostics).
#include <shapeguard/shapeguard.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

namespace sg = shapeguard;

template <class T, std::size_t... E>
using view = sg::tensor_view<const T, sg::extents<E...>>;
using sg::dyn;

// class indices: the logits' shape without the class axis
static_assert(sg::compatible<view<float, 32, 10>, view<std::int64_t, 32>>);
static_assert(sg::compatible<view<float, dyn, 10>, view<std::uint8_t, 32>>);
static_assert(sg::compatible<view<float, 32, 10>, view<std::int32_t, dyn>>);
static_assert(sg::compatible<view<double, dyn, dyn>, std::vector<std::int64_t>>);
static_assert(sg::compatible<view<float, 4, 128, 1000>, view<std::int64_t, 4, 128>>);
static_assert(sg::compatible<view<float, dyn, 8, 8, 10>, view<std::int16_t, dyn, 8, 8>>);
// per-class targets: the logits' shape
static_assert(sg::compatible<view<float, 32, 10>, view<float, 32, 10>>);
static_assert(sg::compatible<view<float, 32, 10>, view<double, dyn, 10>>);
static_assert(sg::compatible<view<float, 32, 10>, sg::encoded_labels<sg::label_encoding::one_hot, view<std::int32_t, 32, 10>>>);

// the three classic mistakes, when shapes are fixed
static_assert(!sg::compatible<view<float, 10, 5>, view<std::int64_t, 15>>);  // batch
static_assert(!sg::compatible<view<float, 8, 3>, sg::encoded_labels<sg::label_encoding::one_hot, view<float, 8, 5>>>);  // one-hot width
static_assert(!sg::compatible<view<float, dyn, 3>, view<float, dyn, 5>>);
// integer labels with the logits' rank look one-hot
static_assert(!sg::compatible<view<float, dyn, 3>, view<std::int64_t, dyn, 3>>);
// floating labels without the class axis
static_assert(!sg::compatible<view<float, dyn, 3>, view<float, dyn>>);
// [N, 1] labels
static_assert(!sg::compatible<view<float, dyn, 3>, view<float, dyn, 1>>);
// an inner batch axis
static_assert(!sg::compatible<view<float, dyn, 128, 100>, view<std::int64_t, dyn, 64>>);
// logits must be float or double, and so must floating labels
static_assert(!sg::compatible<view<int, 4, 3>, view<std::int64_t, 4>>);
static_assert(!sg::compatible<view<long double, 4, 3>, view<std::int64_t, 4>>);
static_assert(!sg::compatible<view<float, 4, 3>, view<long double, 4, 3>>);
static_assert(sg::compatible<view<double, 4, 3>, view<float, 4, 3>>);
// dynamic extents prove nothing: they are checked at run time
static_assert(sg::compatible<view<float, dyn, dyn>, view<float, dyn, dyn>>);

// assert_compatible: true for the pairs compatible accepts (for a mismatch it does not
// compile: tests/compile_fail/assert_compatible_batch.cpp)
static_assert(sg::assert_compatible<view<float, 32, 10>, view<std::int64_t, 32>>());
static_assert(sg::assert_compatible<view<float, dyn, 10>, view<std::uint8_t, 32>>());
static_assert(sg::assert_compatible<view<double, dyn, dyn>, std::vector<std::int64_t>>());
static_assert(sg::assert_compatible<view<float, 4, 128, 1000>, view<std::int64_t, 4, 128>>());
static_assert(sg::assert_compatible<view<float, 32, 10>, view<double, dyn, 10>>());
static_assert(sg::assert_compatible<view<float, 32, 10>, sg::encoded_labels<sg::label_encoding::one_hot, view<std::int32_t, 32, 10>>>());
static_assert(sg::assert_compatible<const view<float, 32, 10>&, const view<std::int64_t, 32>&>());
static_assert(sg::assert_compatible<view<float, dyn, dyn>, view<float, dyn, dyn>>());

TEST_CASE("compatible is decided at compile time", "[compatible]") {
  // the static_asserts above are the test; this case makes the program a Catch2 test
  STATIC_REQUIRE(sg::compatible<view<float, 2, 2>, view<std::int64_t, 2>>);
  STATIC_REQUIRE_FALSE(sg::compatible<view<float, 2, 2>, view<std::int64_t, 3>>);
  STATIC_REQUIRE(sg::assert_compatible<view<float, 2, 2>, view<std::int64_t, 2>>());
}
