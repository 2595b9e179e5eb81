#include <shapeguard/labels.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <type_traits>
#include <vector>

namespace sg = shapeguard;
using sg::label_encoding;

namespace {
template <class L>
constexpr auto encoding_of() {
  return sg::detail::labels_t<L>::encoding;
}
}  // namespace

TEST_CASE("the element type chooses the encoding, never the values", "[labels]") {
  STATIC_REQUIRE(encoding_of<std::vector<std::int64_t>>() == label_encoding::class_indices);
  STATIC_REQUIRE(encoding_of<std::vector<std::uint8_t>>() == label_encoding::class_indices);
  STATIC_REQUIRE(encoding_of<sg::tensor_view<const std::int32_t, sg::dims<2>>>() == label_encoding::class_indices);
  STATIC_REQUIRE(encoding_of<sg::tensor_view<const float, sg::dims<2>>>() == label_encoding::probabilities);
  STATIC_REQUIRE(encoding_of<std::vector<double>>() == label_encoding::probabilities);
}

TEST_CASE("explicit wrappers", "[labels]") {
  std::vector<std::int16_t> idx = {0, 2};
  std::vector<float> rows = {1, 0, 0, 0, 0, 1};
  sg::tensor_view<const float, sg::dims<2>> t(rows.data(), 2, 3);
  std::vector<std::uint8_t> int_rows = {1, 0, 0, 1};
  sg::tensor_view<const std::uint8_t, sg::dims<2>> ti(int_rows.data(), 2, 2);

  auto a = sg::class_indices(idx);
  STATIC_REQUIRE(decltype(a)::encoding == label_encoding::class_indices);
  CHECK(a.view.data() == idx.data());
  CHECK(a.view.extent(0) == 2);

  auto b = sg::one_hot(t);
  STATIC_REQUIRE(decltype(b)::encoding == label_encoding::one_hot);
  auto c = sg::one_hot(ti);  // integer one-hot rows
  STATIC_REQUIRE(decltype(c)::encoding == label_encoding::one_hot);
  STATIC_REQUIRE(std::is_same_v<decltype(c.view)::value_type, std::uint8_t>);
  auto d = sg::probabilities(t);
  STATIC_REQUIRE(decltype(d)::encoding == label_encoding::probabilities);
  CHECK(d.view.data() == rows.data());
  // the wrapped view is const: labels are never written
  STATIC_REQUIRE(std::is_const_v<decltype(d.view)::element_type>);
  // wrapping again keeps the explicit encoding
  STATIC_REQUIRE(encoding_of<decltype(b)>() == label_encoding::one_hot);
}

TEST_CASE("encodings have names", "[labels]") {
  CHECK(sg::to_string(label_encoding::class_indices) == "class indices");
  CHECK(sg::to_string(label_encoding::one_hot) == "one-hot labels");
  CHECK(sg::to_string(label_encoding::probabilities) == "probability labels");
}
