#pragma once
/// Errors: what went wrong (`error_kind`), the exception that carries it (`shape_error`),
/// the non-throwing result (`check_result`) and the handler used without exceptions.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace shapeguard {

/// What a failed check found.
enum class error_kind {
  rank_mismatch,          ///< labels have a rank that fits neither class indices nor per-class targets
  batch_mismatch,         ///< a batch axis differs between logits and labels
  class_mismatch,         ///< the class axis of per-class targets differs from the logits'
  label_out_of_range,     ///< a class index outside [0, C) that is not ignore_index
  invalid_one_hot,        ///< a one-hot row that is not exactly one 1 and zeros
  invalid_probabilities,  ///< a probability row with a negative entry or a sum other than 1
  invalid_option,         ///< an option value outside its domain, or a malformed view
  output_mismatch,        ///< an output buffer of the wrong shape, or overlapping an input
  non_finite,             ///< a NaN or infinite logit, when finite checking is asked for
  extent_mismatch,        ///< a static extent contradicted by a run-time one
  single_class,           ///< softmax over a class axis of size 1: a loss that cannot learn
};

/// The kind's name, as written in the source (`"batch_mismatch"`).
constexpr auto to_string(error_kind kind) noexcept -> std::string_view {
  switch (kind) {
    case error_kind::rank_mismatch: return "rank_mismatch";
    case error_kind::batch_mismatch: return "batch_mismatch";
    case error_kind::class_mismatch: return "class_mismatch";
    case error_kind::label_out_of_range: return "label_out_of_range";
    case error_kind::invalid_one_hot: return "invalid_one_hot";
    case error_kind::invalid_probabilities: return "invalid_probabilities";
    case error_kind::invalid_option: return "invalid_option";
    case error_kind::output_mismatch: return "output_mismatch";
    case error_kind::non_finite: return "non_finite";
    case error_kind::extent_mismatch: return "extent_mismatch";
    case error_kind::single_class: return "single_class";
  }
  return "unknown";
}

/// The outcome of a check, as a value: `ok()`, or a kind and a message.
class check_result {
 public:
  check_result() = default;
  check_result(error_kind kind, std::string message)
      : failed_(true), kind_(kind), message_(std::move(message)) {}

  [[nodiscard]] auto ok() const noexcept -> bool { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  /// The kind of failure; meaningful only when `!ok()`.
  [[nodiscard]] auto kind() const noexcept -> error_kind { return kind_; }
  /// The full message; empty when `ok()`.
  [[nodiscard]] auto message() const noexcept -> const std::string& { return message_; }

 private:
  bool failed_ = false;
  error_kind kind_ = error_kind::rank_mismatch;
  std::string message_;
};

/// Thrown by `check` and the checked loss functions when a check fails.
class shape_error : public std::invalid_argument {
 public:
  shape_error(error_kind kind, const std::string& message)
      : std::invalid_argument(message), kind_(kind) {}
  [[nodiscard]] auto kind() const noexcept -> error_kind { return kind_; }

 private:
  error_kind kind_;
};

/// Called with the failed result in builds without exceptions. It must not return;
/// if it does, the program aborts.
using error_handler = void (*)(const check_result&) noexcept;

namespace detail {
inline void default_error_handler(const check_result& r) noexcept {
  std::fprintf(stderr, "shapeguard: %s\n", r.message().c_str());
}
inline auto error_handler_slot() noexcept -> std::atomic<error_handler>& {
  static std::atomic<error_handler> slot{&default_error_handler};
  return slot;
}
}  // namespace detail

/// Replaces the handler used when exceptions are disabled; returns the previous one.
inline auto set_error_handler(error_handler handler) noexcept -> error_handler {
  return detail::error_handler_slot().exchange(handler ? handler
                                                       : &detail::default_error_handler);
}

namespace detail {
/// Reports a failed result: throws `shape_error`, or without exceptions calls the handler
/// and aborts.
[[noreturn]] inline void raise(const check_result& r) {
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
  throw shape_error(r.kind(), r.message());
#else
  error_handler_slot().load()(r);
  std::abort();
#endif
}
}  // namespace detail

}  // namespace shapeguard
