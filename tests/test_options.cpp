#include <shapeguard/options.hpp>

#include <catch2/catch.hpp>

namespace sg = shapeguard;

TEST_CASE("defaults are PyTorch's", "[options]") {
  const sg::ce_options o;
  CHECK(o.reduction == sg::reduction::mean);
  CHECK(o.ignore_index == -100);
  CHECK(o.label_smoothing == 0.0f);
  CHECK(o.class_weights.empty());
  CHECK_FALSE(o.check_finite);
  CHECK(o.threads == 1);
  CHECK(o.denominator == 0.0);  // the call's own
  CHECK(o.z_loss == 0.0);       // off
}

TEST_CASE("reductions have names", "[options]") {
  CHECK(sg::to_string(sg::reduction::mean) == "mean");
  CHECK(sg::to_string(sg::reduction::sum) == "sum");
  CHECK(sg::to_string(sg::reduction::none) == "none");
}
