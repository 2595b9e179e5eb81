// Layouts: column-major, strided and class-axis-moved views read and written as their layouts
// say. Every loss call on such views is held to the same call on row-major copies of the same
// tensors. Where the rows are copied (strided classes), the same rows are solved in the same
// blocks by the same kernel, so loss, gradient, per-sample losses and predictions are the same
// bits. Float class indices whose rows are the contiguous axis (column-major, class axis moved
// last) are solved in place by the column kernel where the set has one (avx2, avx512: up to 3
// registers of classes): the same formulas with another grouping of rows and another kernel for
// some class counts, so within 1e-5 relative of the row-major call (predictions exact).
// CTest runs this program once per instruction set (force_isa).
#include <shapeguard/shapeguard.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace sg = shapeguard;

namespace {

using sg::dyn;

// ---- mappings ----------------------------------------------------------------------------

TEST_CASE("layout_right, layout_left and layout_stride map indices to offsets", "[layout]") {
  const sg::extents<dyn, 3, dyn> e(2, 4);
  const sg::layout_right::mapping<sg::extents<dyn, 3, dyn>> right(e);
  const sg::layout_left::mapping<sg::extents<dyn, 3, dyn>> left(e);
  CHECK(right.stride(0) == 12);
  CHECK(right.stride(1) == 4);
  CHECK(right.stride(2) == 1);
  CHECK(right(1, 2, 3) == 1 * 12 + 2 * 4 + 3);
  CHECK(left.stride(0) == 1);
  CHECK(left.stride(1) == 2);
  CHECK(left.stride(2) == 6);
  CHECK(left(1, 2, 3) == 1 + 2 * 2 + 3 * 6);
  CHECK(left.required_span_size() == 24);

  const sg::layout_stride::mapping<sg::extents<dyn, 3, dyn>> strided(e, {100, 7, 2});
  CHECK(strided(1, 2, 3) == 100 + 14 + 6);
  CHECK(strided.required_span_size() == 1 + 100 + 14 + 6);
  CHECK(strided.is_unique());
  // from another layout, implicitly
  const sg::layout_stride::mapping<sg::extents<dyn, 3, dyn>> from_left = left;
  CHECK(from_left(1, 2, 3) == left(1, 2, 3));
  CHECK(from_left.stride(2) == 6);
}

TEST_CASE("layout_stride tells unique mappings from ones that repeat an element", "[layout]") {
  using E = sg::extents<dyn, dyn>;
  const auto unique = [](std::size_t a, std::size_t b, std::size_t s0, std::size_t s1) {
    return sg::layout_stride::mapping<E>(E(a, b), {s0, s1}).is_unique();
  };
  CHECK(unique(4, 5, 5, 1));    // row-major
  CHECK(unique(4, 5, 1, 4));    // column-major
  CHECK(unique(4, 5, 16, 2));   // padded and interleaved
  CHECK(unique(4, 1, 1, 0));    // a stride 0 on an axis of extent 1 repeats nothing
  CHECK(unique(0, 5, 0, 0));    // nor on an empty view
  CHECK_FALSE(unique(4, 5, 0, 1));   // a broadcast row
  CHECK_FALSE(unique(4, 5, 3, 1));   // rows that overlap
  CHECK_FALSE(unique(4, 5, 5, 5));   // both axes the same stride
  CHECK_FALSE(unique(4, 5, 1, 3));   // overlapping columns
}

TEST_CASE("a layout_stride whose span overflows is refused", "[layout]") {
  using E = sg::extents<dyn, dyn>;
  const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2 + 1;
  try {
    (void)sg::layout_stride::mapping<E>(E(3, 2), {huge, 1});
    FAIL("no error");
  } catch (const sg::shape_error& e) {
    CHECK(e.kind() == sg::error_kind::invalid_option);
    CHECK_THAT(e.what(), Catch::Contains("axis 0"));
  }
}

TEST_CASE("views of every layout read their elements through the mapping", "[layout]") {
  std::vector<int> a(24);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = int(i);
  const sg::tensor_view<const int, sg::extents<2, 3, 4>, sg::layout_left> left(a.data());
  CHECK(left(1, 2, 3) == 1 + 2 * 2 + 3 * 6);
  CHECK(left.stride(2) == 6);
  // into layout_stride, implicitly
  const sg::tensor_view<const int, sg::extents<2, 3, 4>, sg::layout_stride> s = left;
  CHECK(s(1, 0, 2) == left(1, 0, 2));
  CHECK(s.required_span_size() == 24);
  static_assert(sizeof(left) == sizeof(int*), "static extents cost no storage");
}

TEST_CASE("class_axis<A> moves axis A last with its stride and its static extent", "[layout]") {
  std::vector<float> x(2 * 3 * 4 * 5);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  const sg::tensor_view<const float, sg::extents<dyn, 3, dyn, 5>> nchw(x.data(), 2, 4);
  const auto moved = sg::class_axis<1>(nchw);
  static_assert(std::is_same_v<decltype(moved)::extents_type, sg::extents<dyn, dyn, 5, 3>>);
  static_assert(std::is_same_v<decltype(moved)::layout_type, sg::layout_stride>);
  REQUIRE(moved.extent(0) == 2);
  REQUIRE(moved.extent(1) == 4);
  REQUIRE(moved.extent(3) == 3);
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t h = 0; h < 4; ++h)
        for (std::size_t w = 0; w < 5; ++w) CHECK(moved(n, h, w, c) == nchw(n, c, h, w));
  // the classes of a segmentation head against its per-pixel labels, proven at compile time
  using logits = decltype(moved);
  static_assert(sg::compatible<logits, sg::tensor_view<const int, sg::extents<dyn, dyn, 5>>>);
  static_assert(!sg::compatible<logits, sg::tensor_view<const int, sg::extents<dyn, dyn, 4>>>);
  static_assert(
      !sg::compatible<logits, sg::tensor_view<const float, sg::extents<dyn, dyn, 5, 4>>>);
}

