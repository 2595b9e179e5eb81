// The instruction-set query and SHAPEGUARD_FORCE_ISA. CTest runs this program once more per
// forced value (tests/CMakeLists.txt): with the variable set, the active set must be the one
// forced when the machine runs it, and the best supported one otherwise.
#include <shapeguard/shapeguard.hpp>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

namespace sg = shapeguard;
namespace sd = shapeguard::detail;

TEST_CASE("every supported set has a kernel; scalar comes first, the best last", "[dispatch]") {
  const auto isas = sg::supported_isas();
  REQUIRE(!isas.empty());
  CHECK(isas.front() == sg::isa::scalar);
  for (std::size_t i = 1; i < isas.size(); ++i) CHECK(int(isas[i - 1]) < int(isas[i]));
  for (sg::isa a : isas) {
    INFO(sg::to_string(a));
    CHECK(sg::is_supported(a));
    CHECK(sd::rows_kernel_for<float, float>(a) != nullptr);
    CHECK(sd::rows_kernel_for<double, double>(a) != nullptr);
    CHECK(sd::isa_from_name(sg::to_string(a)) == a);
  }
#if defined(__x86_64__)
  CHECK(!sg::is_supported(sg::isa::neon));
  CHECK(sd::rows_kernel_for<float, float>(sg::isa::neon) == nullptr);
#elif defined(__aarch64__)
  CHECK(sg::is_supported(sg::isa::neon));
  CHECK(!sg::is_supported(sg::isa::avx2));
  CHECK(sd::rows_kernel_for<float, float>(sg::isa::avx2) == nullptr);
#endif
  CHECK(sg::to_string(sg::isa::avx512) == "avx512");
  CHECK(!sd::isa_from_name("AVX2"));
  CHECK(!sd::isa_from_name(""));
}

TEST_CASE("the active set honours SHAPEGUARD_FORCE_ISA", "[dispatch]") {
  const auto isas = sg::supported_isas();
  const sg::isa best = isas.back();
  const char* forced = std::getenv("SHAPEGUARD_FORCE_ISA");
  sg::isa expected = best;
  if (forced != nullptr && *forced != '\0') {
    const auto wanted = sd::isa_from_name(forced);
    if (wanted && sg::is_supported(*wanted)) expected = *wanted;
  }
  INFO("SHAPEGUARD_FORCE_ISA=" << (forced ? forced : "(unset)") << ", active "
                               << sg::to_string(sg::active_isa()));
  CHECK(sg::active_isa() == expected);
  // the loss uses the active set's kernel
  CHECK(sd::rows_kernel<float, float>() == sd::rows_kernel_for<float, float>(expected));
  // and the choice is made once: it does not change by itself
  CHECK(sg::active_isa() == expected);
  // the public loss runs on it
  const std::vector<float> x = {1.0f, 2.0f, 3.0f, 0.5f, 0.5f, 0.5f};
  const std::vector<std::int64_t> y = {2, 0};
  const float loss = sg::softmax_cross_entropy(
      sg::tensor_view<const float, sg::extents<sg::dyn, 3>>(x.data(), 2), y);
  CHECK(loss == Approx((std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0 +
                        std::log(3.0)) / 2).epsilon(1e-6));
}

TEST_CASE("override_isa switches the set and gives back the previous one", "[dispatch]") {
  const sg::isa start = sg::active_isa();
  for (sg::isa a : sg::supported_isas()) {
    const sg::isa previous = sd::override_isa(a);
    CHECK(sg::active_isa() == a);
    CHECK(sd::override_isa(previous) == a);
  }
  CHECK(sg::active_isa() == start);
}
