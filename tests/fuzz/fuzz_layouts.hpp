// The fuzz target fuzz_layouts (fuzz_layouts.cpp: float logits, fuzz_layouts_double.cpp:
// double logits, two units that compile side by side): views of every layout. Each input
// describes one call of softmax_cross_entropy or sigmoid_cross_entropy (logits of rank 2 to 4,
// float or double; class indices of int64 or int32, probability rows, one-hot rows; floating targets or multi-hot labels for the sigmoid;
// the options, and up to two outputs of gradient, per-sample losses and predictions), and for
// each of its views (logits, labels, gradient, per-sample losses, predictions) a layout:
// row-major, column-major, padded strides, the class axis stored first (then class_axis), or
// random strides; inputs sometimes broadcast (a stride 0), outputs sometimes reach an element
// twice or alias an input. The oracle is the same call on row-major copies of the same
// tensors, on every instruction set:
//
//   both succeed with the same bits (loss, gradient, per-sample losses, predictions, the count
//   of rows predicted right; NaN matches NaN), or both fail with the same error kind and the
//   same what(); a call whose outputs only the strided views make invalid (not unique, or
//   sharing an input's memory other than as an in-place gradient) fails with output_mismatch
//   (or with the oracle's own error, when a check before the outputs' fails). A failing call
//   changes no byte of any buffer, padding included; a call that succeeds changes no element
//   that its output views do not reach, and no input (but the logits under an in-place
//   gradient). try_check and check agree with the call.
//
// One documented exception to "the same bits" (tests/test_layouts.cpp): float class-index and
// one-hot rows whose rows are the contiguous axis (logits stride 1 on the axis before the
// classes, grad likewise) are solved where they lie by the column kernel on the sets that have
// one for this class count (avx2, avx512); the loss, the gradient and per-sample losses are
// then held to the row-major call within a tolerance (1e-5 relative, plus an absolute term from
// the row's coefficients and logits), NaN and infinities exactly, predictions exactly.
#pragma once

#include "fuzz_common.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace fuzz::layouts {

using K = sg::error_kind;

// ---------------------------------------------------------------------------------------------
// Statistics, printed at exit when SHAPEGUARD_FUZZ_STATS is set.

enum class layout_kind : std::uint8_t {
  right,        ///< row-major
  left,         ///< column-major (a layout_left view, as layout_stride)
  padded,       ///< row-major with gaps after every run, the last axis at stride 1 or 2
  class_first,  ///< stored with the last axis second (first at rank 2), then class_axis
  random,       ///< random strides (outputs: nested, so that the view is unique)
  broadcast,    ///< inputs: another layout with a stride 0
  not_unique,   ///< outputs: a stride 0, a repeated stride, or overlapping axes
  alias,        ///< outputs: inside an input's memory (grad: the logits' under another layout)
  in_place,     ///< grad: the logits' own memory and strides
};
inline constexpr std::size_t layout_kinds = 9;

inline auto name(layout_kind k) -> const char* {
  static const char* const names[] = {"right",     "left",       "padded",
                                      "class_first", "random",   "broadcast",
                                      "not_unique", "alias",     "in_place"};
  return names[static_cast<std::size_t>(k)];
}

struct layout_counters {
  std::atomic<std::uint64_t> inputs{0}, skipped{0}, both_ok{0}, both_failed{0},
      refused_strided_only{0}, column_tolerance{0}, all_row_major{0}, isa_runs{0};
  std::array<std::atomic<std::uint64_t>, layout_kinds> kinds{};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(K::single_class) + 1> by_kind{};
};
inline auto counters() -> layout_counters& {
  static layout_counters c;
  return c;
}
inline void print_counters() {
  auto& c = counters();
  std::fprintf(stderr,
               "shapeguard fuzz_layouts stats: inputs %llu, skipped %llu, calls compared with "
               "success %llu, with the same error %llu, refused for strided outputs only %llu, "
               "compared within the column kernel's tolerance %llu, all views row-major %llu, "
               "instruction-set runs %llu; views by layout:",
               (unsigned long long)c.inputs, (unsigned long long)c.skipped,
               (unsigned long long)c.both_ok, (unsigned long long)c.both_failed,
               (unsigned long long)c.refused_strided_only,
               (unsigned long long)c.column_tolerance, (unsigned long long)c.all_row_major,
               (unsigned long long)c.isa_runs);
  for (std::size_t k = 0; k < layout_kinds; ++k)
    std::fprintf(stderr, " %s %llu", name(static_cast<layout_kind>(k)),
                 (unsigned long long)c.kinds[k]);
  std::fprintf(stderr, "; errors by kind:");
  for (std::size_t k = 0; k < c.by_kind.size(); ++k)
    std::fprintf(stderr, " %s %llu", sg::to_string(static_cast<K>(k)).data(),
                 (unsigned long long)c.by_kind[k]);
  std::fprintf(stderr, "\n");
}

// ---------------------------------------------------------------------------------------------
// Shapes and strides.

template <std::size_t R>
auto dims_of(const std::array<std::size_t, R>& e) -> sg::dims<R> {
  return std::apply([](auto... n) { return sg::dims<R>(n...); }, e);
}

template <std::size_t R>
auto count_of(const std::array<std::size_t, R>& e) -> std::size_t {
  std::size_t n = 1;
  for (auto v : e) n *= v;
  return n;
}

/// 1 + the largest offset; 0 for an empty view.
template <std::size_t R>
auto span_of(const std::array<std::size_t, R>& e, const std::array<std::size_t, R>& st)
    -> std::size_t {
  if (count_of(e) == 0) return 0;
  std::size_t span = 1;
  for (std::size_t r = 0; r < R; ++r) span += (e[r] - 1) * st[r];
  return span;
}

template <std::size_t R>
auto right_strides(const std::array<std::size_t, R>& e) -> std::array<std::size_t, R> {
  const sg::layout_right::mapping<sg::dims<R>> m(dims_of(e));
  std::array<std::size_t, R> st{};
  for (std::size_t r = 0; r < R; ++r) st[r] = m.stride(r);
  return st;
}

/// Column-major strides, read from a layout_left view converted to layout_stride.
template <std::size_t R>
auto left_strides(const std::array<std::size_t, R>& e) -> std::array<std::size_t, R> {
  static float dummy = 0;
  const sg::tensor_view<const float, sg::dims<R>, sg::layout_left> left(&dummy, dims_of(e));
  const sg::tensor_view<const float, sg::dims<R>, sg::layout_stride> strided = left;
  std::array<std::size_t, R> st{};
  for (std::size_t r = 0; r < R; ++r) st[r] = strided.stride(r);
  return st;
}

/// The tensor stored with its last axis at position A (1 from rank 3, 0 at rank 2, as
/// PyTorch's [N, C, H, W] and a transposed matrix), then class_axis<A>: the strides of the
/// view with the logical axes in order.
template <std::size_t R>
auto class_first_strides(const std::array<std::size_t, R>& e) -> std::array<std::size_t, R> {
  if constexpr (R < 2) {
    return right_strides(e);
  } else {
    constexpr std::size_t A = R >= 3 ? 1 : 0;
    std::array<std::size_t, R> physical{};
    for (std::size_t r = 0; r < R; ++r)
      physical[r] = r < A ? e[r] : r == A ? e[R - 1] : e[r - 1];
    static float dummy = 0;
    const sg::tensor_view<const float, sg::dims<R>> stored(&dummy, dims_of(physical));
    const auto moved = sg::class_axis<A>(stored);
    std::array<std::size_t, R> st{};
    for (std::size_t r = 0; r < R; ++r) {
      FUZZ_REQUIRE(moved.extent(r) == e[r], "class_axis<{}> of {} moved axis {} wrong", A,
                   stored.extents(), r);
      st[r] = moved.stride(r);
    }
    return st;
  }
}

