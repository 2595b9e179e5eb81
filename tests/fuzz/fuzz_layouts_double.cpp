// Fuzz target fuzz_layouts: the cases of double logits (fuzz_layouts.hpp), in a unit of their
// own so that the two halves of the target compile side by side.
#include "fuzz_layouts.hpp"

void fuzz::layouts::run_double(source& s, std::uint8_t head) {
  cases<double>[head % case_count](s);
}
