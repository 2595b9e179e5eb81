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
    CHECK(sd::index_kernel_for<float>(a) != nullptr);
    CHECK(sd::index_kernel_for<double>(a) != nullptr);
    CHECK((sd::dense_kernel_for<float, double>(a) != nullptr));
    CHECK((sd::dense_kernel_for<double, float>(a) != nullptr));
    CHECK(sd::isa_from_name(sg::to_string(a)) == a);
  }
#if defined(__x86_64__)
  CHECK(!sg::is_supported(sg::isa::neon));
  CHECK(sd::index_kernel_for<float>(sg::isa::neon) == nullptr);
#elif defined(__aarch64__)
  CHECK(sg::is_supported(sg::isa::neon));
  CHECK(!sg::is_supported(sg::isa::avx2));
  CHECK(sd::index_kernel_for<float>(sg::isa::avx2) == nullptr);
#endif
  CHECK(sg::to_string(sg::isa::avx512) == "avx512");
  CHECK(!sd::isa_from_name("AVX2"));
  CHECK(!sd::isa_from_name(""));
}

TEST_CASE("a forced set is taken when supported; otherwise the best, with the reason",
          "[dispatch]") {
  using sg::isa;
  const std::vector<isa> avx2_cpu = {isa::scalar, isa::avx2};
  const std::vector<isa> avx512_cpu = {isa::scalar, isa::avx2, isa::avx512};
  const std::vector<isa> plain = {isa::scalar};
  auto chosen = [](const char* forced, const std::vector<isa>& cpu) {
    return sd::choose_isa(forced, cpu).chosen;
  };
  CHECK(chosen(nullptr, avx2_cpu) == isa::avx2);
  CHECK(chosen("", avx512_cpu) == isa::avx512);
  CHECK(chosen("scalar", avx512_cpu) == isa::scalar);
  CHECK(chosen("avx2", avx512_cpu) == isa::avx2);
  CHECK(chosen("avx512", avx2_cpu) == isa::avx2);
  CHECK(chosen("neon", avx512_cpu) == isa::avx512);
  CHECK(chosen("avx2", plain) == isa::scalar);
  CHECK(chosen("AVX2", avx2_cpu) == isa::avx2);
  CHECK(sd::choose_isa("avx2", avx512_cpu).refused == nullptr);
  CHECK(sd::choose_isa(nullptr, avx512_cpu).refused == nullptr);
  CHECK(std::string_view(sd::choose_isa("avx512", avx2_cpu).refused) ==
        "cannot run on this CPU or build");
  CHECK(std::string_view(sd::choose_isa("bogus", avx2_cpu).refused) ==
        "is not one of scalar, avx2, avx512, neon");
}

TEST_CASE("the active set is the one SHAPEGUARD_FORCE_ISA selects", "[dispatch]") {
  const char* forced = std::getenv("SHAPEGUARD_FORCE_ISA");
  const sg::isa expected = sd::choose_isa(forced, sg::supported_isas()).chosen;
  INFO("SHAPEGUARD_FORCE_ISA=" << (forced ? forced : "(unset)") << ", active "
                               << sg::to_string(sg::active_isa()));
  CHECK(sg::active_isa() == expected);
  // scalar runs everywhere: forcing it always takes it
  if (forced != nullptr && std::string_view(forced) == "scalar")
    CHECK(sg::active_isa() == sg::isa::scalar);
  if (forced == nullptr || *forced == '\0') CHECK(sg::active_isa() == sg::supported_isas().back());
  // the loss uses the active set's kernels
  CHECK(sd::index_kernel<float>() == sd::index_kernel_for<float>(expected));
  CHECK((sd::dense_kernel<float, float>() == sd::dense_kernel_for<float, float>(expected)));
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