template <std::size_t R>
auto padded_strides(source& s, const std::array<std::size_t, R>& e) -> std::array<std::size_t, R> {
  std::array<std::size_t, R> st{};
  std::size_t step = 1 + s.below(2);
  for (std::size_t r = R; r-- > 0;) {
    st[r] = step;
    step = step * std::max<std::size_t>(e[r], 1) + s.below(4);
  }
  return st;
}

/// Strides the input chooses: any, for inputs (they may repeat elements); nested for outputs,
/// each axis of extent > 1 stepping past the whole span of the ones before it in an order the
/// input chooses (unique, by layout_stride's test as well).
template <std::size_t R>
auto random_strides(source& s, const std::array<std::size_t, R>& e, bool output)
    -> std::array<std::size_t, R> {
  std::array<std::size_t, R> st{};
  if (!output) {
    for (auto& v : st) v = s.one_in(4) ? s.below(3) : s.below(48);
    return st;
  }
  std::array<std::size_t, R> order{};
  for (std::size_t r = 0; r < R; ++r) order[r] = r;
  for (std::size_t r = R; r > 1; --r) std::swap(order[r - 1], order[s.below(r)]);
  std::size_t reach = 0;
  for (std::size_t r : order) {
    if (e[r] <= 1) {
      st[r] = s.below(8);
      continue;
    }
    st[r] = reach + 1 + s.below(3);
    reach += (e[r] - 1) * st[r];
  }
  return st;
}

/// Strides under which some two indices share an element, where the extents allow it (an axis
/// of extent > 1); otherwise row-major ones.
template <std::size_t R>
auto colliding_strides(source& s, const std::array<std::size_t, R>& e)
    -> std::array<std::size_t, R> {
  auto st = s.one_in(2) ? right_strides(e) : padded_strides(s, e);
  std::array<std::size_t, R> multi{};
  std::size_t n = 0;
  for (std::size_t r = 0; r < R; ++r)
    if (e[r] > 1) multi[n++] = r;
  if (n == 0) return st;
  const std::size_t mode = n >= 2 ? s.below(3) : 0;
  const std::size_t a = multi[s.below(n)];
  if (mode == 0) {
    st[a] = 0;  // a broadcast output
  } else {
    std::size_t b = multi[s.below(n - 1)];
    if (b == a) b = multi[n - 1];
    if (mode == 1)
      st[a] = st[b];  // (1 on a) and (1 on b) meet
    else
      st[a] = st[b] * (e[b] - 1);  // (1 on a) meets (e[b] - 1 on b)
  }
  return st;
}

/// Whether no two indices share an offset, by enumeration.
template <std::size_t R>
auto unique_by_enumeration(const std::array<std::size_t, R>& e,
                           const std::array<std::size_t, R>& st) -> bool {
  const std::size_t n = count_of(e);
  std::vector<std::size_t> offsets(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t rest = i, off = 0;
    for (std::size_t r = R; r-- > 0;) {
      off += (rest % e[r]) * st[r];
      rest /= e[r];
    }
    offsets[i] = off;
  }
  std::sort(offsets.begin(), offsets.end());
  return std::adjacent_find(offsets.begin(), offsets.end()) == offsets.end();
}

/// Whether an output view counts as unique by layout_stride's documented test (sufficient, not
/// necessary): ordered by stride, each axis of extent > 1 steps past the whole span of the
/// axes before it. Interleaved axes that happen never to meet fail it too; an empty view
/// passes.
template <std::size_t R>
auto nested(const std::array<std::size_t, R>& e, const std::array<std::size_t, R>& st) -> bool {
  if (count_of(e) == 0) return true;
  std::vector<std::size_t> axes;
  for (std::size_t r = 0; r < R; ++r)
    if (e[r] > 1) axes.push_back(r);
  std::sort(axes.begin(), axes.end(), [&](std::size_t a, std::size_t b) { return st[a] < st[b]; });
  std::size_t reach = 0;
  for (std::size_t r : axes) {
    if (st[r] <= reach) return false;
    reach += (e[r] - 1) * st[r];
  }
  FUZZ_REQUIRE(unique_by_enumeration(e, st), "nested strides [{}] on {} repeat an element",
               fmt::join(st, ", "), dims_of(e));
  return true;
}

