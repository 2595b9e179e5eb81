// A torch::Tensor passed where a view is: the error names sg::from_torch.
// expect: view it with sg::from_torch<const float, 2>\(t\)
#include <shapeguard/shapeguard.hpp>
#include <shapeguard/torch.hpp>

namespace sg = shapeguard;

float loss(const at::Tensor& logits, const at::Tensor& labels) {
  return sg::softmax_cross_entropy(logits, labels);
}
