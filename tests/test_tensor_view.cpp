#include <shapeguard/tensor_view.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <numeric>
#include <span>
#include <type_traits>
#include <vector>

namespace sg = shapeguard;

TEST_CASE("a view is a pointer and the dynamic extents", "[tensor_view]") {
  std::vector<float> data(6);
  std::iota(data.begin(), data.end(), 0.0f);
  sg::tensor_view<const float, sg::extents<sg::dyn, 3>> x(data.data(), 2);
  CHECK(x.data() == data.data());
  CHECK(x.extent(0) == 2);
  CHECK(x.extent(1) == 3);
  CHECK(x.size() == 6);
  CHECK(x(0, 0) == 0.0f);
  CHECK(x(1, 2) == 5.0f);  // row-major
  CHECK(x(1, 0) == 3.0f);
  STATIC_REQUIRE(decltype(x)::rank() == 2);
  STATIC_REQUIRE(sizeof(x) == sizeof(float*) + sizeof(std::size_t));

  sg::tensor_view<const float, sg::dims<2>> y(data.data(), 3, 2);
  CHECK(y(2, 1) == 5.0f);
  CHECK(y(1, 0) == 2.0f);

  sg::tensor_view<float, sg::extents<2, 3>> z(data.data());
  z(1, 1) = 40.0f;
  CHECK(data[4] == 40.0f);
  STATIC_REQUIRE(sizeof(z) == sizeof(float*));
}

TEST_CASE("rank-1 views from spans and vectors", "[tensor_view]") {
  std::vector<std::int64_t> labels = {3, 1, 4};
  sg::tensor_view from_vector(labels);
  STATIC_REQUIRE(std::is_same_v<decltype(from_vector), sg::tensor_view<std::int64_t, sg::extents<sg::dyn>>>);
  CHECK(from_vector.extent(0) == 3);
  CHECK(from_vector(2) == 4);

  const std::vector<std::int64_t>& ref = labels;
  sg::tensor_view from_const(ref);
  STATIC_REQUIRE(std::is_same_v<decltype(from_const), sg::tensor_view<const std::int64_t, sg::extents<sg::dyn>>>);

  std::array<float, 4> fixed{};
  sg::tensor_view from_span(std::span{fixed});
  STATIC_REQUIRE(std::is_same_v<decltype(from_span), sg::tensor_view<float, sg::extents<4>>>);

  auto v = sg::view(fixed);
  STATIC_REQUIRE(decltype(v)::static_extent(0) == 4);
  CHECK(v.data() == fixed.data());

  // a vector of 3 labels for a view of 4: the static length is checked
  try {
    (void)sg::tensor_view<const std::int64_t, sg::extents<4>>(labels);
    FAIL("no error");
  } catch (const sg::shape_error& e) {
    CHECK(e.kind() == sg::error_kind::extent_mismatch);
    CHECK_THAT(e.what(), Catch::Contains("axis 0 is static 4 but the source has 3"));
  }
}

TEST_CASE("view conversions follow mdspan", "[tensor_view]") {
  using static_view = sg::tensor_view<float, sg::extents<2, 3>>;
  using dynamic_view = sg::tensor_view<const float, sg::dims<2>>;
  // adding const and making axes dynamic: implicit
  STATIC_REQUIRE(std::is_convertible_v<static_view, dynamic_view>);
  // removing const: never
  STATIC_REQUIRE(!std::is_constructible_v<static_view, sg::tensor_view<const float, sg::extents<2, 3>>>);
  // dynamic to static: explicit and checked
  STATIC_REQUIRE(!std::is_convertible_v<dynamic_view, sg::tensor_view<const float, sg::extents<2, 3>>>);
  std::vector<float> data(6);
  dynamic_view d(data.data(), 2, 3);
  auto s = sg::tensor_view<const float, sg::extents<2, 3>>(d);
  CHECK(s.data() == data.data());
  try {
    (void)sg::tensor_view<const float, sg::extents<3, 2>>(d);
    FAIL("no error");
  } catch (const sg::shape_error& e) {
    CHECK(e.kind() == sg::error_kind::extent_mismatch);
    CHECK(e.kind() != sg::error_kind::invalid_option);
    CHECK_THAT(e.what(), Catch::Contains("extents: axis 0 is static 3 but the source has 2; "
                                         "hint: the type fixes 3 rows on axis 0"));
  }
  // the element type must match (no float -> double reinterpretation)
  STATIC_REQUIRE(!std::is_constructible_v<sg::tensor_view<const double, sg::dims<2>>, static_view>);
}

TEST_CASE("an empty view", "[tensor_view]") {
  sg::tensor_view<const float, sg::extents<sg::dyn, 10>> x(nullptr, 0);
  CHECK(x.empty());
  CHECK(x.size() == 0);
  sg::tensor_view<const float, sg::extents<sg::dyn, 10>> d;
  CHECK(d.data() == nullptr);
  CHECK(d.extent(0) == 0);
}