/// Element i of v, in row-major order, at data() + i (the library's own shortcut: axes of
/// extent 1 have any stride, an empty view is row-major).
template <std::size_t R>
auto row_major(const std::array<std::size_t, R>& e, const std::array<std::size_t, R>& st)
    -> bool {
  if (count_of(e) == 0) return true;
  std::size_t expect = 1;
  for (std::size_t r = R; r-- > 0;) {
    if (e[r] != 1 && st[r] != expect) return false;
    expect *= e[r];
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Memory: exact heap allocations (AddressSanitizer sees a step past one), snapshots of them.

template <class E>
struct heap {
  std::unique_ptr<E[]> p;
  std::size_t n = 0;
  explicit heap(std::size_t elements = 0)
      : p(new E[std::max<std::size_t>(elements, 1)]()), n(elements) {}
  auto get() const -> E* { return p.get(); }
};

/// A region of bytes to snapshot, restore and compare.
struct region {
  unsigned char* data;
  std::size_t bytes;
  const char* what;
  int side;  // 1: the strided call's, 2: the row-major call's, 3: both calls read it
  std::vector<unsigned char> saved;
  void save() { saved.assign(data, data + bytes); }
  void restore() const {
    if (bytes) std::memcpy(data, saved.data(), bytes);
  }
  auto unchanged() const -> bool { return bytes == 0 || std::memcmp(data, saved.data(), bytes) == 0; }
};


/// A tensor as the strided call sees it: extents, strides, and the allocation its data lie in
/// (its own, or an input's for an alias or an in-place gradient), `start` elements in.
template <class E, std::size_t R>
struct tensor {
  std::array<std::size_t, R> e{}, st{};
  layout_kind kind = layout_kind::right;
  std::shared_ptr<heap<E>> memory = std::make_shared<heap<E>>();
  std::size_t start = 0;
  bool owns = true;  // false: the memory is another tensor's

  auto count() const -> std::size_t { return count_of(e); }
  auto span() const -> std::size_t { return span_of(e, st); }
  auto data() const -> E* { return memory->get() + start; }
  auto offset(std::size_t flat) const -> std::size_t {
    std::size_t off = 0;
    for (std::size_t r = R; r-- > 0;) {
      off += (flat % e[r]) * st[r];
      flat /= e[r];
    }
    return off;
  }
  auto at(std::size_t flat) const -> E& { return data()[offset(flat)]; }
  auto view() const {
    return sg::tensor_view<E, sg::dims<R>, sg::layout_stride>(data(), dims_of(e), st);
  }
  auto const_view() const {
    return sg::tensor_view<const E, sg::dims<R>, sg::layout_stride>(data(), dims_of(e), st);
  }
  auto bytes_begin() const -> std::uintptr_t { return reinterpret_cast<std::uintptr_t>(data()); }
  auto bytes() const -> std::size_t { return span() * sizeof(E); }
  /// The elements in row-major order.
  auto logical() const -> std::vector<E> {
    std::vector<E> out(count());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = at(i);
    return out;
  }
  /// Which elements of the allocation the view reaches.
  auto reached() const -> std::vector<char> {
    std::vector<char> r(memory->n);
    for (std::size_t i = 0; i < count(); ++i) r[start + offset(i)] = 1;
    return r;
  }
  auto text() const -> std::string {
    return fmt::format("{} {} strides [{}] at +{} of {}", name(kind), dims_of(e),
                       fmt::join(st, ", "), start, memory->n);
  }
};

/// Whether the byte ranges the views can reach (from data() to the largest offset) meet.
template <class A, class B>
auto spans_meet(const A& a, const B& b) -> bool {
  const std::size_t n = a.bytes(), m = b.bytes();
  if (n == 0 || m == 0) return false;
  const auto x = a.bytes_begin(), y = b.bytes_begin();
  return x < y + m && y < x + n;
}

/// Whether two views reach the same elements in the same order (an in-place gradient).
template <class A, class B>
auto same_elements(const A& a, const B& b) -> bool {
  if (a.bytes_begin() != b.bytes_begin()) return false;
  for (std::size_t r = 0; r < a.e.size(); ++r)
    if (a.e[r] != b.e[r] || (a.e[r] > 1 && a.st[r] != b.st[r])) return false;
  return true;
}

/// The layouts the input chooses for an input view and for an output view.
inline auto input_layout(source& s) -> layout_kind {
  const std::uint8_t b = s.byte();
  if (b < 56) return layout_kind::right;
  if (b < 100) return layout_kind::left;
  if (b < 144) return layout_kind::padded;
  if (b < 190) return layout_kind::class_first;
  if (b < 230) return layout_kind::random;
  return layout_kind::broadcast;
}
inline auto output_layout(source& s) -> layout_kind {
  const std::uint8_t b = s.byte();
  if (b < 56) return layout_kind::right;
  if (b < 100) return layout_kind::left;
  if (b < 144) return layout_kind::padded;
  if (b < 186) return layout_kind::class_first;
  if (b < 226) return layout_kind::random;
  if (b < 242) return layout_kind::not_unique;
  return layout_kind::alias;
}

/// Strides of kind k (neither alias nor in_place).
template <std::size_t R>
auto strides_for(source& s, layout_kind k, const std::array<std::size_t, R>& e, bool output)
    -> std::array<std::size_t, R> {
  switch (k) {
    case layout_kind::left: return left_strides(e);
    case layout_kind::padded: return padded_strides(s, e);
    case layout_kind::class_first: return class_first_strides(e);
    case layout_kind::random: return random_strides(s, e, output);
    case layout_kind::broadcast: {
      auto st = s.one_in(2) ? right_strides(e) : padded_strides(s, e);
      st[s.below(R)] = 0;
      return st;
    }
    case layout_kind::not_unique: return colliding_strides(s, e);
    default: return right_strides(e);
  }
}

/// A tensor of kind k in an allocation of its own, with a few elements before and after the
/// view, every element `fill`.
template <class E, std::size_t R>
auto own_tensor(source& s, layout_kind k, const std::array<std::size_t, R>& e, bool output,
                E fill) -> tensor<E, R> {
  tensor<E, R> t;
  t.e = e;
  t.kind = k;
  t.st = strides_for(s, k, e, output);
  if (span_of(e, t.st) > (std::size_t{1} << 20)) {  // (random strides on many elements)
    t.kind = layout_kind::right;
    t.st = right_strides(e);
  }
  t.start = s.below(3);
  const std::size_t after = s.below(3);
  t.memory = std::make_shared<heap<E>>(t.start + t.span() + after);
  std::fill(t.memory->get(), t.memory->get() + t.memory->n, fill);
  ++counters().kinds[static_cast<std::size_t>(t.kind)];
  return t;
}

/// An output view inside `host`'s allocation: row-major, column-major, or (of the host's
/// rank) the host's strides a few elements on, at an offset the input chooses; none when it
/// does not fit.
template <class E, std::size_t R, std::size_t HR>
auto alias_into(source& s, const tensor<E, HR>& host, const std::array<std::size_t, R>& e)
    -> std::optional<tensor<E, R>> {
  tensor<E, R> t;
  t.e = e;
  t.kind = layout_kind::alias;
  t.memory = host.memory;
  t.owns = false;
  const std::size_t room = host.memory->n;
  const std::size_t mode = s.below(3);
  if constexpr (R == HR) {
    if (mode == 2) {
      t.st = host.st;
      t.start = host.start + 1 + s.below(2);
      if (t.span() == 0 || t.start + t.span() > room) return std::nullopt;
      ++counters().kinds[static_cast<std::size_t>(t.kind)];
      return t;
    }
  }
  t.st = mode == 0 ? right_strides(e) : left_strides(e);
  if (t.span() == 0 || t.span() > room) return std::nullopt;
  t.start = s.below(room - t.span() + 1);
  ++counters().kinds[static_cast<std::size_t>(t.kind)];
  return t;
}

// ---------------------------------------------------------------------------------------------
// Values.

inline auto batch_extent_small(source& s) -> std::size_t {
  const std::uint8_t b = s.byte();
  if (b < 8) return 0;
  if (b < 200) return 1 + b % 5;
  if (b < 245) return 6 + b % 7;
  return 13 + s.below(300);  // long enough to cross a chunk of the strided copies
}
inline auto class_count(source& s) -> std::size_t {
  const std::uint8_t b = s.byte();
  if (b < 4) return 0;
  return 1 + b % 40;
}

template <class T>
auto logit(source& s, std::uint8_t regime) -> T {
  if (regime < 140) return T(s.unit() * 16.0 - 8.0);
  if (regime < 190) return T(double(s.next() % 5) - 2.0);  // ties for the argmax
  if (regime < 235) {
    if (s.next() % 5 == 0) return special_value<T>(s);
    return T(s.unit() * 8.0 - 4.0);
  }
  const double v = std::pow(10.0, (s.unit() * 2.0 - 1.0) * 30.0);
  return T(s.next() % 2 ? v : -v);
}

inline auto weight_of(source& s) -> float {
  const std::uint8_t b = s.byte();
  if (b < 140) return float(s.unit() * 3.0);
  if (b < 180) return 1.0f;
  if (b < 210) return 0.0f;
  return s.pick({0.5f, 2.0f, 1e-3f, 10.0f});
}

/// One weight per class; sometimes one too many, or one refused (negative, NaN).
inline auto weights_of(source& s, std::size_t classes) -> std::vector<float> {
  std::vector<float> w(s.one_in(16) ? classes + 1 : classes);
  for (auto& v : w) v = weight_of(s);
  if (!w.empty() && s.one_in(12))
    w[s.below(w.size())] = s.one_in(2) ? -1.0f : std::numeric_limits<float>::quiet_NaN();
  return w;
}

inline auto smoothing_of(source& s) -> float {
  const std::uint8_t b = s.byte();
  if (b < 150) return 0.0f;
  if (b < 220) return float(s.unit());
  if (b < 250) return 0.1f;
  return s.pick({1.0f, -0.1f, 1.5f, std::numeric_limits<float>::quiet_NaN()});
}

enum class labels_kind : std::uint8_t { i64, i32, probabilities, one_hot, targets, multi_hot };

inline auto name(labels_kind k) -> const char* {
  static const char* const names[] = {"int64 indices", "int32 indices", "probabilities",
                                      "one-hot",       "bce targets",   "multi-hot"};
  return names[static_cast<std::size_t>(k)];
}

template <class T, labels_kind L>
using label_t = std::conditional_t<
    L == labels_kind::i64, std::int64_t,
    std::conditional_t<L == labels_kind::i32, std::int32_t,
                       std::conditional_t<L == labels_kind::one_hot || L == labels_kind::multi_hot,
                                          std::uint8_t, T>>>;

/// The labels as the call takes them.
template <labels_kind L, class V>
auto wrap(const V& v) {
  if constexpr (L == labels_kind::i32)
    return sg::class_indices(v);
  else if constexpr (L == labels_kind::probabilities)
    return sg::probabilities(v);
  else if constexpr (L == labels_kind::one_hot)
    return sg::one_hot(v);
  else
    return v;
}

/// Row-major label values: `rows` rows of `row` elements (1 for class indices).
template <labels_kind L, class Y>
void fill_labels(source& s, std::vector<Y>& y, std::size_t row, std::size_t classes,
                 std::int64_t ignore) {
  const bool corrupt = s.one_in(6);
  const std::size_t rate = 1 + s.below(24);
  const std::uint8_t style = s.byte();
  if constexpr (L == labels_kind::i64 || L == labels_kind::i32) {
    const bool ignored = s.one_in(3);
    for (auto& v : y) {
      v = classes ? static_cast<Y>(s.next() % classes) : Y(0);
      if (ignored && s.next() % 4 == 0 && std::in_range<Y>(ignore)) v = static_cast<Y>(ignore);
      if (corrupt && s.next() % rate == 0) {
        switch (s.next() % 4) {
          case 0: v = static_cast<Y>(classes); break;
          case 1: v = Y(-1); break;
          case 2: v = static_cast<Y>(classes + 7); break;
          default: v = std::numeric_limits<Y>::max(); break;
        }
      }
    }
  } else if constexpr (L == labels_kind::targets || L == labels_kind::multi_hot) {
    for (auto& v : y) {
      if constexpr (L == labels_kind::multi_hot)
        v = static_cast<Y>(s.next() % 2);
      else
        v = style < 128 ? Y(double(s.next() % 5) / 4.0) : Y(s.unit());
      if (corrupt && s.next() % (rate * 4) == 0) {
        if constexpr (L == labels_kind::multi_hot)
          v = Y(2);
        else
          v = s.next() % 2 ? Y(-0.25) : s.next() % 2 ? Y(1.25) : std::numeric_limits<Y>::quiet_NaN();
      }
    }
  } else {
    if (row == 0) return;
    const std::size_t rows = y.size() / row;
    std::vector<double> r(row);
    for (std::size_t i = 0; i < rows; ++i) {
      Y* out = y.data() + i * row;
      const std::size_t hot = s.next() % row;
      if (L == labels_kind::one_hot || style < 90) {
        for (std::size_t c = 0; c < row; ++c) out[c] = Y(c == hot ? 1 : 0);
      } else if (style < 120) {
        for (std::size_t c = 0; c < row; ++c) out[c] = Y(1.0 / double(row));
      } else {
        double sum = 0;
        for (auto& v : r) sum += (v = s.next() % 4 == 0 ? 0.0 : s.unit());
        if (sum == 0) r[hot] = sum = 1;
        for (std::size_t c = 0; c < row; ++c) out[c] = Y(r[c] / sum);
      }
      if (corrupt && s.next() % rate == 0) {
        const std::size_t c = s.next() % row;
        if constexpr (L == labels_kind::one_hot)
          out[c] = s.pick({Y(0), Y(1), Y(2)});
        else
          out[c] = s.pick({Y(-1e-3), Y(0.5), Y(2), std::numeric_limits<Y>::quiet_NaN()});
      }
    }
  }
  (void)classes;
  (void)ignore;
}

template <class Y>
constexpr auto label_poison() -> Y {
  if constexpr (std::is_floating_point_v<Y>)
    return std::numeric_limits<Y>::quiet_NaN();
  else if constexpr (sizeof(Y) == 1)
    return Y(3);
  else
    return Y(1 << 30);
}

// ---------------------------------------------------------------------------------------------
// The calls.

enum class mode { call, try_check, check };

struct outcome {
  bool ok = true;
  K kind{};
  std::string message;
  std::array<unsigned char, sizeof(double)> loss{};  // the returned loss's bytes
  long double value = 0;
  bool has_loss = false;
};

template <class F>
auto capture(const F& f) -> outcome {
  outcome out;
  try {
    f(out);
  } catch (const sg::shape_error& e) {
    out.ok = false;
    out.kind = e.kind();
    out.message = e.what();
  }
  return out;
}
template <class T>
void keep(outcome& out, T loss) {
  std::memcpy(out.loss.data(), &loss, sizeof(T));
  out.value = loss;
  out.has_loss = true;
}
inline auto from_result(const sg::check_result& r) -> outcome {
  outcome out;
  out.ok = r.ok();
  if (!out.ok) {
    out.kind = r.kind();
    out.message = r.message();
  }
  return out;
}

/// Forms: 0 the loss, 1 + grad, 2 + per-sample losses, 3 + predictions, 4 grad and losses,
/// 5 grad and predictions, 6 losses and predictions.
template <mode M, class X, class Y, class G, class L, class P>
auto softmax(int form, const X& x, const Y& y, const G& g, const L& l, const P& p,
             const sg::ce_options& o) -> outcome {
  if constexpr (M == mode::try_check) {
    switch (form) {
      case 0: return from_result(sg::try_check(x, y, o));
      case 1: return from_result(sg::try_check(x, y, g, o));
      case 2: return from_result(sg::try_check(x, y, sg::per_sample(l), o));
      case 3: return from_result(sg::try_check(x, y, p, o));
      case 4: return from_result(sg::try_check(x, y, g, sg::per_sample(l), o));
      case 5: return from_result(sg::try_check(x, y, p, g, o));
      default: return from_result(sg::try_check(x, y, sg::per_sample(l), p, o));
    }
  } else if constexpr (M == mode::check) {
    return capture([&](outcome&) {
      switch (form) {
        case 0: sg::check(x, y, o); break;
        case 1: sg::check(x, y, g, o); break;
        case 2: sg::check(x, y, sg::per_sample(l), o); break;
        case 3: sg::check(x, y, p, o); break;
        case 4: sg::check(x, y, g, sg::per_sample(l), o); break;
        case 5: sg::check(x, y, p, g, o); break;
        default: sg::check(x, y, sg::per_sample(l), p, o); break;
      }
    });
  } else {
    return capture([&](outcome& out) {
      switch (form) {
        case 0: keep(out, sg::softmax_cross_entropy(x, y, o)); break;
        case 1: keep(out, sg::softmax_cross_entropy(x, y, g, o)); break;
        case 2: sg::softmax_cross_entropy(x, y, sg::per_sample(l), o); break;
        case 3: keep(out, sg::softmax_cross_entropy(x, y, p, o)); break;
        case 4: sg::softmax_cross_entropy(x, y, g, sg::per_sample(l), o); break;
        case 5: keep(out, sg::softmax_cross_entropy(x, y, p, g, o)); break;
        default: sg::softmax_cross_entropy(x, y, sg::per_sample(l), p, o); break;
      }
    });
  }
}

/// Forms: 0 the loss, 1 + grad, 2 + per-element losses, 3 both.
template <mode M, class X, class Y, class G, class L>
auto sigmoid(int form, const X& x, const Y& y, const G& g, const L& l, const sg::bce_options& o)
    -> outcome {
  if constexpr (M == mode::try_check) {
    switch (form) {
      case 0: return from_result(sg::try_check(x, y, o));
      case 1: return from_result(sg::try_check(x, y, g, o));
      case 2: return from_result(sg::try_check(x, y, sg::per_sample(l), o));
      default: return from_result(sg::try_check(x, y, sg::per_sample(l), g, o));
    }
  } else if constexpr (M == mode::check) {
    return capture([&](outcome&) {
      switch (form) {
        case 0: sg::check(x, y, o); break;
        case 1: sg::check(x, y, g, o); break;
        case 2: sg::check(x, y, sg::per_sample(l), o); break;
        default: sg::check(x, y, sg::per_sample(l), g, o); break;
      }
    });
  } else {
    return capture([&](outcome& out) {
      switch (form) {
        case 0: keep(out, sg::sigmoid_cross_entropy(x, y, o)); break;
        case 1: keep(out, sg::sigmoid_cross_entropy(x, y, g, o)); break;
        case 2: sg::sigmoid_cross_entropy(x, y, sg::per_sample(l), o); break;
        default: sg::sigmoid_cross_entropy(x, y, g, sg::per_sample(l), o); break;
      }
    });
  }
}

inline auto outcome_text(const outcome& o) -> std::string {
  if (o.ok) return o.has_loss ? fmt::format("ok, loss {}", static_cast<double>(o.value)) : "ok";
  return fmt::format("{}: {}", sg::to_string(o.kind), o.message);
}

/// Kinds of the checks after the outputs' (label values, finite logits).
inline auto value_stage(K k) -> bool {
  return k == K::label_out_of_range || k == K::invalid_one_hot ||
         k == K::invalid_probabilities || k == K::non_finite;
}

/// The strided outcome against the oracle's. `refused`: the strided outputs are invalid (not
/// unique, or sharing an input's memory), which only the strided call sees.
inline void require_same(const outcome& got, const outcome& want, bool refused,
                         const std::string& where) {
  if (refused) {
    FUZZ_REQUIRE(!got.ok, "{}: strided outputs that repeat elements or alias an input were "
                 "accepted; row-major: {}", where, outcome_text(want));
    const bool same = !want.ok && got.kind == want.kind && got.message == want.message;
    if (!want.ok && (want.kind == K::invalid_option || want.kind == K::output_mismatch)) {
      // a check of the options (before the outputs') or of the outputs themselves (a
      // malformed output, predictions counted without classes) failed on the row-major
      // views: that one, or the strided outputs' own
      FUZZ_REQUIRE(same || got.kind == K::output_mismatch, "{}: strided {} but row-major {}",
                   where, outcome_text(got), outcome_text(want));
    } else if (!want.ok && !value_stage(want.kind)) {
      // a check of the shapes, before the outputs': the same one first
      FUZZ_REQUIRE(same, "{}: strided {} but row-major {}", where, outcome_text(got),
                   outcome_text(want));
    } else {
      // the row-major call passed, or failed at a label value or a logit, which are checked
      // after the outputs
      FUZZ_REQUIRE(got.kind == K::output_mismatch, "{}: strided {}, expected output_mismatch "
                   "(row-major: {})", where, outcome_text(got), outcome_text(want));
    }
    return;
  }
  FUZZ_REQUIRE(got.ok == want.ok && (got.ok || (got.kind == want.kind && got.message == want.message)),
               "{}: strided {} but row-major {}", where, outcome_text(got), outcome_text(want));
}

template <class T>
auto same_bits(T a, T b) -> bool {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) && std::isnan(b)) return true;
  }
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

