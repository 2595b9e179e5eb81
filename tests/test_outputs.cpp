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

TEST_CASE("outputs fill one slot each, in any order", "[outputs]") {
  namespace sd = shapeguard::detail;
  std::vector<float> g(6), l(2);
  sg::tensor_view<float, sg::extents<2, 3>> grad(g.data());
  const auto a = sd::collect_outputs(grad, sg::per_sample(l));
  const auto b = sd::collect_outputs(sg::per_sample(l), grad);
  STATIC_REQUIRE(std::is_same_v<decltype(a), decltype(b)>);
  STATIC_REQUIRE(decltype(a)::has_grad && decltype(a)::has_losses);
  CHECK(a.grad.data() == g.data());
  CHECK(b.grad.data() == g.data());
  CHECK(a.losses.data() == l.data());
  CHECK(b.losses.data() == l.data());
  const auto none = sd::collect_outputs();
  STATIC_REQUIRE(!decltype(none)::has_grad && !decltype(none)::has_losses);
  // a vector passed as an output is a mutable rank-1 view
  const auto v = sd::collect_outputs(l);
  STATIC_REQUIRE(std::is_same_v<decltype(v.grad), sg::tensor_view<float, sg::extents<sg::dyn>>>);
  // per-sample losses ask for reduction::none when no options are given
  STATIC_REQUIRE(sd::default_options<decltype(sg::per_sample(l))>().reduction ==
                 sg::reduction::none);
  STATIC_REQUIRE(sd::default_options<decltype(grad)>().reduction == sg::reduction::mean);
}
