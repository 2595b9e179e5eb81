#include <shapeguard/errors.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <type_traits>

namespace sg = shapeguard;

TEST_CASE("every error kind has its name", "[errors]") {
  using K = sg::error_kind;
  CHECK(sg::to_string(K::rank_mismatch) == "rank_mismatch");
  CHECK(sg::to_string(K::batch_mismatch) == "batch_mismatch");
  CHECK(sg::to_string(K::class_mismatch) == "class_mismatch");
  CHECK(sg::to_string(K::label_out_of_range) == "label_out_of_range");
  CHECK(sg::to_string(K::invalid_one_hot) == "invalid_one_hot");
  CHECK(sg::to_string(K::invalid_probabilities) == "invalid_probabilities");
  CHECK(sg::to_string(K::invalid_option) == "invalid_option");
  CHECK(sg::to_string(K::output_mismatch) == "output_mismatch");
  CHECK(sg::to_string(K::non_finite) == "non_finite");
  CHECK(sg::to_string(K::extent_mismatch) == "extent_mismatch");
  // kinds added later come last: the earlier ones keep their numbers
  STATIC_REQUIRE(static_cast<int>(K::rank_mismatch) == 0);
  STATIC_REQUIRE(static_cast<int>(K::non_finite) == 8);
  STATIC_REQUIRE(static_cast<int>(K::extent_mismatch) == 9);
}

TEST_CASE("shape_error is an invalid_argument with a kind", "[errors]") {
  STATIC_REQUIRE(std::is_base_of_v<std::invalid_argument, sg::shape_error>);
  try {
    sg::detail::raise(sg::check_result(sg::error_kind::class_mismatch, "the message"));
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "the message");
    REQUIRE(dynamic_cast<const sg::shape_error*>(&e) != nullptr);
    CHECK(dynamic_cast<const sg::shape_error&>(e).kind() == sg::error_kind::class_mismatch);
  }
}

TEST_CASE("check_result", "[errors]") {
  sg::check_result fine;
  CHECK(fine.ok());
  CHECK(static_cast<bool>(fine));
  CHECK(fine.message().empty());
  sg::check_result bad(sg::error_kind::non_finite, "nan");
  CHECK_FALSE(bad.ok());
  CHECK(bad.kind() == sg::error_kind::non_finite);
  CHECK(bad.message() == "nan");
}

TEST_CASE("the error handler can be replaced and restored", "[errors]") {
  auto handler = [](const sg::check_result&) noexcept {};
  const sg::error_handler previous = sg::set_error_handler(handler);
  CHECK(previous == &sg::detail::default_error_handler);
  CHECK(sg::set_error_handler(nullptr) == +handler);  // nullptr restores the default
  CHECK(sg::set_error_handler(previous) == &sg::detail::default_error_handler);
}