/// Within the column kernel's tolerance: NaN and infinities exactly, else |a - b| <= tol.
inline auto close(long double a, long double b, long double tol) -> bool {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= tol;
}

// ---------------------------------------------------------------------------------------------
// One case.

template <class T, std::size_t R, labels_kind LK>
void run(source& s) {
  static_assert(R >= 2 && R <= 4);
  constexpr bool bce = LK == labels_kind::targets || LK == labels_kind::multi_hot;
  constexpr bool indices = LK == labels_kind::i64 || LK == labels_kind::i32;
  constexpr bool as_indices = indices || LK == labels_kind::one_hot;
  constexpr std::size_t B = R - 1;
  constexpr std::size_t LR = indices ? B : R;  // the labels' rank
  constexpr std::size_t SR = bce ? R : B;      // per-sample losses' rank
  using Y = label_t<T, LK>;
  using P = std::int64_t;
  auto& st = counters();
  ++st.inputs;

  // --- shapes ---
  std::array<std::size_t, R> xe{};
  for (std::size_t a = 0; a < B; ++a) xe[a] = batch_extent_small(s);
  xe[B] = class_count(s);
  {
    std::size_t rest = 1;
    for (std::size_t a = 1; a < R; ++a) rest *= xe[a];
    if (rest != 0 && count_of(xe) > (std::size_t{1} << 16))
      xe[0] = std::max<std::size_t>(1, (std::size_t{1} << 16) / rest);
  }
  const std::size_t classes = xe[B];
  auto mutate = [&](auto& e) {
    const std::size_t a = s.below(e.size());
    e[a] = s.one_in(2) ? e[a] + 1 : e[a] == 0 ? 2 : e[a] - 1;
  };
  std::array<std::size_t, LR> ye{};
  for (std::size_t a = 0; a < LR; ++a) ye[a] = xe[a];
  if (s.one_in(20)) mutate(ye);

  // --- outputs ---
  const int form = static_cast<int>(s.below(bce ? 4 : 7));
  const bool has_grad = bce ? (form == 1 || form == 3) : (form == 1 || form == 4 || form == 5);
  const bool has_losses = bce ? form >= 2 : (form == 2 || form == 4 || form == 6);
  const bool has_preds = !bce && (form == 3 || form == 5 || form == 6);
  const bool in_place = has_grad && s.one_in(5);
  std::array<std::size_t, R> ge = xe;
  if (has_grad && !in_place && s.one_in(32)) mutate(ge);
  std::array<std::size_t, SR> le{};
  for (std::size_t a = 0; a < SR; ++a) le[a] = xe[a];
  if (has_losses && s.one_in(32)) mutate(le);
  std::array<std::size_t, B> pe{};
  for (std::size_t a = 0; a < B; ++a) pe[a] = xe[a];
  if (has_preds && s.one_in(32)) mutate(pe);
  const bool count_right = has_preds && s.one_in(2);

  // --- options ---
  std::vector<float> weights, pos_weights;
  sg::ce_options o;
  sg::bce_options b;
  if constexpr (!bce) {
    o.reduction = has_losses ? sg::reduction::none
                             : (s.one_in(2) ? sg::reduction::mean : sg::reduction::sum);
    if (s.one_in(24))
      o.reduction = s.pick({sg::reduction::mean, sg::reduction::sum, sg::reduction::none});
    if (indices && s.one_in(4))
      o.ignore_index = s.pick({std::int64_t{-1}, std::int64_t{0}, std::int64_t{1},
                               static_cast<std::int64_t>(classes) - 1});
    else if (!indices && s.one_in(40))
      o.ignore_index = 0;  // refused with per-class targets
    o.label_smoothing = smoothing_of(s);
    if (s.one_in(3)) {
      weights = weights_of(s, classes);
      o.class_weights = weights;
    }
    o.check_finite = s.one_in(3);
    o.threads = s.one_in(4) ? 2 : 1;
    if (s.one_in(5)) o.z_loss = s.pick({1e-4, 0.01, 0.5, 2.0});
    if (s.one_in(64)) o.z_loss = -1;
    if (s.one_in(6)) o.soft_cap = s.pick({1.0, 5.0, 30.0});
    if (s.one_in(10)) o.denominator = s.pick({0.5, 3.0, 100.0});
  } else {
    b.reduction = has_losses ? sg::reduction::none
                             : (s.one_in(2) ? sg::reduction::mean : sg::reduction::sum);
    if (s.one_in(24))
      b.reduction = s.pick({sg::reduction::mean, sg::reduction::sum, sg::reduction::none});
    if (s.one_in(3)) {
      pos_weights = weights_of(s, classes);
      b.pos_weight = pos_weights;
    }
    if (s.one_in(3)) {
      weights = weights_of(s, classes);
      b.class_weights = weights;
    }
    b.label_smoothing = smoothing_of(s);
    b.check_finite = s.one_in(3);
    b.threads = s.one_in(4) ? 2 : 1;
    if (s.one_in(10)) b.denominator = s.pick({0.5, 3.0, 100.0});
  }

  // --- layouts and values ---
  const layout_kind x_kind = input_layout(s), y_kind = input_layout(s);
  const layout_kind g_kind = in_place ? layout_kind::in_place : output_layout(s);
  const layout_kind l_kind = output_layout(s), p_kind = output_layout(s);
  const std::uint8_t fill_byte = s.pick({std::uint8_t{0x7f}, std::uint8_t{0xff},
                                         std::uint8_t{0x00}, std::uint8_t{0xa5}});
  const T x_poison = s.one_in(2) ? std::numeric_limits<T>::quiet_NaN() : T(1e30);

  auto x = own_tensor<T, R>(s, x_kind, xe, false, x_poison);
  {
    const std::uint8_t regime = s.byte();
    std::vector<T> v(x.count());
    for (auto& e : v) e = logit<T>(s, regime);
    for (std::size_t i = 0; i < v.size(); ++i) x.at(i) = v[i];  // later ones win
  }
  auto y = own_tensor<Y, LR>(s, y_kind, ye, false, label_poison<Y>());
  {
    std::vector<Y> v(y.count());
    fill_labels<LK>(s, v, indices ? 1 : ye[LR - 1], classes, o.ignore_index);
    for (std::size_t i = 0; i < v.size(); ++i) y.at(i) = v[i];
  }
  const std::vector<T> x_logical = x.logical();
  const std::vector<Y> y_logical = y.logical();

  auto fill_output = [&](auto& t) {
    if (t.owns) std::memset(t.memory->get(), fill_byte, t.memory->n * sizeof(*t.memory->get()));
  };
  tensor<T, R> g;
  if (has_grad) {
    if (in_place) {
      g = x;
      g.kind = layout_kind::in_place;
      g.owns = false;
      ++st.kinds[static_cast<std::size_t>(layout_kind::in_place)];
    } else {
      std::optional<tensor<T, R>> a;
      if (g_kind == layout_kind::alias) a = alias_into<T, R>(s, x, ge);
      g = a ? *a
            : own_tensor<T, R>(s, g_kind == layout_kind::alias ? layout_kind::not_unique : g_kind,
                               ge, true, T(0));
      fill_output(g);
    }
  }
  tensor<T, SR> l;
  if (has_losses) {
    std::optional<tensor<T, SR>> a;
    if (l_kind == layout_kind::alias)
      a = has_grad && g.owns && s.one_in(2) ? alias_into<T, SR>(s, g, le)
                                              : alias_into<T, SR>(s, x, le);
    l = a ? *a
          : own_tensor<T, SR>(s, l_kind == layout_kind::alias ? layout_kind::not_unique : l_kind,
                              le, true, T(0));
    fill_output(l);
  }
  tensor<P, B> p;
  if (has_preds) {
    std::optional<tensor<P, B>> a;
    if constexpr (std::is_same_v<Y, P>)
      if (p_kind == layout_kind::alias) a = alias_into<P, B>(s, y, pe);
    p = a ? *a
          : own_tensor<P, B>(s, p_kind == layout_kind::alias ? layout_kind::not_unique : p_kind,
                             pe, true, P(0));
    fill_output(p);
  }
  const bool grad_in_place = has_grad && same_elements(g, x);

  // --- what only the strided views make invalid ---
  bool refused = false;
  if (has_grad) {
    refused |= !nested(g.e, g.st);
    refused |= !grad_in_place && spans_meet(g, x);
    refused |= spans_meet(g, y);
  }
  if (has_losses) {
    refused |= !nested(l.e, l.st);
    refused |= spans_meet(l, x) || spans_meet(l, y) || (has_grad && spans_meet(l, g));
  }
  if (has_preds) {
    refused |= !nested(p.e, p.st);
    refused |= spans_meet(p, x) || spans_meet(p, y) || (has_grad && spans_meet(p, g)) ||
               (has_losses && spans_meet(p, l));
  }

  // --- the row-major copies ---
  heap<T> ox(x_logical.size());
  std::copy(x_logical.begin(), x_logical.end(), ox.get());
  heap<Y> oy(y_logical.size());
  std::copy(y_logical.begin(), y_logical.end(), oy.get());
  heap<T> og(has_grad && !grad_in_place ? count_of(ge) : 0);
  heap<T> ol(has_losses ? count_of(le) : 0);
  heap<P> op(has_preds ? count_of(pe) : 0);
  std::memset(og.get(), fill_byte, og.n * sizeof(T));
  std::memset(ol.get(), fill_byte, ol.n * sizeof(T));
  std::memset(op.get(), fill_byte, op.n * sizeof(P));
  T* og_data = grad_in_place ? ox.get() : og.get();

  // --- snapshots of every byte either call may touch ---
  std::vector<region> regions;
  auto add = [&](void* d, std::size_t bytes, const char* what, int side) {
    for (const auto& r : regions)
      if (r.data == static_cast<unsigned char*>(d)) return;
    regions.push_back({static_cast<unsigned char*>(d), bytes, what, side, {}});
    regions.back().save();
  };
  add(x.memory->get(), x.memory->n * sizeof(T), "strided logits", 1);
  add(y.memory->get(), y.memory->n * sizeof(Y), "strided labels", 1);
  if (has_grad) add(g.memory->get(), g.memory->n * sizeof(T), "strided grad", 1);
  if (has_losses) add(l.memory->get(), l.memory->n * sizeof(T), "strided losses", 1);
  if (has_preds) add(p.memory->get(), p.memory->n * sizeof(P), "strided predictions", 1);
  add(ox.get(), ox.n * sizeof(T), "row-major logits", 2);
  add(oy.get(), oy.n * sizeof(Y), "row-major labels", 2);
  add(og.get(), og.n * sizeof(T), "row-major grad", 2);
  add(ol.get(), ol.n * sizeof(T), "row-major losses", 2);
  add(op.get(), op.n * sizeof(P), "row-major predictions", 2);
  add(weights.data(), weights.size() * sizeof(float), "class weights", 3);
  add(pos_weights.data(), pos_weights.size() * sizeof(float), "pos_weight", 3);
  constexpr std::size_t unset = 0xdeadbeef;
  std::size_t right_s = unset, right_o = unset;
  auto restore = [&] {
    for (const auto& r : regions) r.restore();
    right_s = right_o = unset;
  };
  // no byte of the buffers of the calls in `sides` (1 strided, 2 row-major) changed
  auto untouched = [&](const std::string& where, int sides = 3) {
    for (const auto& r : regions)
      if (r.side & sides) FUZZ_REQUIRE(r.unchanged(), "{}: the {} changed", where, r.what);
    if (sides & 1) FUZZ_REQUIRE(right_s == unset, "{}: the count was written", where);
    if (sides & 2) FUZZ_REQUIRE(right_o == unset, "{}: the row-major count was written", where);
  };

  // --- the views ---
  const auto xv = x.const_view();
  const auto yv = wrap<LK>(y.const_view());
  const auto gv = g.view();
  const auto lv = l.view();
  const auto pv = count_right ? sg::predictions(p.view(), right_s) : sg::predictions(p.view());
  const sg::tensor_view<const T, sg::dims<R>> oxv(ox.get(), dims_of(xe));
  const auto oyv = wrap<LK>(sg::tensor_view<const Y, sg::dims<LR>>(oy.get(), dims_of(ye)));
  const sg::tensor_view<T, sg::dims<R>> ogv(og_data, dims_of(grad_in_place ? xe : ge));
  const sg::tensor_view<T, sg::dims<SR>> olv(ol.get(), dims_of(le));
  const sg::tensor_view<P, sg::dims<B>> opv_view(op.get(), dims_of(pe));
  const auto opv = count_right ? sg::predictions(opv_view, right_o) : sg::predictions(opv_view);

  auto strided = [&]<mode M>() {
    if constexpr (bce)
      return sigmoid<M>(form, xv, yv, gv, lv, b);
    else
      return softmax<M>(form, xv, yv, gv, lv, pv, o);
  };
  auto oracle = [&]<mode M>() {
    if constexpr (bce)
      return sigmoid<M>(form, oxv, oyv, ogv, olv, b);
    else
      return softmax<M>(form, oxv, oyv, ogv, olv, opv, o);
  };

  const bool all_row_major = row_major(x.e, x.st) && row_major(y.e, y.st) &&
                             (!has_grad || row_major(g.e, g.st)) &&
                             (!has_losses || row_major(l.e, l.st)) &&
                             (!has_preds || row_major(p.e, p.st));
  if (all_row_major) ++st.all_row_major;
  const std::string setting = [&] {
    std::string out = fmt::format(
        "{} {} logits rank {}, {}; form {}; logits {}; labels {}", bce ? "sigmoid" : "softmax",
        std::is_same_v<T, float> ? "float" : "double", R, name(LK), form, x.text(), y.text());
    if (has_grad) out += fmt::format("; grad {}", g.text());
    if (has_losses) out += fmt::format("; losses {}", l.text());
    if (has_preds) out += fmt::format("; predictions {}{}", p.text(), count_right ? " counted" : "");
    if constexpr (bce) {
      out += fmt::format("; reduction {} pos_weight {} class_weights {} smoothing {} "
                         "check_finite {} threads {} denominator {}",
                         sg::to_string(b.reduction), pos_weights.size(), weights.size(),
                         b.label_smoothing, b.check_finite, b.threads, b.denominator);
    } else {
      out += fmt::format("; reduction {} ignore_index {} smoothing {} class_weights {} "
                         "check_finite {} threads {} z_loss {} soft_cap {} denominator {}",
                         sg::to_string(o.reduction), o.ignore_index, o.label_smoothing,
                         weights.size(), o.check_finite, o.threads, o.z_loss, o.soft_cap,
                         o.denominator);
    }
    return out + (refused ? "; strided outputs invalid" : "");
  }();

  if (std::getenv("SHAPEGUARD_FUZZ_LAYOUTS_PRINT"))  // each input's case, to pick seeds by
    std::fprintf(stderr, "case: %s\n", setting.c_str());

  // --- try_check and check: the same verdict, nothing written ---
  const outcome checked = strided.template operator()<mode::try_check>();
  const outcome checked_o = oracle.template operator()<mode::try_check>();
  untouched("after try_check");
  require_same(checked, checked_o, refused, "try_check: " + setting);
  const outcome thrown = strided.template operator()<mode::check>();
  untouched("after check");
  FUZZ_REQUIRE(thrown.ok == checked.ok &&
                   (thrown.ok || (thrown.kind == checked.kind && thrown.message == checked.message)),
               "check {} but try_check {}: {}", outcome_text(thrown), outcome_text(checked),
               setting);

  // --- the calls, on every instruction set ---
  std::size_t rows = 1;  // (the batch axes' product: rows without classes count too)
  for (std::size_t a = 0; a < B; ++a) rows *= xe[a];
  for (auto isa : isas()) {
    restore();
    use_isa(isa);
    ++st.isa_runs;
    const std::string where = fmt::format("isa {}: {}", isa_name(isa), setting);
    const outcome want = oracle.template operator()<mode::call>();
    const outcome got = strided.template operator()<mode::call>();
    // the call runs try_check's checks (a check alone takes reduction::none without a buffer)
    const bool none_unbuffered =
        !has_losses && (bce ? b.reduction : o.reduction) == sg::reduction::none;
    for (const auto* c : {&got, &want}) {
      const outcome& t = c == &got ? checked : checked_o;
      const bool same = c->ok == t.ok && (c->ok || (c->kind == t.kind && c->message == t.message));
      if (!none_unbuffered)
        FUZZ_REQUIRE(same, "{}: the call {} but try_check {}", where, outcome_text(*c),
                     outcome_text(t));
      else  // (refused among the outputs' checks, before the label values')
        FUZZ_REQUIRE(!c->ok && (c->kind == K::invalid_option || same),
                     "{}: reduction::none without a buffer: {}", where, outcome_text(*c));
    }
    require_same(got, want, refused, where);
    if (!got.ok || !want.ok) {
      untouched(where, (got.ok ? 0 : 1) | (want.ok ? 0 : 2));
      ++st.by_kind[static_cast<std::size_t>(got.ok ? want.kind : got.kind)];
      if (refused) ++st.refused_strided_only;
      else ++st.both_failed;
      continue;
    }
    ++st.both_ok;

    // no byte changed but those of the elements an output view reaches: the inputs are
    // unchanged (the logits but where an in-place gradient wrote them), and so is every
    // element of an allocation that no output view reaches (padding, and the rest of an
    // input's allocation that an output view lies in beside the input)
    {
      std::vector<std::vector<char>> writable(regions.size());
      for (std::size_t k = 0; k < regions.size(); ++k) writable[k].assign(regions[k].bytes, 0);
      auto mark = [&](const auto& t) {
        using E = std::remove_cvref_t<decltype(*t.data())>;
        const auto reached = t.reached();
        for (std::size_t k = 0; k < regions.size(); ++k)
          if (regions[k].data == reinterpret_cast<unsigned char*>(t.memory->get()))
            for (std::size_t j = 0; j < reached.size(); ++j)
              if (reached[j]) std::fill_n(writable[k].begin() + std::ptrdiff_t(j * sizeof(E)), sizeof(E), 1);
      };
      auto mark_all = [&](const void* d) {
        for (std::size_t k = 0; k < regions.size(); ++k)
          if (regions[k].data == static_cast<const unsigned char*>(d))
            std::fill(writable[k].begin(), writable[k].end(), 1);
      };
      if (has_grad) mark(g);
      if (has_losses) mark(l);
      if (has_preds) mark(p);
      mark_all(og_data);  // (the row-major logits under an in-place gradient)
      mark_all(ol.get());
      mark_all(op.get());
      for (std::size_t k = 0; k < regions.size(); ++k) {
        const auto& r = regions[k];
        for (std::size_t j = 0; j < r.bytes; ++j)
          FUZZ_REQUIRE(writable[k][j] || r.data[j] == r.saved[j],
                       "{}: byte {} of the {} allocation changed, which no output view reaches",
                       where, j, r.what);
      }
    }

    // the column kernel (see the head of this file)
    bool columns = false;
    if constexpr (std::is_same_v<T, float> && as_indices) {
      columns = !all_row_major && o.soft_cap == 0 && x.st[R - 2] == 1 && x.st[R - 1] > 1 &&
                (!has_grad || (g.st[R - 2] == 1 && g.st[R - 1] == x.st[R - 1])) &&
                sg::detail::column_kernel_for(isa, classes) != nullptr;
    }
    // with it: per row, a bound of the loss's terms, A (1 + 2 L) + z L^2, and of the
    // gradient's, A + 2 z L, L = the row's largest finite |x| + log C + 1 (|lse| <= L)
    std::vector<long double> loss_bound, grad_bound;
    long double scale = 1;
    if (columns) {
      ++st.column_tolerance;
      loss_bound.assign(rows, 0);
      grad_bound.assign(rows, 0);
      const long double eps = o.label_smoothing;
      auto w = [&](std::size_t c) -> long double {
        return weights.empty() ? 1.0L : static_cast<long double>(weights[c]);
      };
      long double w_sum = 0, counted = 0, weight_sum = 0;
      for (std::size_t c = 0; c < classes; ++c) w_sum += w(c);
      for (std::size_t i = 0; i < rows; ++i) {
        std::size_t label = 0;
        bool ignored = false;
        if constexpr (indices) {
          ignored = std::cmp_equal(y_logical[i], o.ignore_index);
          if (!ignored) label = static_cast<std::size_t>(y_logical[i]);
        } else {
          while (label + 1 < classes && y_logical[i * classes + label] != Y(1)) ++label;
        }
        if (ignored) continue;
        counted += 1;
        weight_sum += w(label);
        long double top = 0;
        for (std::size_t c = 0; c < classes; ++c) {
          const long double v = x_logical[i * classes + c];
          if (std::isfinite(v)) top = std::max(top, std::fabs(v));
        }
        const long double L = top + std::log(static_cast<long double>(classes)) + 1;
        const long double A = w(label) * (1 - eps) + eps / static_cast<long double>(classes) * w_sum;
        const long double z = o.z_loss;
        loss_bound[i] = A * (1 + 2 * L) + z * L * L;
        grad_bound[i] = A + 2 * z * L;
      }
      if (o.reduction == sg::reduction::mean) {
        const long double d = o.denominator > 0 ? static_cast<long double>(o.denominator)
                              : indices && !weights.empty() ? weight_sum
                                                            : counted;
        scale = d > 0 ? 1 / d : 0;
      }
    }
    constexpr long double rel = 1e-5L, abs = 2e-6L, floor = 1e-30L;

    if (want.has_loss) {
      FUZZ_REQUIRE(got.has_loss, "{}: no loss", where);
      if (!columns) {
        FUZZ_REQUIRE(std::memcmp(got.loss.data(), want.loss.data(), sizeof(T)) == 0 ||
                         (std::isnan(got.value) && std::isnan(want.value)),
                     "{}: loss {} but row-major {}", where, static_cast<double>(got.value),
                     static_cast<double>(want.value));
      } else {
        long double bound = 0;
        for (auto v : loss_bound) bound += v;
        FUZZ_REQUIRE(close(got.value, want.value,
                           rel * std::fabs(want.value) + abs * scale * bound + floor),
                     "{}: loss {} but row-major {} (column kernel)", where,
                     static_cast<double>(got.value), static_cast<double>(want.value));
      }
    }
    if (has_grad) {
      const std::size_t n = count_of(g.e);
      for (std::size_t i = 0; i < n; ++i) {
        const T a = g.at(i), w = og_data[i];
        if (!columns) {
          FUZZ_REQUIRE(same_bits(a, w), "{}: grad[{}] (row-major index) is {} but row-major {}",
                       where, i, a, w);
        } else {
          FUZZ_REQUIRE(close(a, w, rel * std::fabs(static_cast<long double>(w)) +
                                       abs * scale * grad_bound[i / classes] + floor),
                       "{}: grad[{}] is {} but row-major {} (column kernel)", where, i, a, w);
        }
      }
    }
    if (has_losses) {
      const std::size_t n = count_of(l.e);
      for (std::size_t i = 0; i < n; ++i) {
        const T a = l.at(i), w = ol.get()[i];
        if (!columns) {
          FUZZ_REQUIRE(same_bits(a, w), "{}: per-sample loss {} is {} but row-major {}", where,
                       i, a, w);
        } else {
          FUZZ_REQUIRE(close(a, w, rel * std::fabs(static_cast<long double>(w)) +
                                       abs * loss_bound[i] + floor),
                       "{}: per-sample loss {} is {} but row-major {} (column kernel)", where,
                       i, a, w);
        }
      }
    }
    if (has_preds) {
      const std::size_t n = count_of(p.e);
      for (std::size_t i = 0; i < n; ++i)
        FUZZ_REQUIRE(p.at(i) == op.get()[i], "{}: prediction {} is {} but row-major {}", where,
                     i, p.at(i), op.get()[i]);
      FUZZ_REQUIRE(right_s == right_o, "{}: {} rows counted right, row-major {}", where,
                   right_s, right_o);
      FUZZ_REQUIRE(count_right || right_s == unset, "{}: a count nobody asked for", where);
    }
  }
}