// ---- tensors stored in other layouts -------------------------------------------------------

/// How a test stores a tensor given in row-major order.
enum class kind {
  left,           // column-major
  padded,         // row-major with a gap after every run and the last axis at stride 2
  classes_first,  // [N, d..., C] stored as [N, C, d...] (PyTorch's order)
};

auto kind_name(kind k) -> const char* {
  switch (k) {
    case kind::left: return "left";
    case kind::padded: return "padded";
    case kind::classes_first: return "classes_first";
  }
  return "?";
}

template <std::size_t R>
auto strides_for(kind k, const std::array<std::size_t, R>& sizes) -> std::array<std::size_t, R> {
  std::array<std::size_t, R> s{};
  if (R == 0) return s;
  std::size_t step = 1;
  switch (k) {
    case kind::left:
      for (std::size_t r = 0; r < R; ++r) s[r] = step, step *= sizes[r];
      break;
    case kind::padded:
      step = 2;
      for (std::size_t r = R; r-- > 0;) s[r] = step, step = step * sizes[r] + 3;
      break;
    case kind::classes_first:
      // physical axes N, C, d1, ..., dk, row-major
      for (std::size_t r = R - 1; r-- > 1;) s[r] = step, step *= sizes[r];
      s[R - 1] = step;  // the classes
      step *= sizes[R - 1];
      s[0] = step;
      break;
  }
  return s;
}

/// A tensor in another layout: its buffer (unreached elements hold `fill`) and strides.
template <class T, std::size_t R>
struct stored {
  std::vector<T> buffer;
  std::array<std::size_t, R> sizes{};
  std::array<std::size_t, R> strides{};

