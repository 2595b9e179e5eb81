// sg::assert_compatible with a scalar type for the labels: refused, saying what it takes.
// expect: sg::assert_compatible: Labels are not labels
#include <shapeguard/shapeguard.hpp>

#include <cstdint>

namespace sg = shapeguard;

using logits_view = sg::tensor_view<const float, sg::extents<10, 5>>;
static_assert(sg::assert_compatible<logits_view, std::int64_t>());
