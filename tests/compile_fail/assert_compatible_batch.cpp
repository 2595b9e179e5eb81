// A user's static_assert with sg::assert_compatible, 10 logits rows with 15 labels: the error is
// the library's sentence with both numbers, as for a checked call.
// expect: batch size mismatch: logits and labels must come from the same batch
// expect-gcc: the comparison reduces to [^(]*\(10 == 15\)
// expect-clang: 10UL == 15UL
// expect-gcc: BatchAxis = 0
// expect-clang: assert_batch_axis<0UL, 10UL, 15UL>
// expect: assert_compatible<
#include <shapeguard/shapeguard.hpp>

#include <cstdint>

namespace sg = shapeguard;

using logits_view = sg::tensor_view<const float, sg::extents<10, 5>>;
using labels_view = sg::tensor_view<const std::int64_t, sg::extents<15>>;
static_assert(sg::assert_compatible<logits_view, labels_view>());