  auto offset(std::size_t flat) const -> std::size_t {
    std::size_t off = 0;
    for (std::size_t r = R; r-- > 0;) {
      off += (flat % sizes[r]) * strides[r];
      flat /= sizes[r];
    }
    return off;
  }
  auto count() const -> std::size_t {
    std::size_t n = 1;
    for (auto v : sizes) n *= v;
    return n;
  }
  template <class V>
  auto view_as() const {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return V(const_cast<T*>(buffer.data()), sg::dims<R>(sizes[I]...), strides);
    }(std::make_index_sequence<R>{});
  }
  auto view() const { return view_as<sg::tensor_view<const T, sg::dims<R>, sg::layout_stride>>(); }
  auto mutable_view() { return view_as<sg::tensor_view<T, sg::dims<R>, sg::layout_stride>>(); }
  /// The elements in row-major order.
  auto logical() const -> std::vector<T> {
    std::vector<T> out(count());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = buffer[offset(i)];
    return out;
  }
  /// Whether every element the view does not reach still holds `fill`.
  auto untouched_outside(T fill) const -> bool {
    std::vector<char> reached(buffer.size());
    for (std::size_t i = 0; i < count(); ++i) reached[offset(i)] = 1;
    for (std::size_t j = 0; j < buffer.size(); ++j)
      if (!reached[j] && !(buffer[j] == fill)) return false;
    return true;
  }
};

template <class T, std::size_t R>
auto store(const std::vector<T>& logical, const std::array<std::size_t, R>& sizes, kind k,
           T fill) -> stored<T, R> {
  stored<T, R> s;
  s.sizes = sizes;
  s.strides = strides_for(k, sizes);
  std::size_t span = 1;
  for (std::size_t r = 0; r < R; ++r) span += (sizes[r] - 1) * s.strides[r];
  s.buffer.assign(s.count() == 0 ? 0 : span, fill);
  for (std::size_t i = 0; i < logical.size(); ++i) s.buffer[s.offset(i)] = logical[i];
  return s;
}

template <std::size_t R, class T>
auto row_major(T* data, const std::array<std::size_t, R>& sizes) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return sg::tensor_view<T, sg::dims<R>>(data, sizes[I]...);
  }(std::make_index_sequence<R>{});
}

template <std::size_t R>
auto batch_of(const std::array<std::size_t, R>& sizes) -> std::array<std::size_t, R - 1> {
  std::array<std::size_t, R - 1> b{};
  for (std::size_t r = 0; r + 1 < R; ++r) b[r] = sizes[r];
  return b;
}

struct option_set {
  const char* name;
  sg::ce_options options;
  bool weights = false;
};

auto option_sets() -> std::vector<option_set> {
  std::vector<option_set> sets;
  sets.push_back({"mean", {}});
  sg::ce_options o;
  o.label_smoothing = 0.1f;
  sets.push_back({"weights+smoothing", o, true});
  o = {};
  o.reduction = sg::reduction::sum;
  o.z_loss = 1e-3;
  sets.push_back({"sum+z_loss", o});
  o = {};
  o.soft_cap = 5.0;
  sets.push_back({"soft_cap", o, true});
  o = {};
  o.threads = 2;
  sets.push_back({"threads", o});
  return sets;
}

auto random_logits(std::size_t n, std::uint64_t seed) -> std::vector<float> {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> x(n);
  for (auto& v : x) v = normal(rng);
  return x;
}

/// Class-index labels, some of them ignore_index.
auto random_labels(std::size_t n, std::size_t C, std::uint64_t seed) -> std::vector<std::int64_t> {
  std::mt19937_64 rng(seed);
  std::vector<std::int64_t> y(n);
  for (auto& v : y) v = rng() % 9 == 0 ? -100 : std::int64_t(rng() % C);
  return y;
}

auto random_probabilities(std::size_t rows, std::size_t C, std::uint64_t seed)
    -> std::vector<float> {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<float> t(rows * C);
  for (std::size_t r = 0; r < rows; ++r) {
    double sum = 0;
    std::vector<double> row(C);
    for (auto& v : row) sum += (v = u(rng) * u(rng));
    for (std::size_t c = 0; c < C; ++c) t[r * C + c] = float(row[c] / sum);
  }
  return t;
}

auto bits_equal(const std::vector<float>& a, const std::vector<float>& b) -> bool {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

/// Equal bits, or with `exact` false within 1e-5 relative (1e-9 absolute near 0).
auto agree(float a, float b, bool exact) -> bool {
  if (exact || a == b) return a == b;
  return std::fabs(a - b) <= 1e-5 * std::fabs(b) + 1e-9;
}
auto agree(const std::vector<float>& a, const std::vector<float>& b, bool exact) -> bool {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!agree(a[i], b[i], exact) && !(std::isnan(a[i]) && std::isnan(b[i]))) return false;
  return true;
}