/// One case: the loss and label kind and the logits' rank, by the input's first byte mod 18.
using case_fn = void (*)(source&);
template <class T>
constexpr case_fn cases[18] = {
    &run<T, 2, labels_kind::i64>,           &run<T, 3, labels_kind::i64>,
    &run<T, 4, labels_kind::i64>,           &run<T, 2, labels_kind::i32>,
    &run<T, 3, labels_kind::i32>,           &run<T, 4, labels_kind::i32>,
    &run<T, 2, labels_kind::probabilities>, &run<T, 3, labels_kind::probabilities>,
    &run<T, 4, labels_kind::probabilities>, &run<T, 2, labels_kind::one_hot>,
    &run<T, 3, labels_kind::one_hot>,       &run<T, 4, labels_kind::one_hot>,
    &run<T, 2, labels_kind::targets>,       &run<T, 3, labels_kind::targets>,
    &run<T, 4, labels_kind::targets>,       &run<T, 2, labels_kind::multi_hot>,
    &run<T, 3, labels_kind::multi_hot>,     &run<T, 4, labels_kind::multi_hot>,
};

inline constexpr std::size_t case_count = 18;  // (std::size would instantiate both tables)

/// The cases of double logits (fuzz_layouts_double.cpp).
void run_double(source& s, std::uint8_t head);

}  // namespace fuzz::layouts
