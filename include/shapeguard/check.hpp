#pragma once
/// Run-time checks: `check` (throws `shape_error`) and `try_check` (returns a
/// `check_result`). They test what the types could not prove: each batch axis, the class
/// count, label values, option values and output buffers, in that order, and stop at the
/// first failure. Nothing is written by a check.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "compatible.hpp"
#include "errors.hpp"
#include "options.hpp"
#include "outputs.hpp"

namespace shapeguard {
namespace detail {

/// What the label pass learned, for the loss: the mean's denominator.
struct label_summary {
  double denominator = 0;  ///< sum of target weights over counted rows, or the row count
};

template <class... Args>
auto failure(error_kind kind, fmt::format_string<Args...> f, Args&&... args) -> check_result {
  return check_result(kind, std::string(SHAPEGUARD_OP ": ") +
                                fmt::format(f, std::forward<Args>(args)...));
}

/// `[1, 3]`: the multi-index of flat position `pos` in `e` (row-major).
template <class E>
auto index_of(const E& e, std::size_t pos) -> std::string {
  std::array<std::size_t, E::rank()> idx{};
  for (std::size_t r = E::rank(); r-- > 0;) {
    idx[r] = pos % e.extent(r);
    pos /= e.extent(r);
  }
  return fmt::format("[{}]", fmt::join(idx, ", "));
}

template <class E>
auto position_text(const E& e, std::size_t pos) -> std::string {
  if constexpr (E::rank() <= 1) {
    return fmt::format("position {}", pos);
  } else {
    return fmt::format("position {} (index {})", pos, index_of(e, pos));
  }
}

/// How messages name labels: `labels [15]`, `one-hot labels [8, 5]`.
constexpr auto labels_noun(label_encoding e) noexcept -> std::string_view {
  switch (e) {
    case label_encoding::one_hot: return "one-hot labels";
    case label_encoding::probabilities: return "probability labels";
    default: return "labels";
  }
}

/// `v + 1` as text, without overflow.
template <class I>
auto units_needed(I v) -> std::string {
  const auto u = static_cast<unsigned long long>(v);
  if (u == std::numeric_limits<unsigned long long>::max()) return "18446744073709551616";
  return fmt::format("{}", u + 1);
}

/// The logits' batch shape (every axis but the class axis), as `[32]`.
template <class View>
auto batch_shape_text(const View& v) -> std::string {
  std::string out = "[";
  for (std::size_t r = 0; r + 1 < View::rank(); ++r) {
    if (r != 0) out += ", ";
    out += std::to_string(v.extent(r));
  }
  return out + "]";
}

template <class Traits>
auto check_ranks(const typename Traits::logits_view& logits,
                 const typename Traits::labels_view& labels) -> check_result {
  if constexpr (!Traits::rank_ok) {
    const char* hint = SHAPEGUARD_HINT_RANK;
    if (Traits::indices && Traits::labels_rank == Traits::logits_rank &&
        labels.extent(Traits::labels_rank - 1) == 1)
      hint = "[N, 1] labels for [N, C] logits: " SHAPEGUARD_HINT_TRAILING_AXIS;
    else if (Traits::indices && !Traits::explicit_encoding &&
             Traits::labels_rank == Traits::logits_rank)
      hint = SHAPEGUARD_HINT_LOOKS_ONE_HOT;
    else if (!Traits::indices && !Traits::explicit_encoding &&
             Traits::labels_rank + 1 == Traits::logits_rank)
      hint = SHAPEGUARD_HINT_NO_CLASS_AXIS;
    return failure(error_kind::rank_mismatch,
                   "rank mismatch: logits {} have rank {} but {} {} have rank {}, not {}; "
                   "hint: {}",
                   logits.extents(), Traits::logits_rank, labels_noun(Traits::encoding),
                   labels.extents(), Traits::labels_rank, Traits::expected_labels_rank, hint);
  } else {
    (void)logits, (void)labels;
    return {};
  }
}

template <class Traits>
auto check_extents(const typename Traits::logits_view& logits,
                   const typename Traits::labels_view& labels) -> check_result {
  constexpr std::size_t batch_rank = Traits::batch_rank;
  for (std::size_t a = 0; a < batch_rank; ++a) {
    if (Traits::logits_static(a) != dyn && Traits::labels_static(a) != dyn &&
        Traits::logits_static(a) == Traits::labels_static(a))
      continue;  // proven at compile time
    const auto n = logits.extent(a), m = labels.extent(a);
    if (n == m) continue;
    if (batch_rank == 1)
      return failure(error_kind::batch_mismatch,
                     "batch size mismatch: logits {} have {} rows but {} {} have {} (axis 0); "
                     "hint: " SHAPEGUARD_HINT_SAME_BATCH,
                     logits.extents(), n, labels_noun(Traits::encoding), labels.extents(), m);
    return failure(error_kind::batch_mismatch,
                   "batch size mismatch on axis {}: logits {} have {} but {} {} have {}; "
                   "hint: " SHAPEGUARD_HINT_SAME_BATCH,
                   a, logits.extents(), n, labels_noun(Traits::encoding), labels.extents(), m);
  }
  if constexpr (!Traits::indices) {
    const auto c = logits.extent(batch_rank), k = labels.extent(batch_rank);
    if (c != k) {
      if (k == 1)
        return failure(error_kind::class_mismatch,
                       "class count mismatch: logits {} have {} classes but {} {} have 1 "
                       "column on axis {} (the class axis); hint: [N, 1] labels look like "
                       "class indices with a trailing axis: " SHAPEGUARD_HINT_TRAILING_AXIS,
                       logits.extents(), c, labels_noun(Traits::encoding), labels.extents(),
                       batch_rank);
      return failure(error_kind::class_mismatch,
                     "class count mismatch: logits {} have {} classes but {} {} have {} "
                     "columns on axis {} (the class axis); hint: the labels were encoded for "
                     "{} classes: " SHAPEGUARD_HINT_ONE_HOT_WIDTH " ({})",
                     logits.extents(), c, labels_noun(Traits::encoding), labels.extents(), k,
                     batch_rank, k, c);
    }
  }
  return {};
}

template <class Traits>
auto check_options(const typename Traits::logits_view& logits, const ce_options& o)
    -> check_result {
  const auto c = logits.extent(Traits::batch_rank);
  switch (o.reduction) {
    case reduction::mean:
    case reduction::sum:
    case reduction::none: break;
    default:
      return failure(error_kind::invalid_option,
                     "ce_options::reduction holds {}, which is not mean, sum or none; hint: "
                     "set it to one of the sg::reduction values",
                     static_cast<int>(o.reduction));
  }
  if (!(o.label_smoothing >= 0.0f && o.label_smoothing <= 1.0f))
    return failure(error_kind::invalid_option,
                   "ce_options::label_smoothing is {} but must be in [0, 1]; hint: 0.1 is a "
                   "common choice",
                   o.label_smoothing);
  if (!o.class_weights.empty()) {
    if (o.class_weights.size() != c)
      return failure(error_kind::invalid_option,
                     "ce_options::class_weights has {} entries but logits {} have {} classes; "
                     "hint: pass one weight per class, or none",
                     o.class_weights.size(), logits.extents(), c);
    if (o.class_weights.data() == nullptr)
      return failure(error_kind::invalid_option,
                     "ce_options::class_weights has {} entries but no data; hint: pass a span "
                     "over the weights",
                     o.class_weights.size());
    for (std::size_t k = 0; k < c; ++k) {
      const float w = o.class_weights[k];
      if (!(w >= 0.0f) || !std::isfinite(w))
        return failure(error_kind::invalid_option,
                       "ce_options::class_weights[{}] is {} but weights must be finite and "
                       ">= 0; hint: a weight of 0 leaves a class out",
                       k, w);
    }
  }
  if constexpr (!Traits::indices) {
    if (o.ignore_index != ce_options{}.ignore_index)
      return failure(error_kind::invalid_option,
                     "ce_options::ignore_index is {} but applies to class indices only, and "
                     "the labels are {}; hint: leave it at -100, or pass class indices",
                     o.ignore_index, labels_noun(Traits::encoding));
  }
  if (o.threads == 0)
    return failure(error_kind::invalid_option,
                   "ce_options::threads is 0; hint: 1 runs on the caller's thread");
  return {};
}

/// Whether [a, a + n) and [b, b + m) share a byte.
inline auto overlaps(const void* a, std::size_t n, const void* b, std::size_t m) -> bool {
  if (n == 0 || m == 0) return false;
  const auto x = reinterpret_cast<std::uintptr_t>(a), y = reinterpret_cast<std::uintptr_t>(b);
  return x < y + m && y < x + n;
}

template <class View>
auto check_data(const View& v, const char* what) -> check_result {
  if (v.data() == nullptr && v.size() != 0)
    return failure(error_kind::invalid_option,
                   "{} {} has {} elements but a null data pointer; hint: pass the "
                   "buffer's data() to the view",
                   what, v.extents(),
                   v.size());
  return {};
}

/// An output must not share a byte with the labels or the class weights: they are read while
/// it is written.
template <class Traits, class E>
auto check_input_overlap(const void* out, std::size_t bytes, const char* what, const E& extents,
                         const typename Traits::labels_view& labels, const ce_options& o)
    -> check_result {
  using Y = typename Traits::label_type;
  if (overlaps(out, bytes, labels.data(), labels.size() * sizeof(Y)))
    return failure(error_kind::output_mismatch,
                   "{} {} and {} {} share memory; hint: pass a separate buffer for the output",
                   what, extents, labels_noun(Traits::encoding), labels.extents());
  if (overlaps(out, bytes, o.class_weights.data(), o.class_weights.size_bytes()))
    return failure(error_kind::output_mismatch,
                   "{} {} and ce_options::class_weights share memory; hint: pass a separate "
                   "buffer for the output",
                   what, extents);
  return {};
}

template <class Traits, class Grad, class Losses>
auto check_outputs(const typename Traits::logits_view& logits,
                   const typename Traits::labels_view& labels, const Grad& grad,
                   const Losses& losses, const ce_options& o) -> check_result {
  using T = typename Traits::logit_type;
  constexpr bool has_grad = !std::is_same_v<Grad, no_output>;
  constexpr bool has_losses = !std::is_same_v<Losses, no_output>;
  if constexpr (has_losses) {
    if (o.reduction != reduction::none)
      return failure(error_kind::invalid_option,
                     "per-sample losses need ce_options::reduction = none, but it is {}; hint: "
                     "drop sg::per_sample(...) to get the {} as the result",
                     to_string(o.reduction), to_string(o.reduction));
  } else {
    if (o.reduction == reduction::none)
      return failure(error_kind::invalid_option,
                     "reduction::none gives one loss per sample and needs a buffer for them; "
                     "hint: pass sg::per_sample(losses) with the logits' batch shape {}",
                     batch_shape_text(logits));
  }
  if constexpr (has_grad) {
    static_assert(Grad::rank() == Traits::logits_rank,
                  SHAPEGUARD_OP ": grad needs the logits' rank");
    static_assert(std::is_same_v<typename Grad::value_type, T>,
                  SHAPEGUARD_OP ": " SHAPEGUARD_HINT_GRAD_TYPE);
    for (std::size_t a = 0; a < Traits::logits_rank; ++a)
      if (grad.extent(a) != logits.extent(a))
        return failure(error_kind::output_mismatch,
                       "grad {} must have the logits' shape {}, but axis {} has {}, not {}; "
                       "hint: allocate the gradient like the logits",
                       grad.extents(), logits.extents(), a, grad.extent(a), logits.extent(a));
    if (auto r = check_data(grad, "grad"); !r) return r;
    if (grad.data() != logits.data() &&
        overlaps(grad.data(), grad.size() * sizeof(T), logits.data(), logits.size() * sizeof(T)))
      return failure(error_kind::output_mismatch,
                     "grad {} overlaps logits {} without being the same buffer; hint: pass "
                     "the logits' own buffer for an in-place gradient, or a separate one",
                     grad.extents(), logits.extents());
    if (auto r = check_input_overlap<Traits>(grad.data(), grad.size() * sizeof(T), "grad",
                                             grad.extents(), labels, o);
        !r)
      return r;
  }
  if constexpr (has_losses) {
    using L = std::remove_cvref_t<decltype(losses.view)>;
    static_assert(L::rank() == Traits::batch_rank,
                  SHAPEGUARD_OP ": per-sample losses have the logits' batch axes (rank - 1)");
    static_assert(std::is_same_v<typename L::value_type, T>,
                  SHAPEGUARD_OP ": per-sample losses need the logits' element type");
    for (std::size_t a = 0; a < Traits::batch_rank; ++a)
      if (losses.view.extent(a) != logits.extent(a))
        return failure(error_kind::output_mismatch,
                       "per-sample losses {} must have the batch shape of logits {}, but axis "
                       "{} has {}, not {}; hint: one loss per sample, shaped like the logits "
                       "without the class axis",
                       losses.view.extents(), logits.extents(), a, losses.view.extent(a),
                       logits.extent(a));
    if (auto r = check_data(losses.view, "per-sample losses"); !r) return r;
    const auto bytes = losses.view.size() * sizeof(T);
    if (overlaps(losses.view.data(), bytes, logits.data(), logits.size() * sizeof(T)))
      return failure(error_kind::output_mismatch,
                     "per-sample losses {} overlap logits {}; hint: pass a separate buffer",
                     losses.view.extents(), logits.extents());
    if constexpr (has_grad) {
      if (overlaps(losses.view.data(), bytes, grad.data(), grad.size() * sizeof(T)))
        return failure(error_kind::output_mismatch,
                       "per-sample losses {} overlap grad {}; hint: pass a separate buffer",
                       losses.view.extents(), grad.extents());
    }
    if (auto r = check_input_overlap<Traits>(losses.view.data(), bytes, "per-sample losses",
                                             losses.view.extents(), labels, o);
        !r)
      return r;
  }
  return {};
}

template <class Traits>
auto check_class_indices(const typename Traits::logits_view& logits,
                         const typename Traits::labels_view& labels, const ce_options& o,
                         label_summary& summary) -> check_result {
  const std::size_t c = logits.extent(Traits::batch_rank);
  const auto* y = labels.data();
  const std::size_t n = labels.size();
  const bool weighted = !o.class_weights.empty();
  if (!weighted) {
    // The common case first, without a branch per label: count the rows that are not ignored
    // and note whether any label is out of range; the loop below finds and names it.
    // Four independent chains, so that a label costs about a cycle.
    // (unsigned, not bool: `|` and `&` on bools draw clang's -Wbitwise-instead-of-logical)
    std::size_t counted[4] = {};
    unsigned bad[4] = {};
    auto scan = [&](std::size_t k, std::size_t i) {
      const auto v = y[i];
      const unsigned live = !std::cmp_equal(v, o.ignore_index);
      const unsigned out = unsigned{std::cmp_less(v, 0)} | unsigned{!std::cmp_less(v, c)};
      bad[k] |= live & out;
      counted[k] += live;
    };
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      scan(0, i);
      scan(1, i + 1);
      scan(2, i + 2);
      scan(3, i + 3);
    }
    for (; i < n; ++i) scan(0, i);
    if ((bad[0] | bad[1] | bad[2] | bad[3]) == 0) {
      summary.denominator = double(counted[0] + counted[1] + counted[2] + counted[3]);
      return {};
    }
  }
  std::size_t counted = 0;
  double weight_total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = y[i];
    if (std::cmp_equal(v, o.ignore_index)) continue;
    if (std::cmp_less(v, 0))
      return failure(error_kind::label_out_of_range,
                     "logits {}, labels {}: label {} at {} is outside [0, {}) and is not "
                     "ignore_index ({}); hint: labels count classes from 0; if these rows are "
                     "padding, set ce_options::ignore_index to {}",
                     logits.extents(), labels.extents(), +v, position_text(labels.extents(), i),
                     c, o.ignore_index, +v);
    if (!std::cmp_less(v, c))
      return failure(error_kind::label_out_of_range,
                     "logits {}, labels {}: label {} at {} is outside [0, {}): logits have {} "
                     "classes; the output layer needs {} units, or the labels need "
                     "re-indexing",
                     logits.extents(), labels.extents(), +v, position_text(labels.extents(), i),
                     c, c, units_needed(v));
    ++counted;
    if (weighted) weight_total += double(o.class_weights[static_cast<std::size_t>(v)]);
  }
  summary.denominator = weighted ? weight_total : double(counted);
  return {};
}