/// Whether a layout's class-index calls are solved by the row copies, bit for bit.
auto copied(kind k) -> bool { return k == kind::padded; }

/// Class-index labels: the strided call (logits, gradient, labels, per-sample losses and
/// predictions all stored in other layouts) against the row-major one.
template <std::size_t R>
void check_indices(const std::array<std::size_t, R>& sizes, kind k) {
  const std::size_t C = sizes[R - 1];
  std::size_t rows = 1;
  for (std::size_t r = 0; r + 1 < R; ++r) rows *= sizes[r];
  const auto x = random_logits(rows * C, 11 + C);
  const auto y = random_labels(rows, C, 5 + C);
  std::vector<float> weights(C);
  for (std::size_t c = 0; c < C; ++c) weights[c] = 0.5f + float(c % 4) * 0.25f;
  const auto batch = batch_of(sizes);
  const float fill = -7.0f;
  const auto xs = store(x, sizes, k, 0.0f);
  const auto ys = store(y, batch, kind::padded, std::int64_t{-3});

  for (const auto& set : option_sets()) {
    INFO("kind " << kind_name(k) << ", classes " << C << ", rank " << R << ", " << set.name);
    sg::ce_options o = set.options;
    if (set.weights) o.class_weights = weights;
    const auto y_plain = row_major<R - 1>(y.data(), batch);

    // the reduced loss with its gradient
    std::vector<float> g_plain(x.size());
    const float loss_plain =
        sg::softmax_cross_entropy(row_major<R>(x.data(), sizes), y_plain,
                                  row_major<R>(g_plain.data(), sizes), o);
    auto gs = store(std::vector<float>(x.size()), sizes, k, fill);
    const float loss = sg::softmax_cross_entropy(xs.view(), ys.view(), gs.mutable_view(), o);
    CHECK(agree(loss, loss_plain, copied(k)));
    CHECK(agree(gs.logical(), g_plain, copied(k)));
    CHECK(gs.untouched_outside(fill));

    // per-sample losses and predictions, strided too
    sg::ce_options none = o;
    none.reduction = sg::reduction::none;
    std::vector<float> l_plain(rows);
    std::vector<std::int64_t> p_plain(rows);
    std::size_t right_plain = 0, right = 0;
    sg::softmax_cross_entropy(row_major<R>(x.data(), sizes), y_plain,
                              sg::per_sample(row_major<R - 1>(l_plain.data(), batch)),
                              sg::predictions(row_major<R - 1>(p_plain.data(), batch),
                                              right_plain),
                              none);
    auto ls = store(std::vector<float>(rows), batch, kind::padded, fill);
    auto ps = store(std::vector<std::int64_t>(rows), batch, kind::left, std::int64_t{-9});
    sg::softmax_cross_entropy(xs.view(), ys.view(), sg::per_sample(ls.mutable_view()),
                              sg::predictions(ps.mutable_view(), right), none);
    CHECK(agree(ls.logical(), l_plain, copied(k)));
    CHECK(ps.logical() == p_plain);
    CHECK(right == right_plain);
    CHECK(ls.untouched_outside(fill));
  }
}

