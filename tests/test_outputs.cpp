#include <shapeguard/outputs.hpp>

#include <catch2/catch.hpp>

#include <type_traits>
#include <vector>

namespace sg = shapeguard;

TEST_CASE("per_sample wraps a mutable buffer", "[outputs]") {
  std::vector<float> losses(8);
  auto p = sg::per_sample(losses);
  STATIC_REQUIRE(std::is_same_v<decltype(p.view), sg::tensor_view<float, sg::extents<sg::dyn>>>);
  CHECK(p.view.data() == losses.data());
  CHECK(p.view.extent(0) == 8);

  std::vector<double> grid(6);
  sg::tensor_view<double, sg::dims<2>> v(grid.data(), 2, 3);
  auto q = sg::per_sample(v);
  STATIC_REQUIRE(decltype(q.view)::rank() == 2);
  CHECK(q.view.extent(1) == 3);
}
