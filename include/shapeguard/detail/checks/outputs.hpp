#pragma once
// Checks of a call's output buffers (outputs.hpp): each output's shape and element type, its
// data pointer, and that it shares no memory with what the call reads while writing it. The
// gradient may be the logits' own buffer (in place); nothing else may overlap. The pieces here
// serve every loss; each loss's check_outputs names its own inputs and shapes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
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

/// A buffer as the output checks see it: its shape, bytes and name. `sized`: messages show its
/// shape after the name (not for option spans, which they name alone).
struct buffer {
  shape sizes;
  const void* data;
  std::size_t bytes;
  std::string_view what;
  bool sized = true;
};

/// The bytes a view can reach, whatever its layout: from data() to its largest offset.
template <class View, std::size_t R>
auto buffer_of(const View& v, const std::array<std::size_t, R>& sizes, std::string_view what)
    -> buffer {
  return {sizes, v.data(), v.required_span_size() * sizeof(typename View::value_type), what};
}

/// Whether two views reach the same elements in the same order: the same pointer, extents and
/// strides (an in-place gradient).
template <class A, class B>
auto same_elements(const A& a, const B& b) -> bool {
  if (static_cast<const void*>(a.data()) != static_cast<const void*>(b.data())) return false;
  for (std::size_t r = 0; r < A::rank(); ++r)
    if (a.extent(r) != b.extent(r) || (a.extent(r) > 1 && a.stride(r) != b.stride(r)))
      return false;
  return true;
}

/// `grad [4, 5]`, or an option's name alone.
inline auto buffer_text(const buffer& b) -> std::string {
  std::string out(b.what);
  if (b.sized) {
    out += ' ';
    out += shape_text(b.sizes);
  }
  return out;
}

inline auto not_unique(const buffer& out) -> check_result {
  return failure(error_kind::output_mismatch,
                 fmt::format("{} has strides that reach some element more than once (a stride "
                             "0, or axes that overlap); hint: pass an output view whose "
                             "elements are distinct",
                             buffer_text(out)));
}

/// An output view must reach each of its elements once.
template <class View>
auto check_unique(const View& v, const buffer& out) -> check_result {
  if (v.mapping().is_unique()) return {};
  return not_unique(out);
}

