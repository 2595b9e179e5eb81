// Fuzz target: the loss with class-index labels of every integer width, logits of rank 1 to 4,
// every call form (loss, gradient, in place, per-sample losses) and every instruction set.
// The property is stated in fuzz_common.hpp.
#include "fuzz_loss.hpp"

namespace {
using fuzz::encoding;
using fuzz::run_loss;
using fuzz::case_fn;

template <class T>
constexpr case_fn cases[] = {
    // every integer width at rank 2 ([N, C] logits, [N] labels)
    &run_loss<T, std::int8_t, 2, encoding::indices>,
    &run_loss<T, std::uint8_t, 2, encoding::indices>,
    &run_loss<T, std::int16_t, 2, encoding::indices>,
    &run_loss<T, std::uint16_t, 2, encoding::indices>,
    &run_loss<T, std::int32_t, 2, encoding::indices>,
    &run_loss<T, std::uint32_t, 2, encoding::indices>,
    &run_loss<T, std::int64_t, 2, encoding::indices>,
    &run_loss<T, std::uint64_t, 2, encoding::indices>,
    // the explicit wrapper
    &run_loss<T, std::int64_t, 2, encoding::indices_wrapped>,
    &run_loss<T, std::uint8_t, 2, encoding::indices_wrapped>,
    // the other ranks: [C] with a rank-0 label, [B, T, C], [N, H, W, C]
    &run_loss<T, std::int64_t, 1, encoding::indices>,
    &run_loss<T, std::uint8_t, 1, encoding::indices>,
    &run_loss<T, std::int64_t, 3, encoding::indices>,
    &run_loss<T, std::int16_t, 3, encoding::indices>,
    &run_loss<T, std::uint32_t, 3, encoding::indices_wrapped>,
    &run_loss<T, std::int64_t, 4, encoding::indices>,
    &run_loss<T, std::int8_t, 4, encoding::indices>,
    &run_loss<T, std::uint64_t, 4, encoding::indices>,
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