/// Probability and one-hot rows stored in the logits' layout.
template <std::size_t R>
void check_targets(const std::array<std::size_t, R>& sizes, kind k) {
  const std::size_t C = sizes[R - 1];
  std::size_t rows = 1;
  for (std::size_t r = 0; r + 1 < R; ++r) rows *= sizes[r];
  const auto x = random_logits(rows * C, 17 + C);
  const auto t = random_probabilities(rows, C, 3 + C);
  std::vector<float> hot(rows * C);
  for (std::size_t r = 0; r < rows; ++r) hot[r * C + (r * 7) % C] = 1.0f;
  const auto xs = store(x, sizes, k, 0.0f);
  const auto ts = store(t, sizes, k, -1.0f);
  const auto hs = store(hot, sizes, k, 5.0f);
  INFO("kind " << kind_name(k) << ", classes " << C << ", rank " << R);

  std::vector<float> g_plain(x.size());
  const float loss_plain = sg::softmax_cross_entropy(
      row_major<R>(x.data(), sizes), sg::probabilities(row_major<R>(t.data(), sizes)),
      row_major<R>(g_plain.data(), sizes));
  auto gs = store(std::vector<float>(x.size()), sizes, k, 0.0f);
  const float loss =
      sg::softmax_cross_entropy(xs.view(), sg::probabilities(ts.view()), gs.mutable_view());
  CHECK(loss == loss_plain);
  CHECK(bits_equal(gs.logical(), g_plain));

  sg::ce_options o;
  o.label_smoothing = 0.2f;
  const float hot_plain = sg::softmax_cross_entropy(
      row_major<R>(x.data(), sizes), sg::one_hot(row_major<R>(hot.data(), sizes)), o);
  CHECK(agree(sg::softmax_cross_entropy(xs.view(), sg::one_hot(hs.view()), o), hot_plain,
              copied(k)));
}

TEST_CASE("softmax cross-entropy on strided views equals the row-major call", "[softmax]") {
  for (kind k : {kind::left, kind::padded, kind::classes_first}) {
    for (std::size_t C : {2u, 3u, 5u, 8u, 10u, 17u, 33u, 100u, 1000u}) {
      check_indices<2>({37, C}, k);
      check_indices<3>({3, 13, C}, k);
      check_targets<2>({21, C}, k);
      check_targets<3>({2, 9, C}, k);
    }
    for (std::size_t C : {2u, 5u, 21u}) {
      check_indices<4>({2, 3, 5, C}, k);
      check_targets<4>({2, 3, 4, C}, k);
    }
  }
}

TEST_CASE("PyTorch's [N, C, H, W] through class_axis<1>", "[softmax]") {
  // logits and gradient in PyTorch's order, labels [N, H, W]
  const std::size_t N = 2, C = 21, H = 6, W = 7;
  const auto x = random_logits(N * C * H * W, 99);
  const auto y = random_labels(N * H * W, C, 98);
  // the same problem with the classes last, as the reference
  std::vector<float> last(x.size());
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t p = 0; p < H * W; ++p) last[(n * H * W + p) * C + c] = x[(n * C + c) * H * W + p];
  std::vector<float> g_last(x.size()), g(x.size());
  const float want = sg::softmax_cross_entropy(
      sg::tensor_view<const float, sg::extents<dyn, dyn, dyn, 21>>(last.data(), N, H, W),
      sg::tensor_view<const std::int64_t, sg::extents<dyn, dyn, dyn>>(y.data(), N, H, W),
      sg::tensor_view<float, sg::extents<dyn, dyn, dyn, 21>>(g_last.data(), N, H, W));

  const sg::tensor_view<const float, sg::extents<dyn, 21, dyn, dyn>> nchw(x.data(), N, H, W);
  const sg::tensor_view<float, sg::extents<dyn, 21, dyn, dyn>> grad(g.data(), N, H, W);
  const sg::tensor_view<const std::int64_t, sg::extents<dyn, dyn, dyn>> labels(y.data(), N, H, W);
  const float got =
      sg::softmax_cross_entropy(sg::class_axis<1>(nchw), labels, sg::class_axis<1>(grad));
  CHECK(agree(got, want, false));
  bool same = true;
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t p = 0; p < H * W; ++p)
        same &= agree(g[(n * C + c) * H * W + p], g_last[(n * H * W + p) * C + c], false);
  CHECK(same);
}