/// An option's span of weights, named like `ce_options::class_weights`.
inline auto buffer_of(std::span<const float> weights, std::string_view what) -> buffer {
  return {{}, weights.data(), weights.size_bytes(), what, false};
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

/// The inputs a call reads while it writes its outputs (apart from the logits).
using input_list = std::initializer_list<buffer>;

/// `out` must not share a byte with any of `inputs`: they are read while it is written.
inline auto check_inputs_apart(const buffer& out, input_list inputs) -> check_result {
  for (const buffer& in : inputs)
    if (overlaps(out.data, out.bytes, in.data, in.bytes))
      return failure(error_kind::output_mismatch,
                     fmt::format("{} and {} share memory; hint: pass a separate buffer for the "
                                 "output",
                                 buffer_text(out), buffer_text(in)));
  return {};
}

/// The reduction asked for against the per-sample buffer passed. `losses`: the shape that buffer
/// needs, described by `shaped` ("the logits' batch shape"); `options` names the options struct.
/// `solving`: the call computes the loss; a check alone may take reduction::none without a
/// buffer.
inline auto check_reduction(reduction r, std::string_view options, shape losses,
                            std::string_view shaped, bool has_losses, bool solving)
    -> check_result {
  if (has_losses && r != reduction::none)
    return failure(error_kind::invalid_option,
                   fmt::format("per-sample losses need {}::reduction = none, but it is {}; hint: "
                               "drop sg::per_sample(...) to get the {} as the result",
                               options, to_string(r), to_string(r)));
  if (!has_losses && solving && r == reduction::none)
    return failure(error_kind::invalid_option,
                   fmt::format("reduction::none gives one loss per sample and needs a buffer for "
                               "them; hint: pass sg::per_sample(losses) with {} {}",
                               shaped, shape_text(losses)));
  return {};
}

/// `in_place`: the gradient reaches the logits' own elements the same way (same_elements).
inline auto check_grad(const buffer& grad, const buffer& logits, input_list inputs,
                       bool in_place) -> check_result {
  for (std::size_t a = 0; a < logits.sizes.size(); ++a)
    if (grad.sizes[a] != logits.sizes[a])
      return failure(error_kind::output_mismatch,
                     fmt::format("grad {} must have the logits' shape {}, but axis {} has {}, not "
                                 "{}; hint: allocate the gradient like the logits",
                                 shape_text(grad.sizes), shape_text(logits.sizes), a,
                                 grad.sizes[a], logits.sizes[a]));
  if (auto r = check_data(grad); !r) return r;
  if (!in_place && overlaps(grad.data, grad.bytes, logits.data, logits.bytes))
    return failure(error_kind::output_mismatch,
                   fmt::format("grad {} overlaps logits {} without being the same buffer; hint: "
                               "pass the logits' own buffer for an in-place gradient, or a "
                               "separate one",
                               shape_text(grad.sizes), shape_text(logits.sizes)));
  return check_inputs_apart(grad, inputs);
}

/// Per-sample losses of shape `expected` (the logits' batch shape, or for a loss per element the
/// logits' shape, `per_element`).
inline auto check_losses(const buffer& losses, shape expected, bool per_element,
                         const buffer& logits, const buffer* grad, input_list inputs)
    -> check_result {
  for (std::size_t a = 0; a < expected.size(); ++a)
    if (losses.sizes[a] != expected[a]) {
      if (per_element)
        return failure(error_kind::output_mismatch,
                       fmt::format("per-sample losses {} must have the shape of logits {}, but "
                                   "axis {} has {}, not {}; hint: one loss per element, shaped "
                                   "like the logits",
                                   shape_text(losses.sizes), shape_text(logits.sizes), a,
                                   losses.sizes[a], expected[a]));
      return failure(error_kind::output_mismatch,
                     fmt::format("per-sample losses {} must have the batch shape of logits {}, "
                                 "but axis {} has {}, not {}; hint: one loss per sample, shaped "
                                 "like the logits without the class axis",
                                 shape_text(losses.sizes), shape_text(logits.sizes), a,
                                 losses.sizes[a], expected[a]));
    }
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
  return check_inputs_apart(losses, inputs);
}

/// Predictions of shape `expected` (the logits' batch shape) in integers of `bits` bits that
/// hold at most `max_value`; `others`: the call's other outputs and its inputs besides the
/// logits, none of which they may overlap.
inline auto check_predictions(const buffer& pred, shape expected, const buffer& logits,
                              std::size_t classes, unsigned long long max_value, int bits,
                              input_list others) -> check_result {
  for (std::size_t a = 0; a < expected.size(); ++a)
    if (pred.sizes[a] != expected[a])
      return failure(error_kind::output_mismatch,
                     fmt::format("predictions {} must have the batch shape of logits {}, but "
                                 "axis {} has {}, not {}; hint: one class per sample, shaped "
                                 "like the logits without the class axis",
                                 shape_text(pred.sizes), shape_text(logits.sizes), a,
                                 pred.sizes[a], expected[a]));
  if (classes > 0 && classes - 1 > max_value)
    return failure(error_kind::output_mismatch,
                   fmt::format("predictions {} of {}-bit integers cannot hold class {} of logits "
                               "{}; hint: use int32 or int64 predictions",
                               shape_text(pred.sizes), bits, classes - 1,
                               shape_text(logits.sizes)));
  if (auto r = check_data(pred); !r) return r;
  if (overlaps(pred.data, pred.bytes, logits.data, logits.bytes))
    return failure(error_kind::output_mismatch,
                   fmt::format("predictions {} overlap logits {}; hint: pass a separate buffer",
                               shape_text(pred.sizes), shape_text(logits.sizes)));
  return check_inputs_apart(pred, others);
}

/// Every output of `out` against the logits and labels of softmax_cross_entropy: the static
/// parts (ranks, element types) at compile time, the rest here.
template <class Traits, class Outputs>
auto check_outputs(const typename Traits::logits_view& logits,
                   const typename Traits::labels_view& labels, const Outputs& out,
                   const ce_options& o, bool solving) -> check_result {
  using T = typename Traits::logit_type;
  const auto x = sizes_of(logits);
  const auto y = sizes_of(labels);
  const buffer logits_b = buffer_of(logits, x, "logits");
  const buffer labels_b = buffer_of(labels, y, labels_noun(Traits::encoding));
  const buffer weights_b = buffer_of(o.class_weights, "ce_options::class_weights");
  const shape batch = shape(x).first(Traits::batch_rank);
  if (auto r = check_reduction(o.reduction, "ce_options", batch, "the logits' batch shape",
                               Outputs::has_losses, solving);
      !r)
    return r;
  [[maybe_unused]] std::array<std::size_t, Traits::logits_rank> g{};
  [[maybe_unused]] buffer grad_b{};
  if constexpr (Outputs::has_grad) {
    using G = decltype(out.grad);
    static_assert(G::rank() == Traits::logits_rank, SHAPEGUARD_OP ": grad needs the logits' rank");
    static_assert(std::is_same_v<typename G::value_type, T>,
                  SHAPEGUARD_OP ": " SHAPEGUARD_HINT_GRAD_TYPE);
    g = sizes_of(out.grad);
    grad_b = buffer_of(out.grad, g, "grad");
    if (auto r = check_grad(grad_b, logits_b, {labels_b, weights_b}, same_elements(out.grad, logits));
        !r)
      return r;
    if (auto r = check_unique(out.grad, grad_b); !r) return r;
  }
  [[maybe_unused]] std::array<std::size_t, Traits::batch_rank> l{};
  [[maybe_unused]] buffer losses_out{};
  if constexpr (Outputs::has_losses) {
    using L = decltype(out.losses);
    static_assert(L::rank() == Traits::batch_rank,
                  SHAPEGUARD_OP ": per-sample losses have the logits' batch axes (rank - 1)");
    static_assert(std::is_same_v<typename L::value_type, T>,
                  SHAPEGUARD_OP ": per-sample losses need the logits' element type");
    l = sizes_of(out.losses);
    const buffer losses_b = buffer_of(out.losses, l, "per-sample losses");
    if (auto r = check_losses(losses_b, batch, false, logits_b,
                              Outputs::has_grad ? &grad_b : nullptr, {labels_b, weights_b});
        !r)
      return r;
    if (auto r = check_unique(out.losses, losses_b); !r) return r;
    losses_out = losses_b;
  }
  if constexpr (Outputs::has_predictions) {
    using P = decltype(out.predictions.view);
    using E = typename P::value_type;
    static_assert(P::rank() == Traits::batch_rank,
                  SHAPEGUARD_OP ": predictions have the logits' batch axes (rank - 1)");
    static_assert(std::is_integral_v<E> && std::is_signed_v<E>,
                  SHAPEGUARD_OP ": predictions need a signed integer type (a row without a "
                                "prediction holds -1)");
    if (out.predictions.correct && Traits::encoding == label_encoding::probabilities)
      return failure(error_kind::invalid_option,
                     fmt::format("sg::predictions(..., correct) counts rows whose prediction is "
                                 "their label, but {} {} have no class per row; hint: pass "
                                 "sg::predictions(buffer) alone",
                                 labels_noun(Traits::encoding), shape_text(y)));
    const auto pr = sizes_of(out.predictions.view);
    const buffer pred_b = buffer_of(out.predictions.view, pr, "predictions");
    if (auto r = check_predictions(pred_b, batch, logits_b, x.back(),
                                   static_cast<unsigned long long>(std::numeric_limits<E>::max()),
                                   int(sizeof(E) * 8), {labels_b, weights_b, grad_b, losses_out});
        !r)
      return r;
    if (auto r = check_unique(out.predictions.view, pred_b); !r) return r;
  }
  return {};
}

}  // namespace shapeguard::detail
