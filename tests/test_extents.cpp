#include <shapeguard/extents.hpp>

#include <catch2/catch.hpp>

namespace sg = shapeguard;

TEST_CASE("extents store only the dynamic axes", "[extents]") {
  using E = sg::extents<sg::dyn, 10>;
  STATIC_REQUIRE(E::rank() == 2);
  STATIC_REQUIRE(E::rank_dynamic() == 1);
  STATIC_REQUIRE(E::static_extent(0) == sg::dyn);
  STATIC_REQUIRE(E::static_extent(1) == 10);
  STATIC_REQUIRE(sizeof(sg::extents<3, 4>) == 1);
  STATIC_REQUIRE(sizeof(E) == sizeof(std::size_t));
  E e(32);
  CHECK(e.extent(0) == 32);
  CHECK(e.extent(1) == 10);
  CHECK(e.size() == 320);
  CHECK(fmt::format("{}", e) == "[32, 10]");
  CHECK(fmt::format("{}", sg::extents<>{}) == "[]");
}
