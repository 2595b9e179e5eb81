// sg::assert_compatible with a pointer for the logits: refused, saying what it takes.
// expect: sg::assert_compatible: Logits is not a view
#include <shapeguard/shapeguard.hpp>

#include <cstdint>

namespace sg = shapeguard;

using labels_view = sg::tensor_view<const std::int64_t, sg::extents<15>>;
static_assert(sg::assert_compatible<const float*, labels_view>());
