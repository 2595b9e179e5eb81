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

/// Visits rows [first, first + n) of v, the runs along its last axis, in tiles of rows that
/// differ only in the axis before the last: `tile(offset, count)`, row i of the tile at offset
/// + i * stride(R - 2).
template <class V, class F>
void for_each_tile(const V& v, std::size_t first, std::size_t n, const F& tile) {
  constexpr std::size_t R = V::rank();
  static_assert(R >= 2);
  if (n == 0) return;
  std::array<std::size_t, R - 1> index{};
  std::size_t rest = first;
  for (std::size_t r = R - 1; r-- > 0;) {
    index[r] = rest % v.extent(r);
    rest /= v.extent(r);
  }
  const std::size_t along = v.extent(R - 2);
  while (n != 0) {
    std::size_t offset = 0;
    for (std::size_t r = 0; r + 1 < R; ++r) offset += index[r] * v.stride(r);
    const std::size_t count = along - index[R - 2] < n ? along - index[R - 2] : n;
    tile(offset, count);
    n -= count;
    index[R - 2] = 0;
    for (std::size_t r = R - 2; r-- > 0;) {
      if (++index[r] < v.extent(r)) break;
      index[r] = 0;
    }
  }
}

/// The offset of row `row` (its first class) of v, rank >= 2.
template <class V>
auto row_offset(const V& v, std::size_t row) -> std::size_t {
  std::size_t offset = 0;
  for (std::size_t r = V::rank() - 1; r-- > 0;) {
    offset += (row % v.extent(r)) * v.stride(r);
    row /= v.extent(r);
  }
  return offset;
}

/// Whether whole rows of v are better copied a class at a time than a row at a time: the rows
/// lie closer together than the classes (a class axis moved last, a column-major matrix).
template <class V>
constexpr auto classes_outer(const V& v) noexcept -> bool {
  if constexpr (V::rank() < 2) {
    return false;
  } else {
    return v.stride(V::rank() - 2) < v.stride(V::rank() - 1);
  }
}

/// Copies rows [first, first + n) of v (rank >= 2), each of `classes` = extent(R - 1) elements,
/// in row-major order to out, a tile at a time with the classes outermost (classes_outer).
template <class V, class D>
void gather_tiles(const V& v, std::size_t first, std::size_t n, D* out) {
  constexpr std::size_t R = V::rank();
  const std::size_t C = v.extent(R - 1), cs = v.stride(R - 1), rs = v.stride(R - 2);
  const auto* base = v.data();
  for_each_tile(v, first, n, [&](std::size_t offset, std::size_t count) {
    const auto* p = base + offset;
    for (std::size_t c = 0; c < C; ++c) {
      const auto* q = p + c * cs;
      D* o = out + c;
      if (rs == 1) {
        for (std::size_t i = 0; i < count; ++i) o[i * C] = static_cast<D>(q[i]);
      } else {
        for (std::size_t i = 0; i < count; ++i) o[i * C] = static_cast<D>(q[i * rs]);
      }
    }
    out += count * C;
  });
}

/// The inverse of gather_tiles: in[0, n * classes) to rows [first, first + n) of v.
template <class S, class V>
void scatter_tiles(const S* in, std::size_t first, std::size_t n, const V& v) {
  constexpr std::size_t R = V::rank();
  const std::size_t C = v.extent(R - 1), cs = v.stride(R - 1), rs = v.stride(R - 2);
  auto* base = v.data();
  for_each_tile(v, first, n, [&](std::size_t offset, std::size_t count) {
    auto* p = base + offset;
    for (std::size_t c = 0; c < C; ++c) {
      auto* q = p + c * cs;
      const S* i_ = in + c;
      if (rs == 1) {
        for (std::size_t i = 0; i < count; ++i) q[i] = i_[i * C];
      } else {
        for (std::size_t i = 0; i < count; ++i) q[i * rs] = i_[i * C];
      }
    }
    in += count * C;
  });
}

/// Copies rows [first, first + n) of v (its last axis the row) in row-major order to out.
template <class V, class D>
void gather_rows(const V& v, std::size_t first, std::size_t n, D* out) {
  if constexpr (V::rank() >= 2) {
    if (classes_outer(v)) return gather_tiles(v, first, n, out);
  }
  const std::size_t C = V::rank() == 0 ? 1 : v.extent(V::rank() - 1);
  gather(v, first * C, n * C, out);
}

/// Writes in[0, n * row) to rows [first, first + n) of v.
template <class S, class V>
void scatter_rows(const S* in, std::size_t first, std::size_t n, const V& v) {
  if constexpr (V::rank() >= 2) {
    if (classes_outer(v)) return scatter_tiles(in, first, n, v);
  }
  const std::size_t C = V::rank() == 0 ? 1 : v.extent(V::rank() - 1);
  scatter(in, first * C, n * C, v);
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
