#pragma once
// The reduction over blocks of rows and threads: a call's rows are cut into blocks whose size
// depends on the class count only, the blocks are solved on up to `threads` threads, and their
// sums are added in block order, so that the result is the same bit for bit for any thread
// count. The mean is formed by the caller, from this sum and its own denominator.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

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

/// Waits for `ready()` by spinning (a pause between looks) for up to `budget`; whether it
/// came. A thread woken from sleep takes tens of microseconds to run again (more on a virtual
/// machine), as long as a block of rows takes: a short wait is cheaper spun than slept.
template <class Ready>
auto spin_until(const Ready& ready, std::chrono::microseconds budget) -> bool {
  const auto until = std::chrono::steady_clock::now() + budget;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#elif defined(__aarch64__)
      asm volatile("yield");
#endif
    }
    if (std::chrono::steady_clock::now() >= until) return ready();
  }
}

/// The threads that run a call's blocks beside the caller's: started when a call first needs
/// them and kept, so that a training loop's calls with `threads > 1` start no threads. One call
/// uses them at a time; a call that finds them busy (another thread's call) starts its own, as
/// does a process forked from the one that started them (its copy of the pool has no threads:
/// it is left alone and a new one started). A thread done with a call looks for the next one
/// for worker_spin before it sleeps, and the caller, done with its part, waits for the others
/// spinning for up to caller_spin.
class block_pool {
 public:
  static constexpr std::chrono::microseconds worker_spin{200}, caller_spin{5000};

  /// This process's pool.
  static auto get() -> block_pool& {
    static std::atomic<block_pool*> current{nullptr};
    static std::mutex replacing;
    block_pool* p = current.load(std::memory_order_acquire);
    if (p == nullptr || p->owner_ != process_id()) {
      const std::lock_guard lock(replacing);
      p = current.load(std::memory_order_acquire);
      if (p == nullptr || p->owner_ != process_id()) {
        // never freed: a pool forked from another process holds threads that do not exist here
        p = new block_pool();
        current.store(p, std::memory_order_release);
      }
    }
    return *p;
  }

  /// Runs run(t) for t in [0, threads), run(0) on the caller and the others on the pool's
  /// threads, and returns when all have; false (nothing run) when another call holds the pool.
  template <class F>
  auto try_run(std::size_t threads, const F& run) -> bool {
    std::unique_lock call(call_, std::try_to_lock);
    if (!call.owns_lock()) return false;
    {
      const std::lock_guard lock(m_);
      while (workers_.size() + 1 < threads) {
        const std::size_t index = workers_.size() + 1;
        workers_.emplace_back([this, index] { work(index); });
        ++started_;
      }
      task_ = [](const void* f, std::size_t t) { (*static_cast<const F*>(f))(t); };
      context_ = &run;
      active_ = threads;
      pending_.store(threads - 1, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    run(0);
    if (spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; }, caller_spin))
      return true;
    std::unique_lock lock(m_);
    done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    return true;
  }

  /// The threads this process's pools have started (for tests).
  static auto threads_started() -> std::size_t { return started_.load(); }

 private:
  block_pool() : owner_(process_id()) {}

  static auto process_id() -> long {
#if defined(__unix__) || defined(__APPLE__)
    return static_cast<long>(::getpid());
#else
    return 0;
#endif
  }

  void work(std::size_t index) {
    std::size_t seen = 0;
    for (;;) {
      void (*task)(const void*, std::size_t);
      const void* context;
      spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; },
                 worker_spin);
      {
        std::unique_lock lock(m_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
        seen = generation_.load(std::memory_order_relaxed);
        if (index >= active_) continue;
        task = task_;
        context = context_;
      }
      task(context, index);
      {
        // under the lock, so that a caller between its look at pending_ and its sleep on done_
        // cannot miss the notification
        const std::lock_guard lock(m_);
        pending_.fetch_sub(1, std::memory_order_release);
      }
      done_.notify_one();
    }
  }

  long owner_;
  std::mutex call_;  // held by the call using the pool
  std::mutex m_;     // guards what follows (generation_ and pending_ are also read without it)
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;  // never joined: they live as long as the process
  void (*task_)(const void*, std::size_t) = nullptr;
  const void* context_ = nullptr;
  std::size_t active_ = 0;
  std::atomic<std::size_t> generation_{0}, pending_{0};
  static inline std::atomic<std::size_t> started_{0};
};

/// Runs `block(b)` for b in [0, blocks), on up to `threads` threads (the caller's among them,
/// which runs block 0): on the pool's threads, or on threads of its own when another call
/// holds them. The threads take the blocks one at a time as they come free, so that a thread
/// that starts late (woken from sleep) or runs slowly (sharing its core) delays no one.
template <class F>
void for_each_block(std::size_t blocks, std::size_t threads, const F& block) {
  threads = std::min(threads, blocks);
  if (threads <= 1) {
    for (std::size_t b = 0; b < blocks; ++b) block(b);
    return;
  }
  std::atomic<std::size_t> next{1};
  auto run = [&](std::size_t t) {
    if (t == 0) block(0);
    for (std::size_t b; (b = next.fetch_add(1, std::memory_order_relaxed)) < blocks;) block(b);
  };
  if (block_pool::get().try_run(threads, run)) return;
  std::vector<std::jthread> own;
  own.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) own.emplace_back(run, t);
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