template <class Traits>
auto check_target_rows(const typename Traits::logits_view& logits,
                       const typename Traits::labels_view& labels, label_summary& summary)
    -> check_result {
  using U = typename Traits::label_type;
  const std::size_t c = logits.extent(Traits::batch_rank);
  const auto* t = labels.data();
  const auto& e = labels.extents();
  // rows from the batch axes, not size / c: with no classes, each row sums to 0, not to 1
  std::size_t rows = 1;
  for (std::size_t a = 0; a < Traits::batch_rank; ++a) rows *= e.extent(a);
  for (std::size_t r = 0; r < rows; ++r) {
    const U* row = t + r * c;
    if constexpr (Traits::encoding == label_encoding::one_hot) {
      std::size_t ones = 0, first = 0;
      for (std::size_t k = 0; k < c; ++k) {
        if (row[k] == U(1)) {
          if (ones++ == 0) first = k;
        } else if (row[k] != U(0)) {
          return failure(error_kind::invalid_one_hot,
                         "one-hot labels {}: row {} holds {} at {}; a one-hot row holds "
                         "exactly one 1 and zeros elsewhere; hint: pass soft targets as "
                         "sg::probabilities(...)",
                         e, r, +row[k], position_text(e, r * c + k));
        }
      }
      if (ones != 1)
        return failure(error_kind::invalid_one_hot,
                       "one-hot labels {}: row {} holds {} ones{}; a one-hot row holds exactly "
                       "one 1 and zeros elsewhere; hint: pass soft or multi-label targets as "
                       "sg::probabilities(...)",
                       e, r, ones,
                       ones == 0 ? std::string()
                                 : fmt::format(" (the first at column {})", first));
    } else {
      double sum = 0;
      for (std::size_t k = 0; k < c; ++k) {
        if (!(row[k] >= U(0)) || !std::isfinite(row[k]))
          return failure(error_kind::invalid_probabilities,
                         "{} {}: row {} holds {} at {}; probability rows hold finite, "
                         "non-negative values that sum to 1; hint: make targets with a softmax "
                         "or by normalising counts",
                         labels_noun(Traits::encoding), e, r, row[k],
                         position_text(e, r * c + k));
        sum += double(row[k]);
      }
      const double tol = (std::is_same_v<U, float> ? 1e-4 : 1e-9) +
                         double(c) * double(std::numeric_limits<U>::epsilon());
      if (!(std::fabs(sum - 1.0) <= tol))
        return failure(error_kind::invalid_probabilities,
                       "{} {}: row {} sums to {} instead of 1 (tolerance {:g}); hint: targets "
                       "are one-hot or probability rows: normalise them, or pass integer "
                       "class indices",
                       labels_noun(Traits::encoding), e, r, sum, tol);
    }
  }
  summary.denominator = double(rows);
  return {};
}

