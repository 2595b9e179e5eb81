#pragma once
// The reduction over blocks of rows and threads: a call's rows are cut into blocks whose size
// depends on the class count only, the blocks are solved on up to `threads` threads, and their
// sums are added in block order, so that the result is the same bit for bit for any thread
// count. The mean is formed by the caller, from this sum and its own denominator.

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace shapeguard::detail {

/// The most rows a block holds (per-block buffers are sized by it).
inline constexpr std::size_t max_rows_per_block = 256;

/// Rows per block: a function of the class count only, so the order in which block sums are
/// added, and so the reduced loss, is the same for any thread count.
constexpr auto rows_per_block(std::size_t classes) noexcept -> std::size_t {
  return std::clamp<std::size_t>(16384 / std::max<std::size_t>(classes, 1), 1,
                                 max_rows_per_block);
}

/// Logits per thread below which another thread costs more to start than it saves: a call
/// uses at most elements / this many threads (and at least the caller's).
inline constexpr std::size_t min_elements_per_thread = std::size_t(1) << 18;

/// Threads for a call over `elements` logits when the caller allows `requested` (>= 1).
constexpr auto thread_count(std::size_t elements, std::size_t requested) noexcept
    -> std::size_t {
  return std::clamp<std::size_t>(elements / min_elements_per_thread, 1, requested);
}

/// Runs `block(b)` for b in [0, blocks), on `threads` threads (the caller's among them).
template <class F>
void for_each_block(std::size_t blocks, std::size_t threads, const F& block) {
  threads = std::min(threads, blocks);
  if (threads <= 1) {
    for (std::size_t b = 0; b < blocks; ++b) block(b);
    return;
  }
  auto run = [&](std::size_t t) {
    for (std::size_t b = blocks * t / threads, e = blocks * (t + 1) / threads; b < e; ++b)
      block(b);
  };
  std::vector<std::jthread> pool;
  pool.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
}

/// The sum of `solve(first, count)` over the blocks of `per_block` of `items` items, on up to
/// `threads` threads for a call over `elements` logits, added in block order.
template <class F>
auto reduce_blocks(std::size_t items, std::size_t per_block, std::size_t elements,
                   std::size_t threads, const F& solve) -> double {
  const std::size_t blocks = (items + per_block - 1) / per_block;
  std::vector<double> sums(blocks);
  for_each_block(blocks, thread_count(elements, threads), [&](std::size_t b) {
    const std::size_t first = b * per_block;
    sums[b] = solve(first, std::min(per_block, items - first));
  });
  double total = 0;
  for (double s : sums) total += s;
  return total;
}

/// The sum of `solve(first_row, rows)` over the blocks of `rows` rows of `classes` classes, on
/// up to `threads` threads, added in block order.
template <class F>
auto reduce_rows(std::size_t rows, std::size_t classes, std::size_t threads, const F& solve)
    -> double {
  return reduce_blocks(rows, rows_per_block(classes), rows * classes, threads, solve);
}

/// Elements per block of the element-wise losses (sigmoid): a constant, for the same reason as
/// rows_per_block.
inline constexpr std::size_t elements_per_block = std::size_t(1) << 16;

/// The sum of `solve(first_element, count)` over the blocks of `elements` elements.
template <class F>
auto reduce_elements(std::size_t elements, std::size_t threads, const F& solve) -> double {
  return reduce_blocks(elements, elements_per_block, elements, threads, solve);
}

}  // namespace shapeguard::detail
