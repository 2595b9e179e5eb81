#pragma once
// Checks of a call's output buffers (outputs.hpp): each output's shape and element type, its
// data pointer, and that it shares no memory with what the call reads while writing it. The
// gradient may be the logits' own buffer (in place); nothing else may overlap.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "../../options.hpp"
#include "../../outputs.hpp"
#include "report.hpp"

namespace shapeguard::detail {

/// Whether [a, a + n) and [b, b + m) share a byte.
inline auto overlaps(const void* a, std::size_t n, const void* b, std::size_t m) -> bool {
  if (n == 0 || m == 0) return false;
  const auto x = reinterpret_cast<std::uintptr_t>(a), y = reinterpret_cast<std::uintptr_t>(b);
  return x < y + m && y < x + n;
}

/// A buffer as the output checks see it: its shape, bytes and name.
struct buffer {
  shape sizes;
  const void* data;
  std::size_t bytes;
  std::string_view what;
};

template <class View, std::size_t R>
auto buffer_of(const View& v, const std::array<std::size_t, R>& sizes, std::string_view what)
    -> buffer {
  return {sizes, v.data(), v.size() * sizeof(typename View::value_type), what};
}

inline auto check_data(const buffer& b) -> check_result {
  std::size_t elements = 1;
  for (std::size_t s : b.sizes) elements *= s;
  if (b.data == nullptr && elements != 0)
    return failure(error_kind::invalid_option,
                   fmt::format("{} {} has {} elements but a null data pointer; hint: pass the "
                               "buffer's data() to the view",
                               b.what, shape_text(b.sizes), elements));
  return {};
}

/// `out` must not share a byte with the labels or the class weights: they are read while it is
/// written.
inline auto check_inputs_apart(const buffer& out, const buffer& labels, const ce_options& o)
    -> check_result {
  if (overlaps(out.data, out.bytes, labels.data, labels.bytes))
    return failure(error_kind::output_mismatch,
                   fmt::format("{} {} and {} {} share memory; hint: pass a separate buffer for "
                               "the output",
                               out.what, shape_text(out.sizes), labels.what,
                               shape_text(labels.sizes)));
  if (overlaps(out.data, out.bytes, o.class_weights.data(), o.class_weights.size_bytes()))
    return failure(error_kind::output_mismatch,
                   fmt::format("{} {} and ce_options::class_weights share memory; hint: pass a "
                               "separate buffer for the output",
                               out.what, shape_text(out.sizes)));
  return {};
}

/// The reduction asked for against the per-sample buffer passed. `solving`: the call computes
/// the loss; a check alone may take reduction::none without a buffer.
inline auto check_reduction(shape logits, const ce_options& o, bool has_losses, bool solving)
    -> check_result {
  if (has_losses && o.reduction != reduction::none)
    return failure(error_kind::invalid_option,
                   fmt::format("per-sample losses need ce_options::reduction = none, but it is "
                               "{}; hint: drop sg::per_sample(...) to get the {} as the result",
                               to_string(o.reduction), to_string(o.reduction)));
  if (!has_losses && solving && o.reduction == reduction::none)
    return failure(error_kind::invalid_option,
                   fmt::format("reduction::none gives one loss per sample and needs a buffer for "
                               "them; hint: pass sg::per_sample(losses) with the logits' batch "
                               "shape {}",
                               shape_text(logits.first(logits.size() - 1))));
  return {};
}

inline auto check_grad(const buffer& grad, const buffer& logits, const buffer& labels,
                       const ce_options& o) -> check_result {
  for (std::size_t a = 0; a < logits.sizes.size(); ++a)
    if (grad.sizes[a] != logits.sizes[a])
      return failure(error_kind::output_mismatch,
                     fmt::format("grad {} must have the logits' shape {}, but axis {} has {}, not "
                                 "{}; hint: allocate the gradient like the logits",
                                 shape_text(grad.sizes), shape_text(logits.sizes), a,
                                 grad.sizes[a], logits.sizes[a]));
  if (auto r = check_data(grad); !r) return r;
  if (grad.data != logits.data && overlaps(grad.data, grad.bytes, logits.data, logits.bytes))
    return failure(error_kind::output_mismatch,
                   fmt::format("grad {} overlaps logits {} without being the same buffer; hint: "
                               "pass the logits' own buffer for an in-place gradient, or a "
                               "separate one",
                               shape_text(grad.sizes), shape_text(logits.sizes)));
  return check_inputs_apart(grad, labels, o);
}

inline auto check_losses(const buffer& losses, const buffer& logits, const buffer* grad,
                         const buffer& labels, const ce_options& o) -> check_result {
  for (std::size_t a = 0; a + 1 < logits.sizes.size(); ++a)
    if (losses.sizes[a] != logits.sizes[a])
      return failure(error_kind::output_mismatch,
                     fmt::format("per-sample losses {} must have the batch shape of logits {}, "
                                 "but axis {} has {}, not {}; hint: one loss per sample, shaped "
                                 "like the logits without the class axis",
                                 shape_text(losses.sizes), shape_text(logits.sizes), a,
                                 losses.sizes[a], logits.sizes[a]));
  if (auto r = check_data(losses); !r) return r;
  if (overlaps(losses.data, losses.bytes, logits.data, logits.bytes))
    return failure(error_kind::output_mismatch,
                   fmt::format("per-sample losses {} overlap logits {}; hint: pass a separate "
                               "buffer",
                               shape_text(losses.sizes), shape_text(logits.sizes)));
  if (grad && overlaps(losses.data, losses.bytes, grad->data, grad->bytes))
    return failure(error_kind::output_mismatch,
                   fmt::format("per-sample losses {} overlap grad {}; hint: pass a separate "
                               "buffer",
                               shape_text(losses.sizes), shape_text(grad->sizes)));
  return check_inputs_apart(losses, labels, o);
}

/// Every output of `out` against the logits and labels: the static parts (ranks, element types)
/// at compile time, the rest here.
template <class Traits, class Outputs>
auto check_outputs(const typename Traits::logits_view& logits,
                   const typename Traits::labels_view& labels, const Outputs& out,
                   const ce_options& o, bool solving) -> check_result {
  using T = typename Traits::logit_type;
  const auto x = sizes_of(logits);
  const auto y = sizes_of(labels);
  const buffer logits_b = buffer_of(logits, x, "logits");
  const buffer labels_b = buffer_of(labels, y, labels_noun(Traits::encoding));
  if (auto r = check_reduction(x, o, Outputs::has_losses, solving); !r) return r;
  [[maybe_unused]] std::array<std::size_t, Traits::logits_rank> g{};
  [[maybe_unused]] buffer grad_b{};
  if constexpr (Outputs::has_grad) {
    using G = decltype(out.grad);
    static_assert(G::rank() == Traits::logits_rank, SHAPEGUARD_OP ": grad needs the logits' rank");
    static_assert(std::is_same_v<typename G::value_type, T>,
                  SHAPEGUARD_OP ": " SHAPEGUARD_HINT_GRAD_TYPE);
    g = sizes_of(out.grad);
    grad_b = buffer_of(out.grad, g, "grad");
    if (auto r = check_grad(grad_b, logits_b, labels_b, o); !r) return r;
  }
  if constexpr (Outputs::has_losses) {
    using L = decltype(out.losses);
    static_assert(L::rank() == Traits::batch_rank,
                  SHAPEGUARD_OP ": per-sample losses have the logits' batch axes (rank - 1)");
    static_assert(std::is_same_v<typename L::value_type, T>,
                  SHAPEGUARD_OP ": per-sample losses need the logits' element type");
    const auto l = sizes_of(out.losses);
    const buffer losses_b = buffer_of(out.losses, l, "per-sample losses");
    if (auto r = check_losses(losses_b, logits_b, Outputs::has_grad ? &grad_b : nullptr,
                              labels_b, o);
        !r)
      return r;
  }
  return {};
}

}  // namespace shapeguard::detail