template <class Traits>
auto check_finite_logits(const typename Traits::logits_view& logits) -> check_result {
  const auto* x = logits.data();
  for (std::size_t i = 0, n = logits.size(); i < n; ++i)
    if (!std::isfinite(x[i]))
      return failure(error_kind::non_finite,
                     "logits {}: {} at {} is not finite; hint: look for an overflow or a "
                     "division by zero in the forward pass (a learning rate too high?)",
                     logits.extents(), x[i], position_text(logits.extents(), i));
  return {};
}

/// Every check, in order; `Static` makes proven mismatches fail to compile (the checked
/// calls) instead of returning them (`try_check`).
template <bool Static, class LogitsView, class Labels, class Grad, class Losses>
auto validate(const LogitsView& logits, const Labels& labels, const Grad& grad,
              const Losses& losses, const ce_options& o, label_summary& summary)
    -> check_result {
  using Traits = pair_traits<LogitsView, Labels>;
  static_assert(Traits::logits_floating, SHAPEGUARD_OP ": " SHAPEGUARD_HINT_FLOATING_LOGITS);
  static_assert(Traits::labels_type_ok, SHAPEGUARD_OP ": " SHAPEGUARD_HINT_FLOATING_LABELS);
  static_assert(Traits::logits_ranked, SHAPEGUARD_OP ": " SHAPEGUARD_HINT_LOGITS_RANK);
  if constexpr (Static) assert_static_compatible<Traits>();
  if constexpr (!Traits::rank_ok) {
    return check_ranks<Traits>(logits, labels.view);
  } else {
    if (auto r = check_extents<Traits>(logits, labels.view); !r) return r;
    if (auto r = check_data(logits, "logits"); !r) return r;
    if (auto r = check_data(labels.view, labels_noun(Traits::encoding).data()); !r) return r;
    if (auto r = check_options<Traits>(logits, o); !r) return r;
    if (auto r = check_outputs<Traits>(logits, labels.view, grad, losses, o); !r) return r;
    if constexpr (Traits::indices) {
      if (auto r = check_class_indices<Traits>(logits, labels.view, o, summary); !r) return r;
    } else {
      if (auto r = check_target_rows<Traits>(logits, labels.view, summary); !r) return r;
    }
    if (o.check_finite)
      if (auto r = check_finite_logits<Traits>(logits); !r) return r;
    return {};
  }
}

}  // namespace detail

}  // namespace shapeguard

