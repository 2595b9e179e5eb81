// The Eigen adapter (shapeguard/eigen.hpp). Dense objects passed where views are: both storage
// orders, fixed and dynamic sizes, Map with strides, Ref, Block and Array agree exactly with the
// same problem in row-major buffers; static sizes are static extents. Its 16-bit scalars: a
// buffer of Eigen::bfloat16 or Eigen::half goes through the loss in place, with the same bits
// out as the library's own bfloat16 and float16. Skipped where Eigen's headers are not found.
#include <shapeguard/shapeguard.hpp>

#include <cmath>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include "skip.hpp"

#if __has_include(<Eigen/Core>)
#include <shapeguard/eigen.hpp>

#include "foreign16.hpp"

namespace sg = shapeguard;

static_assert(std::is_same_v<sg::storage_t<Eigen::bfloat16>, sg::bfloat16>);
static_assert(std::is_same_v<sg::storage_t<Eigen::half>, sg::float16>);
static_assert(std::is_same_v<sg::storage_t<const Eigen::half>, sg::float16>);

TEST_CASE("Eigen's 16-bit buffers give the bits of the library's own types", "[storage]") {
  shapeguard_test::same_bits_for_every_class_count<Eigen::bfloat16, Eigen::half>();
}

TEST_CASE("Eigen's 16-bit targets are read as floating targets", "[storage]") {
  shapeguard_test::floating_targets<Eigen::bfloat16>();
}

namespace {

using sg::dyn;
using RowMajorXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// static sizes are static extents, and the storage order is the layout
static_assert(std::is_same_v<decltype(sg::view(std::declval<const Eigen::Matrix<float, 64, 10, Eigen::RowMajor>&>())),
                             sg::tensor_view<const float, sg::extents<64, 10>>>);
static_assert(std::is_same_v<decltype(sg::view(std::declval<Eigen::MatrixXf&>())),
                             sg::tensor_view<float, sg::extents<dyn, dyn>, sg::layout_left>>);
static_assert(std::is_same_v<decltype(sg::view(std::declval<const Eigen::Matrix<int, 64, 1>&>())),
                             sg::tensor_view<const int, sg::extents<64>>>);
static_assert(sg::compatible<Eigen::Matrix<float, 64, 10, Eigen::RowMajor>, Eigen::Matrix<int, 64, 1>>);
static_assert(!sg::compatible<Eigen::Matrix<float, 64, 10, Eigen::RowMajor>, Eigen::Matrix<int, 32, 1>>);
static_assert(!sg::compatible<Eigen::Matrix<float, 64, 10>, Eigen::Matrix<float, 64, 5>>);
// an expression without direct access to its elements is not a view
static_assert(!sg::compatible<decltype(Eigen::MatrixXf() * 2.0f), Eigen::VectorXi>);

/// The reference: the same values in row-major buffers.
struct plain {
  float loss;
  std::vector<float> grad;  // row-major
};

template <class M>
auto plain_call(const M& logits, const Eigen::VectorXi& labels, const sg::ce_options& o = {})
    -> plain {
  const auto N = std::size_t(logits.rows()), C = std::size_t(logits.cols());
  std::vector<float> x(N * C), g(N * C);
  for (std::size_t r = 0; r < N; ++r)
    for (std::size_t c = 0; c < C; ++c) x[r * C + c] = logits(Eigen::Index(r), Eigen::Index(c));
  std::vector<int> y(labels.data(), labels.data() + labels.size());
  const float l = sg::softmax_cross_entropy(sg::tensor_view<const float, sg::dims<2>>(x.data(), N, C),
                                            y, sg::tensor_view<float, sg::dims<2>>(g.data(), N, C), o);
  return {l, g};
}

/// Column-major logits are solved in place by the column kernel (avx2, avx512; up to three
/// registers of classes), the same formulas with another kernel: within 1e-5 relative.
auto close(float a, float b) -> bool { return std::fabs(a - b) <= 1e-5f * std::fabs(b) + 1e-9f; }
auto close(const std::vector<float>& a, const std::vector<float>& b) -> bool {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!close(a[i], b[i])) return false;
  return true;
}

template <class G>
auto row_major_of(const G& g) -> std::vector<float> {
  std::vector<float> out;
  for (Eigen::Index r = 0; r < g.rows(); ++r)
    for (Eigen::Index c = 0; c < g.cols(); ++c) out.push_back(g(r, c));
  return out;
}

