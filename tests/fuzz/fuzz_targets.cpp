// Fuzz target: the loss with per-class targets (probability rows by type or wrapped, one-hot
// rows of every integer width and of both floating types), logits of rank 1 to 4, every call
// form and every instruction set. The property is stated in fuzz_common.hpp.
#include "fuzz_loss.hpp"

namespace {
using fuzz::encoding;
using fuzz::run_loss;
using fuzz::case_fn;

template <class T>
constexpr case_fn cases[] = {
    // probability rows, [N, C]: float or double targets for either logit type
    &run_loss<T, float, 2, encoding::probabilities>,
    &run_loss<T, double, 2, encoding::probabilities>,
    &run_loss<T, float, 2, encoding::probabilities_wrapped>,
    // one-hot rows of every element type
    &run_loss<T, float, 2, encoding::one_hot>,
    &run_loss<T, double, 2, encoding::one_hot>,
    &run_loss<T, std::int8_t, 2, encoding::one_hot>,
    &run_loss<T, std::uint8_t, 2, encoding::one_hot>,
    &run_loss<T, std::int16_t, 2, encoding::one_hot>,
    &run_loss<T, std::uint16_t, 2, encoding::one_hot>,
    &run_loss<T, std::int32_t, 2, encoding::one_hot>,
    &run_loss<T, std::uint32_t, 2, encoding::one_hot>,
    &run_loss<T, std::int64_t, 2, encoding::one_hot>,
    &run_loss<T, std::uint64_t, 2, encoding::one_hot>,
    // the other ranks
    &run_loss<T, T, 1, encoding::probabilities>,
    &run_loss<T, std::int32_t, 1, encoding::one_hot>,
    &run_loss<T, T, 3, encoding::probabilities>,
    &run_loss<T, std::uint8_t, 3, encoding::one_hot>,
    &run_loss<T, T, 4, encoding::probabilities_wrapped>,
    &run_loss<T, float, 4, encoding::one_hot>,
};
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init_stats();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::run_case(data, size, cases<float>, cases<double>);
  return 0;
}
