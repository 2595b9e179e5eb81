// Fuzz target: views of every layout (row-major, column-major, padded, class axis first,
// random strides, broadcast inputs, outputs that repeat elements or alias an input) for
// softmax_cross_entropy and sigmoid_cross_entropy, held to the same call on row-major copies.
// The property is stated in fuzz_layouts.hpp; this unit holds the float cases, and
// fuzz_layouts_double.cpp the double ones.
#include "fuzz_layouts.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (std::getenv("SHAPEGUARD_FUZZ_STATS")) std::atexit(&fuzz::layouts::print_counters);
  return 0;
}

/// The first byte picks the case (its value mod 18): float logits below 0xe0, double from
/// there.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fuzz::layouts;
  fuzz::source s(data, size);
  const std::uint8_t head = s.byte();
  if (head >= 0xe0)
    run_double(s, head);
  else
    cases<float>[head % case_count](s);
  return 0;
}
