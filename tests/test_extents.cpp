#include <shapeguard/extents.hpp>

#include <catch2/catch.hpp>

#include <limits>
#include <type_traits>

namespace sg = shapeguard;

TEST_CASE("extents store only the dynamic axes", "[extents]") {
  using E = sg::extents<sg::dyn, 10>;
  STATIC_REQUIRE(E::rank() == 2);
  STATIC_REQUIRE(E::rank_dynamic() == 1);
  STATIC_REQUIRE(E::static_extent(0) == sg::dyn);
  STATIC_REQUIRE(E::static_extent(1) == 10);
  STATIC_REQUIRE(sg::dyn == std::dynamic_extent);
  STATIC_REQUIRE(std::is_empty_v<sg::extents<3, 4>>);
  STATIC_REQUIRE(sizeof(E) == sizeof(std::size_t));
  STATIC_REQUIRE(sizeof(sg::dims<3>) == 3 * sizeof(std::size_t));
  E e(32);
  CHECK(e.extent(0) == 32);
  CHECK(e.extent(1) == 10);
  CHECK(e.size() == 320);
  STATIC_REQUIRE(sg::extents<2, 3, 4>{}.size() == 24);
  STATIC_REQUIRE(sg::extents<>{}.size() == 1);
}

TEST_CASE("dynamic axes interleave with static ones", "[extents]") {
  sg::extents<sg::dyn, 4, sg::dyn, 2> e(3, 5);
  CHECK(e.extent(0) == 3);
  CHECK(e.extent(1) == 4);
  CHECK(e.extent(2) == 5);
  CHECK(e.extent(3) == 2);
  CHECK(e.size() == 120);
}

TEST_CASE("extents format as [32, 10]", "[extents][fmt]") {
  CHECK(fmt::format("{}", sg::extents<sg::dyn, 10>(32)) == "[32, 10]");
  CHECK(fmt::format("{}", sg::extents<4, sg::dyn, 7>(0)) == "[4, 0, 7]");
  CHECK(fmt::format("{}", sg::extents<5>{}) == "[5]");
  CHECK(fmt::format("{}", sg::extents<>{}) == "[]");
}

/// The error `make()` raises; FAILs when it raises none.
template <class F>
auto error_of(F&& make) -> sg::check_result {
  try {
    (void)make();
  } catch (const sg::shape_error& err) {
    return sg::check_result(err.kind(), err.what());
  }
  FAIL("no error");
  return {};
}

TEST_CASE("every extent may be given; the static ones must match", "[extents]") {
  sg::extents<sg::dyn, 10> e(32, 10);
  CHECK(e.extent(0) == 32);
  const auto bad = error_of([] { return sg::extents<sg::dyn, 10>(32, 11); });
  CHECK(bad.kind() == sg::error_kind::extent_mismatch);
  CHECK(bad.kind() != sg::error_kind::invalid_option);
  CHECK(bad.message() ==
        "extents: axis 1 is static 10 but 11 was given; hint: the type fixes 10 on axis 1: use "
        "sg::dyn there for an extent that varies, or pass 10");
  const auto rows = error_of([] { return sg::extents<64, 10>(32, 10); });
  CHECK(rows.kind() == sg::error_kind::extent_mismatch);
  CHECK(rows.kind() != sg::error_kind::invalid_option);
  CHECK(rows.message() ==
        "extents: axis 0 is static 64 but 32 was given; hint: the type fixes 64 rows on axis 0: "
        "use sg::dyn for a batch that varies (the last batch of an epoch), or pass 64");
  // a value that is no extent at all is reported as such, before any contradiction
  const auto negative = error_of([] { return sg::extents<64, 10>(-1, 11); });
  CHECK(negative.kind() == sg::error_kind::invalid_option);
  CHECK_THAT(negative.message(), Catch::Matchers::Contains("extent -1 of axis 0 is negative"));
}

TEST_CASE("negative and overflowing extents are refused", "[extents]") {
  try {
    sg::extents<sg::dyn, 3> bad(-2);
    FAIL("no error");
  } catch (const sg::shape_error& err) {
    CHECK(err.kind() == sg::error_kind::invalid_option);
    CHECK(err.kind() != sg::error_kind::extent_mismatch);
    CHECK_THAT(err.what(), Catch::Matchers::Contains("extent -2 of axis 0 is negative"));
  }
  constexpr auto big = std::numeric_limits<std::size_t>::max() / 2;
  try {
    sg::dims<2> bad(big, std::size_t{3});
    FAIL("no error");
  } catch (const sg::shape_error& err) {
    CHECK(err.kind() == sg::error_kind::invalid_option);
    CHECK(err.kind() != sg::error_kind::extent_mismatch);
    CHECK_THAT(err.what(), Catch::Matchers::Contains("overflows std::size_t"));
  }
  CHECK_NOTHROW(sg::dims<2>(big, std::size_t{2}));
}

TEST_CASE("conversions follow mdspan", "[extents]") {
  // static to more dynamic: implicit
  STATIC_REQUIRE(std::is_convertible_v<sg::extents<4, 3>, sg::extents<sg::dyn, 3>>);
  STATIC_REQUIRE(std::is_convertible_v<sg::extents<4, 3>, sg::dims<2>>);
  // dynamic to static: explicit, checked at run time
  STATIC_REQUIRE(!std::is_convertible_v<sg::dims<2>, sg::extents<4, 3>>);
  STATIC_REQUIRE(std::is_constructible_v<sg::extents<4, 3>, sg::dims<2>>);
  // static extents that differ: no conversion at all
  STATIC_REQUIRE(!std::is_constructible_v<sg::extents<4, 3>, sg::extents<4, 5>>);
  STATIC_REQUIRE(!std::is_constructible_v<sg::extents<4>, sg::extents<4, 3>>);

  sg::dims<2> d = sg::extents<4, 3>{};
  CHECK(d.extent(0) == 4);
  CHECK(d.extent(1) == 3);
  CHECK(sg::extents<4, 3>(sg::dims<2>(4, 3)) == sg::extents<4, 3>{});
  const auto classes = error_of([] { return sg::extents<4, 3>(sg::dims<2>(4, 5)); });
  CHECK(classes.kind() == sg::error_kind::extent_mismatch);
  CHECK(classes.kind() != sg::error_kind::invalid_option);
  CHECK(classes.message() ==
        "extents: axis 1 is static 3 but the source has 5; hint: the type fixes 3 on axis 1: use "
        "sg::dyn there for an extent that varies, or pass 3");
  // the last batch of an epoch, into a type made for full batches
  const auto rows = error_of([] { return sg::extents<64, 10>(sg::extents<sg::dyn, 10>(32)); });
  CHECK(rows.kind() == sg::error_kind::extent_mismatch);
  CHECK(rows.kind() != sg::error_kind::invalid_option);
  CHECK(rows.message() ==
        "extents: axis 0 is static 64 but the source has 32; hint: the type fixes 64 rows on "
        "axis 0: use sg::dyn for a batch that varies (the last batch of an epoch), or pass 64");
}

TEST_CASE("extents compare by value across static and dynamic", "[extents]") {
  CHECK(sg::extents<sg::dyn, 3>(4) == sg::extents<4, 3>{});
  CHECK_FALSE(sg::extents<sg::dyn, 3>(5) == sg::extents<4, 3>{});
  CHECK_FALSE(sg::extents<4>{} == sg::extents<4, 1>{});
}