TEST_CASE("Eigen matrices of both storage orders agree with row-major buffers", "[eigen]") {
  for (const Eigen::Index C : {2, 5, 10, 33, 1000}) {
    INFO("classes " << C);
    const Eigen::Index N = 23;
    const Eigen::MatrixXf x = Eigen::MatrixXf::Random(N, C) * 4.0f;  // column-major
    Eigen::VectorXi y(N);
    for (Eigen::Index i = 0; i < N; ++i) y(i) = int((i * 7) % C);
    sg::ce_options o;
    o.label_smoothing = 0.05f;
    const plain want = plain_call(x, y, o);

    Eigen::MatrixXf g(N, C);
    CHECK(close(sg::softmax_cross_entropy(x, y, g, o), want.loss));
    CHECK(close(row_major_of(g), want.grad));

    const RowMajorXf xr = x;
    RowMajorXf gr(N, C);
    CHECK(sg::softmax_cross_entropy(xr, y, gr, o) == want.loss);
    CHECK(row_major_of(gr) == want.grad);

    const Eigen::ArrayXXf xa = x.array();
    Eigen::ArrayXXf ga(N, C);
    CHECK(close(sg::softmax_cross_entropy(xa, y, ga, o), want.loss));
    CHECK(close(row_major_of(ga.matrix()), want.grad));
  }
}

TEST_CASE("Map with strides, Ref and Block agree with row-major buffers", "[eigen]") {
  const Eigen::Index N = 17, C = 9;
  const Eigen::MatrixXf big = Eigen::MatrixXf::Random(N + 5, C + 4) * 3.0f;
  Eigen::VectorXi y(N);
  for (Eigen::Index i = 0; i < N; ++i) y(i) = int((i * 5) % C);

  const auto block = big.block(2, 3, N, C);  // column-major with outer stride N + 5
  const plain want = plain_call(block, y);
  CHECK(close(sg::softmax_cross_entropy(block, y), want.loss));

  const Eigen::Ref<const Eigen::MatrixXf> ref = block;
  Eigen::MatrixXf g_big = Eigen::MatrixXf::Constant(N + 5, C + 4, -1.0f);
  auto g_block = g_big.block(2, 3, N, C);
  CHECK(close(sg::softmax_cross_entropy(ref, y, g_block), want.loss));
  CHECK(close(row_major_of(g_block), want.grad));
  // nothing outside the block was written
  CHECK((g_big.array() == -1.0f).count() == (N + 5) * (C + 4) - N * C);

  // a row-major Map with an outer stride: every other row of a buffer
  std::vector<float> buffer(std::size_t(2 * N * C));
  for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = float(int(i * 37 % 101) - 50) / 10.0f;
  using Strided = Eigen::Map<const RowMajorXf, 0, Eigen::OuterStride<>>;
  const Strided rows(buffer.data(), N, C, Eigen::OuterStride<>(2 * C));
  CHECK(sg::softmax_cross_entropy(rows, y) == plain_call(rows, y).loss);

  // labels as a segment of a longer vector, and as an inner-strided Map
  Eigen::VectorXi long_y(2 * N);
  for (Eigen::Index i = 0; i < N; ++i) long_y(2 * i) = y(i), long_y(2 * i + 1) = 999;
  const Eigen::Map<const Eigen::VectorXi, 0, Eigen::InnerStride<2>> every_other(long_y.data(), N);
  CHECK(close(sg::softmax_cross_entropy(block, every_other), want.loss));
  CHECK(close(sg::softmax_cross_entropy(block.topRows(5), y.head(5)),
              plain_call(block.topRows(5), y.head(5)).loss));
}

TEST_CASE("fixed-size Eigen matrices and probability targets", "[eigen]") {
  using X = Eigen::Matrix<float, 8, 4, Eigen::RowMajor>;
  const X x = X::Random() * 2.0f;
  Eigen::Matrix<float, 8, 4> t = Eigen::Matrix<float, 8, 4>::Random().cwiseAbs();  // column-major
  for (int r = 0; r < 8; ++r) t.row(r) /= t.row(r).sum();
  std::vector<float> xv(32), tv(32), gv(32);
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 4; ++c) xv[std::size_t(r * 4 + c)] = x(r, c), tv[std::size_t(r * 4 + c)] = t(r, c);
  const float want = sg::softmax_cross_entropy(
      sg::tensor_view<const float, sg::extents<8, 4>>(xv.data()),
      sg::probabilities(sg::tensor_view<const float, sg::extents<8, 4>>(tv.data())),
      sg::tensor_view<float, sg::extents<8, 4>>(gv.data()));
  Eigen::Matrix<float, 8, 4> g;
  CHECK(close(sg::softmax_cross_entropy(x, sg::probabilities(t), g), want));
  CHECK(close(row_major_of(g), gv));
}

TEST_CASE("a column-major gradient for row-major logits is read as it lies", "[eigen]") {
  // the silent error this adapter exists to prevent: a column-major buffer read row-major
  Eigen::MatrixXf x(2, 3);
  x << 10, 0, 0,
       0, 0, 10;
  Eigen::VectorXi y(2);
  y << 0, 2;
  const float loss = sg::softmax_cross_entropy(x, y);
  CHECK(loss == Approx(std::log(1 + 2 * std::exp(-10.0))).epsilon(1e-5));
}

}  // namespace
#else
TEST_CASE("Eigen's 16-bit scalars", "[storage]") {
  shapeguard_test::skip("Eigen's headers (<Eigen/Core>) are not found: nothing to test");
}
#endif