TEST_CASE("a row-major layout_stride view is solved in place, as layout_right", "[softmax]") {
  const auto x = random_logits(40 * 10, 4);
  const auto y = random_labels(40, 10, 4);
  using E = sg::extents<dyn, 10>;
  const sg::tensor_view<const float, E, sg::layout_stride> xs(x.data(), E(40), {10, 1});
  std::vector<float> g(x.size()), g_plain(x.size());
  const sg::tensor_view<float, E, sg::layout_stride> gs(g.data(), E(40), {10, 1});
  const float a = sg::softmax_cross_entropy(xs, y, gs);
  const float b = sg::softmax_cross_entropy(sg::tensor_view<const float, E>(x.data(), 40), y,
                                            sg::tensor_view<float, E>(g_plain.data(), 40));
  CHECK(a == b);
  CHECK(g == g_plain);
}

TEST_CASE("an in-place gradient through a strided view", "[softmax]") {
  const std::array<std::size_t, 2> sizes{19, 7};
  const auto x = random_logits(19 * 7, 8);
  const auto y = random_labels(19, 7, 8);
  std::vector<float> g_plain(x.size());
  const float want = sg::softmax_cross_entropy(row_major<2>(x.data(), sizes), y,
                                               row_major<2>(g_plain.data(), sizes));
  auto xs = store(x, sizes, kind::padded, 0.0f);
  const float got = sg::softmax_cross_entropy(xs.view(), y, xs.mutable_view());
  CHECK(got == want);
  CHECK(bits_equal(xs.logical(), g_plain));
  // column-major, in place: the column kernel reads each group of rows before it writes them
  auto cs = store(x, sizes, kind::left, 0.0f);
  CHECK(agree(sg::softmax_cross_entropy(cs.view(), y, cs.mutable_view()), want, false));
  CHECK(agree(cs.logical(), g_plain, false));
}

TEST_CASE("column calls the vector lanes cannot hold go to the reference", "[softmax]") {
  // class weights near float's largest value: the kernels hand such calls to the scalar
  // reference, the column kernel too (through a row-major copy of its rows)
  const std::array<std::size_t, 2> sizes{29, 6};
  const auto x = random_logits(29 * 6, 12);
  const auto y = random_labels(29, 6, 12);
  std::vector<float> weights(6, 1e38f);
  sg::ce_options o;
  o.class_weights = weights;
  std::vector<float> g_plain(x.size());
  const float want = sg::softmax_cross_entropy(row_major<2>(x.data(), sizes), y,
                                               row_major<2>(g_plain.data(), sizes), o);
  REQUIRE(std::isfinite(want));
  const auto xs = store(x, sizes, kind::left, 0.0f);
  auto gs = store(std::vector<float>(x.size()), sizes, kind::left, 0.0f);
  CHECK(sg::softmax_cross_entropy(xs.view(), y, gs.mutable_view(), o) == want);
  CHECK(bits_equal(gs.logical(), g_plain));
}

// ---- what is refused -----------------------------------------------------------------------

template <class F>
auto error_of(const F& f) -> std::pair<sg::error_kind, std::string> {
  try {
    f();
  } catch (const sg::shape_error& e) {
    return {e.kind(), e.what()};
  }
  return {sg::error_kind::invalid_option, "no error"};
}

TEST_CASE("outputs that repeat an element, or alias the logits another way, are refused",
          "[errors]") {
  using E = sg::extents<dyn, dyn>;
  std::vector<float> x = random_logits(4 * 5, 1);
  const std::vector<std::int64_t> y{0, 1, 2, 3};
  std::vector<float> g(4 * 5, -1.0f);
  const sg::tensor_view<const float, E> xv(x.data(), 4, 5);

  // a broadcast gradient: every row the same five floats
  const sg::tensor_view<float, E, sg::layout_stride> broadcast(g.data(), E(4, 5), {0, 1});
  auto [kind, what] = error_of([&] { (void)sg::softmax_cross_entropy(xv, y, broadcast); });
  CHECK(kind == sg::error_kind::output_mismatch);
  CHECK_THAT(what, Catch::Contains("more than once"));
  CHECK(g == std::vector<float>(20, -1.0f));

  // the logits' own buffer, read column-major: not an in-place gradient
  const sg::tensor_view<float, E, sg::layout_left> transposed(x.data(), 4, 5);
  const auto before = x;
  std::tie(kind, what) = error_of([&] { (void)sg::softmax_cross_entropy(xv, y, transposed); });
  CHECK(kind == sg::error_kind::output_mismatch);
  CHECK_THAT(what, Catch::Contains("overlaps logits"));
  CHECK(x == before);

  // per-sample losses at stride 0
  std::vector<float> l(4, -1.0f);
  const sg::tensor_view<float, sg::extents<dyn>, sg::layout_stride> one(l.data(),
                                                                       sg::extents<dyn>(4), {0});
  std::tie(kind, what) = error_of([&] {
    sg::softmax_cross_entropy(xv, y, sg::per_sample(one), {.reduction = sg::reduction::none});
  });
  CHECK(kind == sg::error_kind::output_mismatch);
  CHECK(l == std::vector<float>(4, -1.0f));
}