namespace shapeguard {
namespace detail {
template <class G>
constexpr auto grad_view(G&& g) {
  if constexpr (std::is_same_v<std::remove_cvref_t<G>, no_output>) {
    return no_output{};
  } else {
    return as_mutable_view(std::forward<G>(g));
  }
}

/// The checks of one checked call: logits and labels, then the outputs it would write.
template <bool Static, class Logits, class Labels, class Losses, class Grad>
auto check_call(const Logits& logits, const Labels& labels, const Losses& losses,
                const Grad& grad, const ce_options& o, label_summary& summary)
    -> check_result {
  return validate<Static>(as_const_view(logits), as_labels(labels), grad, losses, o, summary);
}

template <class G>
concept grad_like = view_like<std::remove_cvref_t<G>>;
}  // namespace detail

/// Checks logits against labels and options; throws `shape_error` on the first failure.
template <detail::view_like Logits, detail::labels_like Labels>
void check(const Logits& logits, const Labels& labels, const ce_options& options = {}) {
  ce_options o = options;
  if (o.reduction == reduction::none) o.reduction = reduction::sum;  // no buffer to check
  detail::label_summary s;
  if (auto r = detail::check_call<true>(logits, labels, detail::no_output{}, detail::no_output{},
                                        o, s);
      !r)
    detail::raise(r);
}

/// Also checks the gradient buffer that the loss would write.
template <detail::view_like Logits, detail::labels_like Labels, detail::grad_like Grad>
void check(const Logits& logits, const Labels& labels, Grad&& grad,
           const ce_options& options = {}) {
  ce_options o = options;
  if (o.reduction == reduction::none) o.reduction = reduction::sum;
  detail::label_summary s;
  if (auto r = detail::check_call<true>(logits, labels, detail::no_output{},
                                        detail::grad_view(std::forward<Grad>(grad)), o, s);
      !r)
    detail::raise(r);
}

/// Also checks the per-sample loss buffer that the loss would write.
template <detail::view_like Logits, detail::labels_like Labels, class V>
void check(const Logits& logits, const Labels& labels, const per_sample_losses<V>& losses,
           const ce_options& options = {.reduction = reduction::none}) {
  detail::label_summary s;
  if (auto r = detail::check_call<true>(logits, labels, losses, detail::no_output{}, options, s);
      !r)
    detail::raise(r);
}

/// Also checks the per-sample loss and gradient buffers that the loss would write.
template <detail::view_like Logits, detail::labels_like Labels, class V, detail::grad_like Grad>
void check(const Logits& logits, const Labels& labels, const per_sample_losses<V>& losses,
           Grad&& grad, const ce_options& options = {.reduction = reduction::none}) {
  detail::label_summary s;
  if (auto r = detail::check_call<true>(logits, labels, losses,
                                        detail::grad_view(std::forward<Grad>(grad)), options, s);
      !r)
    detail::raise(r);
}

/// Like `check`, returning the outcome instead of throwing. A pair the types prove
/// incompatible is reported here (as `rank_mismatch`, `batch_mismatch` or `class_mismatch`)
/// rather than refused by the compiler, so tools can show the message.
template <detail::view_like Logits, detail::labels_like Labels>
auto try_check(const Logits& logits, const Labels& labels, const ce_options& options = {})
    -> check_result {
  ce_options o = options;
  if (o.reduction == reduction::none) o.reduction = reduction::sum;
  detail::label_summary s;
  return detail::check_call<false>(logits, labels, detail::no_output{}, detail::no_output{}, o,
                                   s);
}

template <detail::view_like Logits, detail::labels_like Labels, detail::grad_like Grad>
auto try_check(const Logits& logits, const Labels& labels, Grad&& grad,
               const ce_options& options = {}) -> check_result {
  ce_options o = options;
  if (o.reduction == reduction::none) o.reduction = reduction::sum;
  detail::label_summary s;
  return detail::check_call<false>(logits, labels, detail::no_output{},
                                   detail::grad_view(std::forward<Grad>(grad)), o, s);
}

template <detail::view_like Logits, detail::labels_like Labels, class V>
auto try_check(const Logits& logits, const Labels& labels, const per_sample_losses<V>& losses,
               const ce_options& options = {.reduction = reduction::none}) -> check_result {
  detail::label_summary s;
  return detail::check_call<false>(logits, labels, losses, detail::no_output{}, options, s);
}

template <detail::view_like Logits, detail::labels_like Labels, class V, detail::grad_like Grad>
auto try_check(const Logits& logits, const Labels& labels, const per_sample_losses<V>& losses,
               Grad&& grad, const ce_options& options = {.reduction = reduction::none})
    -> check_result {
  detail::label_summary s;
  return detail::check_call<false>(logits, labels, losses,
                                   detail::grad_view(std::forward<Grad>(grad)), options, s);
}

}  // namespace shapeguard
