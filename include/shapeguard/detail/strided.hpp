#pragma once
// Views of any layout (layout.hpp) as the checks and kernels read them. The kernels read rows
// that are row-major and contiguous; a call whose views all are (every layout_right view, and
// any other whose strides happen to be row-major) runs on them unchanged, through
// `on_row_major`. Otherwise the checks read the views a chunk at a time (`for_each_chunk`), and
// the solver copies each block of rows into a scratch in row-major order (`gather`), solves it
// there, and writes the outputs back through their layouts (`scatter`). Positions in messages
// and blocks are always row-major indices of the view's index space, whatever the layout.

#include <array>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

#include "../errors.hpp"
#include "../labels.hpp"
#include "../layout.hpp"
#include "../outputs.hpp"
#include "../tensor_view.hpp"

namespace shapeguard::detail {

template <class V>
inline constexpr bool is_layout_right = std::is_same_v<typename V::layout_type, layout_right>;

/// Whether element i of v, in row-major order, lies at data() + i.
template <class V>
constexpr auto is_row_major(const V& v) noexcept -> bool {
  if constexpr (is_layout_right<V>) {
    return true;
  } else {
    if (v.size() == 0) return true;
    std::size_t expect = 1;
    for (std::size_t r = V::rank(); r-- > 0;) {
      if (v.extent(r) != 1 && v.stride(r) != expect) return false;
      expect *= v.extent(r);
    }
    return true;
  }
}

/// v as a layout_right view of the same elements (v must be row-major).
template <class V>
constexpr auto as_layout_right(const V& v) {
  return tensor_view<typename V::element_type, typename V::extents_type>(v.data(), v.extents());
}

/// Visits the offsets of elements [first, first + n) of v in row-major order, one run along
/// the last axis at a time: `run(offset, stride, count)`.
template <class V, class F>
void for_each_run(const V& v, std::size_t first, std::size_t n, const F& run) {
  constexpr std::size_t R = V::rank();
  if constexpr (R == 0) {
    if (n != 0) run(std::size_t{0}, std::size_t{0}, std::size_t{1});
  } else {
    if (n == 0) return;
    std::array<std::size_t, R> index{};
    std::size_t rest = first;
    for (std::size_t r = R; r-- > 0;) {
      index[r] = rest % v.extent(r);
      rest /= v.extent(r);
    }
    const std::size_t last = v.extent(R - 1), step = v.stride(R - 1);
    while (n != 0) {
      std::size_t offset = 0;
      for (std::size_t r = 0; r < R; ++r) offset += index[r] * v.stride(r);
      const std::size_t count = last - index[R - 1] < n ? last - index[R - 1] : n;
      run(offset, step, count);
      n -= count;
      index[R - 1] = 0;
      for (std::size_t r = R - 1; r-- > 0;) {  // carry into the axes before the last
        if (++index[r] < v.extent(r)) break;
        index[r] = 0;
      }
    }
  }
}

/// Copies elements [first, first + n) of v, in row-major order, to out.
template <class V, class D>
void gather(const V& v, std::size_t first, std::size_t n, D* out) {
  const auto* base = v.data();
  for_each_run(v, first, n, [&](std::size_t offset, std::size_t step, std::size_t count) {
    const auto* p = base + offset;
    if (step == 1) {
      for (std::size_t k = 0; k < count; ++k) out[k] = static_cast<D>(p[k]);
    } else {
      for (std::size_t k = 0; k < count; ++k) out[k] = static_cast<D>(p[k * step]);
    }
    out += count;
  });
}

/// Writes in[0, n) to elements [first, first + n) of v, in row-major order.
template <class S, class V>
void scatter(const S* in, std::size_t first, std::size_t n, const V& v) {
  auto* base = v.data();
  for_each_run(v, first, n, [&](std::size_t offset, std::size_t step, std::size_t count) {
    auto* p = base + offset;
    if (step == 1) {
      for (std::size_t k = 0; k < count; ++k) p[k] = in[k];
    } else {
      for (std::size_t k = 0; k < count; ++k) p[k * step] = in[k];
    }
    in += count;
  });
}

/// Elements per chunk when a check reads a view that is not row-major.
inline constexpr std::size_t check_chunk = 4096;

/// Calls `f(data, first_row, count)` over v's elements as `rows` rows of `row` elements each,
/// row-major and contiguous: the view itself when it is row-major, else copies of whole rows,
/// as many as fit check_chunk (at least one). Stops at, and returns, the first failure f
/// returns.
template <class V, class F>
auto for_each_chunk(const V& v, std::size_t rows, std::size_t row, const F& f) -> check_result {
  if (is_row_major(v)) return f(v.data(), std::size_t{0}, rows);
  const std::size_t per = row < check_chunk ? check_chunk / row : 1;
  using T = typename V::value_type;
  // (not a std::vector, which has no data() for bool)
  const auto copy = std::make_unique<T[]>(per * row < v.size() ? per * row : v.size());
  for (std::size_t r0 = 0; r0 < rows; r0 += per) {
    const std::size_t n = rows - r0 < per ? rows - r0 : per;
    gather(v, r0 * row, n * row, copy.get());
    if (auto r = f(static_cast<const T*>(copy.get()), r0, n); !r) return r;
  }
  return {};
}

// Row-major at run time: the same objects with layout_right views, when they hold row-major
// views of another layout.
template <class V>
  requires is_tensor_view<V>
constexpr auto row_major_now(const V& v) noexcept -> bool {
  return is_row_major(v);
}
template <class V>
  requires is_tensor_view<V>
constexpr auto to_layout_right(const V& v) {
  return as_layout_right(v);
}
template <label_encoding E, class V>
constexpr auto row_major_now(const encoded_labels<E, V>& y) noexcept -> bool {
  return is_row_major(y.view);
}
template <label_encoding E, class V>
constexpr auto to_layout_right(const encoded_labels<E, V>& y) {
  return encoded_labels<E, decltype(as_layout_right(y.view))>{as_layout_right(y.view)};
}
constexpr auto row_major_now(const no_output&) noexcept -> bool { return true; }
constexpr auto to_layout_right(const no_output& o) noexcept -> no_output { return o; }
template <class V>
constexpr auto row_major_now(const predicted_classes<V>& p) noexcept -> bool {
  return is_row_major(p.view);
}
template <class V>
constexpr auto to_layout_right(const predicted_classes<V>& p) {
  return predicted_classes<decltype(as_layout_right(p.view))>{as_layout_right(p.view),
                                                               p.correct};
}
template <class G, class L, class P>
constexpr auto row_major_now(const output_set<G, L, P>& s) noexcept -> bool {
  return row_major_now(s.grad) && row_major_now(s.losses) && row_major_now(s.predictions);
}
template <class G, class L, class P>
constexpr auto to_layout_right(const output_set<G, L, P>& s) {
  auto g = to_layout_right(s.grad);
  auto l = to_layout_right(s.losses);
  auto p = to_layout_right(s.predictions);
  return output_set<decltype(g), decltype(l), decltype(p)>{g, l, p};
}

template <class T>
inline constexpr bool all_layout_right = true;
template <class T, class E, class L>
inline constexpr bool all_layout_right<tensor_view<T, E, L>> = std::is_same_v<L, layout_right>;
template <label_encoding E, class V>
inline constexpr bool all_layout_right<encoded_labels<E, V>> = all_layout_right<V>;
template <class V>
inline constexpr bool all_layout_right<predicted_classes<V>> = all_layout_right<V>;
template <class G, class L, class P>
inline constexpr bool all_layout_right<output_set<G, L, P>> =
    all_layout_right<G> && all_layout_right<L> && all_layout_right<P>;

/// `f(a...)`, with layout_right views when every view of a... is row-major at run time (so
/// that the kernels read them in place), and as they are otherwise.
template <class F, class... A>
decltype(auto) on_row_major(const F& f, const A&... a) {
  if constexpr ((all_layout_right<A> && ...)) {
    return f(a...);
  } else {
    if ((row_major_now(a) && ...)) return f(to_layout_right(a)...);
    return f(a...);
  }
}

}  // namespace shapeguard::detail