TEST_CASE("a bad label in a strided view is named at its row-major position", "[errors]") {
  const std::array<std::size_t, 2> sizes{6, 5};
  const std::array<std::size_t, 1> batch{6};
  const auto x = random_logits(30, 2);
  std::vector<std::int64_t> y{0, 1, 2, 3, 4, 0};
  y[4] = 9;
  const auto xs = store(x, sizes, kind::left, 0.0f);
  const auto ys = store(y, batch, kind::padded, std::int64_t{0});
  auto gs = store(std::vector<float>(30), sizes, kind::left, -1.0f);
  std::fill(gs.buffer.begin(), gs.buffer.end(), -1.0f);
  const auto [kind, what] =
      error_of([&] { (void)sg::softmax_cross_entropy(xs.view(), ys.view(), gs.mutable_view()); });
  const auto [kind_plain, what_plain] = error_of([&] {
    (void)sg::softmax_cross_entropy(row_major<2>(x.data(), sizes), y);
  });
  CHECK(kind == sg::error_kind::label_out_of_range);
  CHECK(what == what_plain);
  CHECK_THAT(what, Catch::Contains("label 9 at position 4"));
  CHECK(std::all_of(gs.buffer.begin(), gs.buffer.end(), [](float v) { return v == -1.0f; }));

  // a probability row that does not sum to 1, named by its row
  std::vector<float> t = random_probabilities(6, 5, 1);
  t[3 * 5 + 2] += 0.5f;
  const auto ts = store(t, sizes, kind::padded, 0.0f);
  const auto [k2, w2] =
      error_of([&] { (void)sg::softmax_cross_entropy(xs.view(), sg::probabilities(ts.view())); });
  const auto [k2_plain, w2_plain] = error_of([&] {
    (void)sg::softmax_cross_entropy(row_major<2>(x.data(), sizes),
                                    sg::probabilities(row_major<2>(t.data(), sizes)));
  });
  CHECK(k2 == sg::error_kind::invalid_probabilities);
  CHECK(w2 == w2_plain);

  // check_finite reads strided logits too
  auto bad = x;
  bad[2 * 5 + 1] = std::numeric_limits<float>::infinity();
  const auto bs = store(bad, sizes, kind::classes_first, 0.0f);
  sg::ce_options finite;
  finite.check_finite = true;
  y[4] = 1;
  const auto [k3, w3] = error_of([&] { (void)sg::softmax_cross_entropy(bs.view(), y, finite); });
  CHECK(k3 == sg::error_kind::non_finite);
  CHECK_THAT(w3, Catch::Contains("position 11"));
}

// ---- sigmoid -------------------------------------------------------------------------------

