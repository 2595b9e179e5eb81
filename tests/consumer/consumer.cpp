// A user's program: one checked loss call, one caught mistake.
#include <shapeguard/shapeguard.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

namespace sg = shapeguard;

int main() {
  std::vector<float> logits = {2.0f, 0.0f, 0.0f, 0.0f, 2.0f, 0.0f};
  std::vector<std::int64_t> labels = {0, 1};
  sg::tensor_view<const float, sg::extents<sg::dyn, 3>> x(logits.data(), 2);
  const float loss = sg::softmax_cross_entropy(x, labels);
  // both rows: -log(e^2 / (e^2 + 2)) = 0.2395...
  if (!(loss > 0.2395f && loss < 0.2396f)) return 1;
  std::vector<std::int64_t> wrong = {0, 7};
  auto r = sg::try_check(x, wrong);
  std::printf("%s\n", r.message().c_str());
  return r.kind() == sg::error_kind::label_out_of_range ? 0 : 1;
}
