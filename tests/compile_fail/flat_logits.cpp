// A flat vector of N * C logits with a vector of N class indices: the hint names the [N, C] view.
// expect: rank-1 logits are the classes of one sample: view a flat buffer of N \* C logits as \[N, C\]
// expect-gcc: the comparison reduces to [^(]*\(1 == 0\)
// expect-clang: 1UL == 0UL
#include <shapeguard/shapeguard.hpp>

#include <vector>

namespace sg = shapeguard;

float loss(const std::vector<float>& x, const std::vector<int>& y) {
  return sg::softmax_cross_entropy(x, y);
}