template <std::size_t R>
void check_sigmoid(const std::array<std::size_t, R>& sizes, kind k) {
  std::size_t n = 1;
  for (auto s : sizes) n *= s;
  const std::size_t C = sizes[R - 1];
  const auto x = random_logits(n, 31 + C);
  std::vector<float> t(n);
  std::mt19937_64 rng(C);
  for (auto& v : t) v = float(rng() % 5) / 4.0f;
  std::vector<std::uint8_t> hot(n);
  for (std::size_t i = 0; i < n; ++i) hot[i] = std::uint8_t(rng() % 2);
  std::vector<float> pos(C);
  for (std::size_t c = 0; c < C; ++c) pos[c] = 1.0f + float(c % 3);
  sg::bce_options o;
  o.pos_weight = pos;
  INFO("kind " << kind_name(k) << ", classes " << C << ", rank " << R);

  const auto xs = store(x, sizes, k, 0.0f);
  const auto ts = store(t, sizes, kind::padded, 0.0f);
  const auto hs = store(hot, sizes, k, std::uint8_t{7});
  std::vector<float> g_plain(n);
  const float want = sg::sigmoid_cross_entropy(row_major<R>(x.data(), sizes),
                                               row_major<R>(t.data(), sizes),
                                               row_major<R>(g_plain.data(), sizes), o);
  auto gs = store(std::vector<float>(n), sizes, k, -2.0f);
  CHECK(sg::sigmoid_cross_entropy(xs.view(), ts.view(), gs.mutable_view(), o) == want);
  CHECK(bits_equal(gs.logical(), g_plain));
  CHECK(gs.untouched_outside(-2.0f));

  sg::bce_options none;
  none.reduction = sg::reduction::none;
  std::vector<float> l_plain(n);
  sg::sigmoid_cross_entropy(row_major<R>(x.data(), sizes), row_major<R>(hot.data(), sizes),
                            sg::per_sample(row_major<R>(l_plain.data(), sizes)), none);
  auto ls = store(std::vector<float>(n), sizes, kind::padded, -2.0f);
  sg::sigmoid_cross_entropy(xs.view(), hs.view(), sg::per_sample(ls.mutable_view()), none);
  CHECK(bits_equal(ls.logical(), l_plain));
}

TEST_CASE("sigmoid cross-entropy on strided views equals the row-major call", "[sigmoid]") {
  for (kind k : {kind::left, kind::padded, kind::classes_first}) {
    for (std::size_t C : {1u, 3u, 8u, 17u, 100u}) {
      check_sigmoid<2>({29, C}, k);
      check_sigmoid<3>({3, 7, C}, k);
    }
    check_sigmoid<4>({2, 3, 4, 5}, k);
  }
  // more elements than one chunk of the strided path
  check_sigmoid<2>({3000, 7}, kind::left);
}

}  // namespace

namespace {

TEST_CASE("hints for logits in PyTorch's order and for flat logits", "[errors]") {
  std::vector<float> x(2 * 3 * 4 * 5);
  std::vector<std::int64_t> y(2 * 4 * 5);
  const sg::tensor_view<const float, sg::dims<4>> nchw(x.data(), 2, 3, 4, 5);
  const sg::tensor_view<const std::int64_t, sg::dims<3>> labels(y.data(), 2, 4, 5);
  const auto r = sg::try_check(nchw, labels);
  CHECK(r.kind() == sg::error_kind::batch_mismatch);
  CHECK_THAT(r.message(), Catch::Contains("logits [2, 3, 4, 5] have 3 but labels [2, 4, 5] have 4"));
  CHECK_THAT(r.message(), Catch::Contains("pass sg::class_axis<1>(logits)"));
  CHECK_THAT(r.message(), Catch::Contains("(3 classes)"));
  // and with it, the call is accepted
  CHECK(sg::try_check(sg::class_axis<1>(nchw), labels).ok());
  // a batch mismatch that no moved axis explains keeps the plain hint
  const sg::tensor_view<const std::int64_t, sg::dims<3>> other(y.data(), 2, 4, 4);
  const auto plain = sg::try_check(nchw, other);
  CHECK(plain.kind() == sg::error_kind::batch_mismatch);
  CHECK_THAT(plain.message(), !Catch::Contains("class_axis"));

  // N * C logits in one flat buffer, N labels
  std::vector<float> flat(6 * 5);
  std::vector<int> six(6);
  const auto f = sg::try_check(sg::tensor_view<const float, sg::dims<1>>(flat.data(), 30),
                               sg::tensor_view<const int, sg::dims<1>>(six.data(), 6));
  CHECK(f.kind() == sg::error_kind::rank_mismatch);
  CHECK_THAT(f.message(), Catch::Contains("view a flat buffer of N * C logits as [N, C]"));
}

}  // namespace
