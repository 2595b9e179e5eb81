// Built with -fno-exceptions: try_check reports as usual; a failed checked call goes to the
// replaceable handler, with nothing written.
#include <shapeguard/shapeguard.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace sg = shapeguard;

namespace {
std::vector<float> grad(10 * 3, -7.0f);

void on_error(const sg::check_result& r) noexcept {
  for (float g : grad)
    if (g != -7.0f) {
      std::puts("FAIL: the gradient was written before the handler ran");
      std::_Exit(1);
    }
  std::printf("handler: %s: %s\n", sg::to_string(r.kind()).data(), r.message().c_str());
  std::fflush(stdout);
  std::_Exit(0);
}
}  // namespace

int main() {
  std::vector<float> logits(10 * 3, 0.0f);
  std::vector<std::int64_t> labels(15, 0);
  sg::tensor_view<const float, sg::extents<sg::dyn, 3>> x(logits.data(), 10);
  sg::tensor_view<float, sg::extents<sg::dyn, 3>> g(grad.data(), 10);

  const auto r = sg::try_check(x, labels);
  if (r.ok() || r.kind() != sg::error_kind::batch_mismatch) {
    std::puts("FAIL: try_check did not report the batch mismatch");
    return 1;
  }
  sg::set_error_handler(&on_error);
  (void)sg::softmax_cross_entropy(x, labels, g);
  std::puts("FAIL: the failed call returned");
  return 1;
}
