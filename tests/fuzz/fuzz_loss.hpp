// One fuzz case of the loss: decode shapes, values, options and a call form from the input,
// predict from the contract which checks the inputs violate, run the public call on every
// instruction set, and hold the result to the property stated in fuzz_common.hpp.
#pragma once

#include <optional>
#include <set>

#include "fuzz_common.hpp"

namespace fuzz {

/// How labels are passed.
enum class encoding {
  indices,                ///< an integer view: class indices by type
  indices_wrapped,        ///< sg::class_indices(view)
  probabilities,          ///< a floating view with the logits' rank: per-class targets by type
  probabilities_wrapped,  ///< sg::probabilities(view)
  one_hot,                ///< sg::one_hot(view), integer or floating 0/1 rows
};

constexpr auto is_dense(encoding e) -> bool {
  return e != encoding::indices && e != encoding::indices_wrapped;
}

template <encoding E, class V>
auto wrap_labels(const V& v) {
  if constexpr (E == encoding::indices_wrapped) {
    return sg::class_indices(v);
  } else if constexpr (E == encoding::probabilities_wrapped) {
    return sg::probabilities(v);
  } else if constexpr (E == encoding::one_hot) {
    return sg::one_hot(v);
  } else {
    return v;
  }
}

template <class E, std::size_t N>
auto make_view(E* p, const std::array<std::size_t, N>& e) {
  return std::apply(
      [&](auto... n) { return sg::tensor_view<E, sg::dims<N>>(p, n...); }, e);
}

/// Sets one axis of `e` (chosen by the input) to another value, often off by one.
template <std::size_t N>
void mutate_axis(source& s, std::array<std::size_t, N>& e, std::size_t class_axis) {
  if constexpr (N > 0) {
    const std::size_t a = s.below(N);
    switch (s.below(4)) {
      case 0: e[a] = e[a] + 1; break;
      case 1: e[a] = e[a] == 0 ? 1 : e[a] - 1; break;
      case 2: e[a] = a == class_axis ? class_extent(s) : batch_extent(s); break;
      default: e[a] = huge_extent(s); break;
    }
  }
}

/// Fills class indices of type Y: mostly valid, then ignore_index and values at every edge.
template <class Y>
void fill_indices(source& s, Y* y, std::size_t n, std::size_t classes, std::int64_t ignore) {
  using L = std::numeric_limits<Y>;
  const bool corrupt = s.one_in(4), with_ignored = s.one_in(3);
  const std::size_t rate = 1 + s.below(64);
  for (std::size_t i = 0; i < n; ++i) {
    Y v = classes == 0 ? Y(0) : static_cast<Y>(s.next() % std::min<std::size_t>(classes, L::max()));
    if (with_ignored && s.next() % 4 == 0 && std::in_range<Y>(ignore)) v = static_cast<Y>(ignore);
    if (corrupt && s.next() % rate == 0) {
      switch (s.next() % 7) {
        case 0: v = L::max(); break;
        case 1: v = L::min(); break;  // 0 for unsigned types
        case 2:
          if (std::in_range<Y>(classes)) v = static_cast<Y>(classes);
          break;
        case 3:
          if (std::in_range<Y>(classes + 1)) v = static_cast<Y>(classes + 1);
          break;
        case 4: v = static_cast<Y>(-1); break;  // wraps to max for unsigned types
        case 5: v = static_cast<Y>(-100); break;
        default: v = static_cast<Y>(s.next()); break;
      }
    }
    y[i] = v;
  }
}

/// Fills per-class target rows of type U: one-hot, uniform, random probability rows, and
/// (when corrupting) rows with a negative, NaN or infinite entry, a wrong sum, or two ones.
template <class U>
void fill_targets(source& s, U* t, std::size_t rows, std::size_t classes, bool one_hot) {
  const bool corrupt = s.one_in(4);
  const std::size_t rate = 1 + s.below(16);
  const std::uint8_t style = s.byte();
  if (rows == 0) return;  // (then classes may be huge)
  std::vector<long double> row(classes);
  for (std::size_t i = 0; i < rows; ++i) {
    U* r = t + i * classes;
    if (classes == 0) continue;
    const std::size_t hot = s.next() % classes;
    if (one_hot || style < 100) {
      for (std::size_t c = 0; c < classes; ++c) r[c] = U(c == hot ? 1 : 0);
    } else if (style < 130) {
      for (std::size_t c = 0; c < classes; ++c) r[c] = U(1.0L / classes);
    } else {
      // random rows, some with entries spanning many magnitudes (down to underflow)
      const bool spread = style >= 220;
      long double sum = 0;
      for (std::size_t c = 0; c < classes; ++c) {
        row[c] = spread ? std::pow(10.0L, -60.0L * s.unit()) : s.unit();
        if (s.next() % 4 == 0) row[c] = 0;
        sum += row[c];
      }
      if (sum == 0) row[hot] = sum = 1;
      for (std::size_t c = 0; c < classes; ++c) r[c] = U(row[c] / sum);
    }
    if (corrupt && s.next() % rate == 0) {
      const std::size_t c = s.next() % classes;
      if constexpr (std::is_floating_point_v<U>) {
        if (!one_hot && s.next() % 3 == 0) {
          // a row whose sum is off by 1e-8 to 1e-1 relative, across the tolerance's edge
          const long double off = std::pow(10.0L, -8.0L + 7.0L * s.unit());
          const long double f = s.next() % 2 ? 1 + off : 1 - off;
          for (std::size_t k = 0; k < classes; ++k) r[k] = U(static_cast<long double>(r[k]) * f);
          continue;
        }
        static const U bad[] = {U(-1e-3), -std::numeric_limits<U>::denorm_min(),
                                std::numeric_limits<U>::quiet_NaN(),
                                std::numeric_limits<U>::infinity(), U(0.5), U(1), U(2), U(0)};
        r[c] = bad[s.next() % 8];
      } else {
        const U bad[] = {U(0), U(1), U(2), static_cast<U>(-1), std::numeric_limits<U>::max()};
        r[c] = bad[s.next() % 5];
      }
    }
  }
}

/// What the inputs violate, from the contract: the kinds a call may raise.
struct verdict {
  std::set<sg::error_kind> kinds;
  bool maybe_probabilities = false;  // a row sum within the band where either answer is fine
  auto expect_error() const -> bool { return !kinds.empty(); }
  auto text() const -> std::string {
    std::string out = "{";
    for (auto k : kinds) out += fmt::format(" {}", sg::to_string(k));
    return out + (maybe_probabilities ? " maybe:invalid_probabilities }" : " }");
  }
  auto allows(sg::error_kind k) const -> bool {
    return kinds.count(k) != 0 || (maybe_probabilities && k == sg::error_kind::invalid_probabilities);
  }
};

template <class T, class Y, std::size_t R, encoding E>
void run_loss(source& s) {
  static_assert(R >= 1 && R <= 4);
  constexpr bool dense = is_dense(E);
  constexpr std::size_t LR = dense ? R : R - 1;  // labels' rank
  constexpr std::size_t B = R - 1;               // batch axes
  auto& st = stats();
  ++st.inputs;

  // --- shapes ---
  std::array<std::size_t, R> xe{};
  for (std::size_t a = 0; a < B; ++a) xe[a] = batch_extent(s);
  xe[B] = class_extent(s);
  std::array<std::size_t, LR> ye{};
  for (std::size_t a = 0; a < LR; ++a) ye[a] = xe[a];
  if (s.one_in(10)) mutate_axis(s, ye, dense ? B : LR);
  const int form = static_cast<int>(s.below(4));  // loss, +grad, +per-sample, +both
  const bool has_grad = form == 1 || form == 3, has_losses = form >= 2;
  const bool in_place = has_grad && s.one_in(4);
  std::array<std::size_t, R> ge = xe;
  if (has_grad && !in_place && s.one_in(16)) mutate_axis(s, ge, B);
  std::array<std::size_t, B> le{};
  for (std::size_t a = 0; a < B; ++a) le[a] = xe[a];
  if (has_losses && s.one_in(16)) mutate_axis(s, le, B);
  const bool arena = s.one_in(10);

  // every view must be constructible: otherwise the extents reject it
  {
    const bool valid = extents_valid(xe) && extents_valid(ye) && (!has_grad || extents_valid(ge)) &&
                       (!has_losses || extents_valid(le));
    if (!valid) {
      ++st.bad_extents;
      T dummy_t{};
      Y dummy_y{};
      try {
        (void)make_view(&dummy_t, xe);
        (void)make_view(&dummy_y, ye);
        if (has_grad) (void)make_view(&dummy_t, ge);
        if (has_losses) (void)make_view(&dummy_t, le);
      } catch (const sg::shape_error& e) {
        FUZZ_REQUIRE(e.kind() == sg::error_kind::invalid_option, "kind {}: {}",
                     sg::to_string(e.kind()), e.what());
        return;
      }
      fail("extents that overflow std::size_t (or equal sg::dyn) were accepted");
    }
  }
  const std::size_t x_size = *product(xe), y_size = *product(ye);
  const std::size_t g_size = *product(ge), l_size = *product(le);
  const std::size_t rows = *product(xe, B), classes = xe[B];

  bool labels_mismatch = false;
  for (std::size_t a = 0; a < (dense ? R : B); ++a) labels_mismatch |= ye[a] != xe[a];
  const bool grad_mismatch = has_grad && ge != xe;
  bool losses_mismatch = false;
  for (std::size_t a = 0; a < B; ++a) losses_mismatch |= has_losses && le[a] != xe[a];

  // Views larger than max_elements point at a stand-in: the call may only see them when a
  // shape check rejects it before any element is read.
  const bool big_x = x_size > max_elements, big_y = y_size > max_elements;
  if (!labels_mismatch && (big_x || big_y)) {
    ++st.skipped;
    return;
  }

  // --- buffers ---
  // In the arena layout the buffers of type T (logits, gradient, per-sample losses, and the
  // labels or class weights when they have that type) share one allocation at offsets the
  // input chooses, so that any of them may overlap.
  std::vector<T> arena_storage;
  auto x_buf = buffer<T>::make(s, big_x ? std::nullopt : std::optional(x_size), true);
  auto y_buf = buffer<Y>::make(s, big_y ? std::nullopt : std::optional(y_size), true);
  auto g_buf = buffer<T>{};
  auto l_buf = buffer<T>{};
  if (has_grad && !in_place)
    g_buf = buffer<T>::make(s, g_size > max_elements ? std::nullopt : std::optional(g_size), true);
  if (has_losses)
    l_buf = buffer<T>::make(s, l_size > max_elements ? std::nullopt : std::optional(l_size), true);

  std::vector<float> weights;
  sg::ce_options o = options_value(s, classes, has_losses, !dense, weights);
  const float* w_data = weights.data();

  T* x_ptr = x_buf.data;
  Y* y_ptr = y_buf.data;
  T* g_ptr = in_place ? x_buf.data : g_buf.data;
  T* l_ptr = l_buf.data;
  std::size_t x_n = x_buf.size, y_n = y_buf.size, g_n = in_place ? x_n : g_buf.size,
              l_n = l_buf.size;
  if (arena && !big_x && !big_y && !x_buf.stand_in && !g_buf.stand_in && !l_buf.stand_in) {
    constexpr bool labels_in = std::is_same_v<Y, T>;
    constexpr bool weights_in = std::is_same_v<T, float>;
    const std::size_t total = x_n + g_n + l_n + (labels_in ? y_n : 0) +
                              (weights_in ? weights.size() : 0) + 8;
    arena_storage.assign(total, T(0));
    T* base = arena_storage.data();
    auto place = [&](std::size_t n) -> T* {
      return base + (s.one_in(2) ? s.below(total - n + 1) : total - n);
    };
    if (x_ptr) x_ptr = base;
    if (has_grad && !in_place && g_ptr) g_ptr = place(g_n);
    if (in_place) g_ptr = x_ptr;
    if (has_losses && l_ptr) l_ptr = place(l_n);
    if constexpr (labels_in) {
      if (y_ptr && s.one_in(2)) y_ptr = place(y_n);
    }
    if constexpr (weights_in) {
      if (!weights.empty() && s.one_in(2)) w_data = place(weights.size());
    }
  }

  // --- values, written in the order the arena overlaps resolve ---
  const regime rx = pick_regime(s);
  for (std::size_t i = 0; i < x_n && x_ptr; ++i) x_ptr[i] = logit_value<T>(s, rx);
  if (y_ptr && !y_buf.stand_in) {
    if constexpr (dense) {
      const std::size_t label_rows = ye[LR - 1] == 0 ? 0 : y_n / ye[LR - 1];
      fill_targets(s, y_ptr, label_rows, ye[LR - 1], E == encoding::one_hot);
    } else {
      fill_indices(s, y_ptr, y_n, classes, o.ignore_index);
    }
  }
  if (w_data != weights.data()) std::copy(weights.begin(), weights.end(), const_cast<float*>(w_data));
  o.class_weights = std::span<const float>(w_data, weights.size());
  // outputs start as a pattern (0x7f bytes: 3.4e38 in float, 1.4e306 in double), so that an
  // entry the call leaves unwritten disagrees with the reference
  if (g_ptr && !in_place && !arena_storage.size()) std::memset(g_ptr, 0x7f, g_n * sizeof(T));
  if (l_ptr && !arena_storage.size()) std::memset(l_ptr, 0x7f, l_n * sizeof(T));

  // --- the verdict, from the contract ---
  verdict v;
  using K = sg::error_kind;
  if (labels_mismatch) {
    for (std::size_t a = 0; a < B; ++a)
      if (ye[a] != xe[a]) v.kinds.insert(K::batch_mismatch);
    if (dense && ye[LR - 1] != xe[B]) v.kinds.insert(K::class_mismatch);
  }
  if (classes == 1) v.kinds.insert(K::single_class);  // a softmax over one class cannot learn
  if (!x_ptr && x_size != 0) v.kinds.insert(K::invalid_option);
  if (!y_ptr && y_size != 0) v.kinds.insert(K::invalid_option);
  const bool reduction_valid = o.reduction == sg::reduction::mean ||
                               o.reduction == sg::reduction::sum ||
                               o.reduction == sg::reduction::none;
  if (!reduction_valid) v.kinds.insert(K::invalid_option);
  if (!(o.label_smoothing >= 0.0f && o.label_smoothing <= 1.0f)) v.kinds.insert(K::invalid_option);
  if (!weights.empty()) {
    if (weights.size() != classes) v.kinds.insert(K::invalid_option);
    for (float w : weights)
      if (!(w >= 0.0f) || !std::isfinite(w)) v.kinds.insert(K::invalid_option);
  }
  if (dense && o.ignore_index != -100) v.kinds.insert(K::invalid_option);
  if (o.threads == 0) v.kinds.insert(K::invalid_option);
  if (denominator_refused(o.denominator, o.reduction)) v.kinds.insert(K::invalid_option);
  if (z_loss_refused(o.z_loss)) v.kinds.insert(K::invalid_option);
  if (soft_cap_refused(o.soft_cap)) v.kinds.insert(K::invalid_option);
  // reduction::none without a per-sample buffer: the call refuses it, try_check does not look
  // (it checks without a buffer as if for sum)
  const bool none_without_buffer = !has_losses && o.reduction == sg::reduction::none;
  if (has_losses && o.reduction != sg::reduction::none) v.kinds.insert(K::invalid_option);
  const std::size_t x_bytes = x_size * sizeof(T), y_bytes = y_size * sizeof(Y);
  const std::size_t w_bytes = weights.size() * sizeof(float);
  if (has_grad) {
    if (grad_mismatch) v.kinds.insert(K::output_mismatch);
    if (!g_ptr && g_size != 0) v.kinds.insert(K::invalid_option);
    const std::size_t gb = g_size * sizeof(T);
    if (!grad_mismatch && !g_buf.stand_in) {
      if (g_ptr != x_ptr && overlap(g_ptr, gb, x_ptr, x_bytes)) v.kinds.insert(K::output_mismatch);
      if (overlap(g_ptr, gb, y_ptr, y_bytes)) v.kinds.insert(K::output_mismatch);
      if (overlap(g_ptr, gb, w_data, w_bytes)) v.kinds.insert(K::output_mismatch);
    }
  }
  if (has_losses) {
    if (losses_mismatch) v.kinds.insert(K::output_mismatch);
    if (!l_ptr && l_size != 0) v.kinds.insert(K::invalid_option);
    const std::size_t lb = l_size * sizeof(T);
    if (!losses_mismatch && !l_buf.stand_in) {
      if (overlap(l_ptr, lb, x_ptr, x_bytes)) v.kinds.insert(K::output_mismatch);
      if (has_grad && overlap(l_ptr, lb, g_ptr, g_size * sizeof(T)))
        v.kinds.insert(K::output_mismatch);
      if (overlap(l_ptr, lb, y_ptr, y_bytes)) v.kinds.insert(K::output_mismatch);
      if (overlap(l_ptr, lb, w_data, w_bytes)) v.kinds.insert(K::output_mismatch);
    }
  }
  // (matching labels imply that neither logits nor labels are stand-ins)
  const bool values_known =
      !labels_mismatch && (x_ptr || x_size == 0) && (y_ptr || y_size == 0);
  if (values_known) {
    if constexpr (dense) {
      for (std::size_t i = 0; i < rows; ++i) {
        const Y* r = y_ptr + i * classes;
        if constexpr (E == encoding::one_hot) {
          std::size_t ones = 0;
          bool other = false;
          for (std::size_t c = 0; c < classes; ++c) {
            ones += r[c] == Y(1);
            other |= r[c] != Y(1) && r[c] != Y(0);
          }
          if (ones != 1 || other) {
            v.kinds.insert(K::invalid_one_hot);
            break;  // one is enough (and with no classes, the rows may be countless)
          }
        } else {
          long double sum = 0;
          bool bad = false;
          for (std::size_t c = 0; c < classes; ++c) {
            bad |= !(r[c] >= Y(0)) || !std::isfinite(r[c]);
            sum += r[c];
          }
          // README's tolerance of the row sum: 1e-4 + C eps for float, 1e-9 + C eps for
          // double; within a factor 2 of it either answer is right (the sums round)
          const long double tol =
              (std::is_same_v<Y, float> ? 1e-4L : 1e-9L) +
              static_cast<long double>(classes) * std::numeric_limits<Y>::epsilon();
          const long double off = std::fabs(sum - 1);
          if (bad || !(off <= 2 * tol)) {
            v.kinds.insert(K::invalid_probabilities);
            break;
          } else if (off > tol / 2) {
            v.maybe_probabilities = true;
          }
        }
      }
    } else {
      for (std::size_t i = 0; i < y_size; ++i) {
        const Y y = y_ptr[i];
        if (std::cmp_equal(y, o.ignore_index)) continue;
        if (std::cmp_less(y, 0) || !std::cmp_less(y, classes))
          v.kinds.insert(K::label_out_of_range);
      }
    }
  }
  if (o.check_finite && x_ptr)
    for (std::size_t i = 0; i < x_n; ++i)
      if (!std::isfinite(x_ptr[i])) {
        v.kinds.insert(K::non_finite);
        break;
      }
  verdict v_call = v;  // v is try_check's
  if (none_without_buffer) v_call.kinds.insert(K::invalid_option);
  if (!values_known && !v_call.expect_error()) fail("a case without values expected to succeed");

  // --- snapshots ---
  // every byte in memory that the call may read or write (stand-ins included)
  auto bytes_of = [](const void* p, std::size_t n) {
    return std::span<const unsigned char>{static_cast<const unsigned char*>(p), p ? n : 0};
  };
  const auto x_span = bytes_of(x_ptr, (arena_storage.empty() ? x_buf.in_memory() : x_n) * sizeof(T));
  const auto y_span = bytes_of(y_ptr, (y_ptr == y_buf.data ? y_buf.in_memory() : y_n) * sizeof(Y));
  const auto w_span = bytes_of(w_data, w_bytes);
  const auto g_span = bytes_of(g_ptr, (in_place ? (arena_storage.empty() ? x_buf.in_memory() : x_n)
                                                : (g_ptr == g_buf.data ? g_buf.in_memory() : g_n)) *
                                          sizeof(T));
  const auto l_span = bytes_of(l_ptr, (l_ptr == l_buf.data ? l_buf.in_memory() : l_n) * sizeof(T));
  const std::span<const unsigned char> a_span{
      reinterpret_cast<const unsigned char*>(arena_storage.data()), arena_storage.size() * sizeof(T)};
  const auto x_snap = snapshot(x_span), y_snap = snapshot(y_span), w_snap = snapshot(w_span),
             g_snap = snapshot(g_span), l_snap = snapshot(l_span), a_snap = snapshot(a_span);
  auto restore = [&] {
    if (!a_snap.empty()) std::memcpy(arena_storage.data(), a_snap.data(), a_snap.size());
    if (!x_snap.empty()) std::memcpy(x_ptr, x_snap.data(), x_snap.size());
    if (!g_snap.empty()) std::memcpy(g_ptr, g_snap.data(), g_snap.size());
    if (!l_snap.empty()) std::memcpy(l_ptr, l_snap.data(), l_snap.size());
  };
  auto untouched = [&](const char* when) {
    FUZZ_REQUIRE(same_bytes(a_span, a_snap), "{}: the arena changed", when);
    FUZZ_REQUIRE(same_bytes(x_span, x_snap), "{}: the logits changed", when);
    FUZZ_REQUIRE(same_bytes(y_span, y_snap), "{}: the labels changed", when);
    FUZZ_REQUIRE(same_bytes(w_span, w_snap), "{}: the class weights changed", when);
    FUZZ_REQUIRE(same_bytes(g_span, g_snap), "{}: the gradient buffer was written", when);
    FUZZ_REQUIRE(same_bytes(l_span, l_snap), "{}: the per-sample buffer was written", when);
  };

  // --- the call ---
  const auto xv = make_view(static_cast<const T*>(x_ptr), xe);
  const auto yv = make_view(static_cast<const Y*>(y_ptr), ye);
  const auto labels = wrap_labels<E>(yv);
  const auto gv = make_view(g_ptr, in_place ? xe : ge);
  const auto lv = make_view(l_ptr, le);
  struct outcome {
    bool ok = true;
    sg::error_kind kind{};
    std::string message;
    T loss{};
  };
  auto call = [&](const sg::ce_options& opt) -> outcome {
    outcome out;
    try {
      switch (form) {
        case 0: out.loss = sg::softmax_cross_entropy(xv, labels, opt); break;
        case 1: out.loss = sg::softmax_cross_entropy(xv, labels, gv, opt); break;
        case 2: sg::softmax_cross_entropy(xv, labels, sg::per_sample(lv), opt); break;
        default: sg::softmax_cross_entropy(xv, labels, sg::per_sample(lv), gv, opt); break;
      }
    } catch (const sg::shape_error& e) {
      out.ok = false;
      out.kind = e.kind();
      out.message = e.what();
    }
    return out;
  };
  auto try_check = [&]() -> sg::check_result {
    switch (form) {
      case 0: return sg::try_check(xv, labels, o);
      case 1: return sg::try_check(xv, labels, gv, o);
      case 2: return sg::try_check(xv, labels, sg::per_sample(lv), o);
      default: return sg::try_check(xv, labels, sg::per_sample(lv), gv, o);
    }
  };

  const std::string setting = fmt::format(
      "logits {} labels {} grad {} losses {} form {} in_place {} arena {} reduction {} "
      "ignore_index {} smoothing {} weights {} check_finite {} threads {} denominator {} "
      "z_loss {} soft_cap {}; expected {}",
      xv.extents(), yv.extents(), gv.extents(), lv.extents(), form, in_place,
      !arena_storage.empty(), static_cast<int>(o.reduction), o.ignore_index, o.label_smoothing,
      weights.size(), o.check_finite, o.threads, o.denominator, o.z_loss, o.soft_cap,
      v_call.text());
  // try_check writes nothing and agrees with the checked call
  const sg::check_result checked = try_check();
  untouched("after try_check");
  if (v.expect_error()) {
    FUZZ_REQUIRE(!checked.ok(), "try_check passed inputs that violate the contract: {}", setting);
    FUZZ_REQUIRE(v.allows(checked.kind()), "try_check raised {}, which these inputs do not violate: {}; {}",
                 sg::to_string(checked.kind()), checked.message(), setting);
    FUZZ_REQUIRE(!checked.message().empty(), "an empty message");
    ++st.by_kind[static_cast<std::size_t>(checked.kind())];
  } else if (!checked.ok()) {
    FUZZ_REQUIRE(v.maybe_probabilities && checked.kind() == K::invalid_probabilities,
                 "try_check rejected valid inputs: {}: {}; {}", sg::to_string(checked.kind()),
                 checked.message(), setting);
    ++st.by_kind[static_cast<std::size_t>(checked.kind())];
  }

  // --- the reference, for inputs that pass ---
  std::optional<reference<T>> ref;
  if (checked.ok() && !none_without_buffer) {
    ++st.accepted;
    std::vector<T> x_copy(x_ptr, x_ptr + x_size);  // the gradient may overwrite the logits
    const long double eps = o.label_smoothing;
    const long double spread = classes == 0 ? 0 : eps / static_cast<long double>(classes);
    auto w = [&](std::size_t c) -> long double { return weights.empty() ? 1.0L : w_data[c]; };
    const bool mean = o.reduction == sg::reduction::mean;
    if constexpr (dense) {
      auto coefficient = [&](std::size_t i, std::size_t c) -> long double {
        return w(c) * ((1 - eps) * static_cast<long double>(y_ptr[i * classes + c]) + spread);
      };
      ref = compute_reference(x_copy.data(), rows, classes, coefficient, w,
                              [](std::size_t) { return false; },
                              o.denominator > 0 ? static_cast<long double>(o.denominator)
                                                : static_cast<long double>(rows),
                              mean, o.z_loss, o.soft_cap);
    } else {
      auto ignored = [&](std::size_t i) { return std::cmp_equal(y_ptr[i], o.ignore_index); };
      long double denominator = 0;
      for (std::size_t i = 0; i < rows; ++i)
        if (!ignored(i)) denominator += w(static_cast<std::size_t>(y_ptr[i]));
      if (o.denominator > 0) denominator = static_cast<long double>(o.denominator);
      auto coefficient = [&](std::size_t i, std::size_t c) -> long double {
        const bool hit = std::cmp_equal(y_ptr[i], c);
        return w(c) * ((hit ? 1 - eps : 0) + spread);
      };
      ref = compute_reference(x_copy.data(), rows, classes, coefficient, w, ignored,
                              denominator, mean, o.z_loss, o.soft_cap);
    }
    // the reduced loss
    long double total = 0, slack = 0, denormal = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      total += ref->loss[i];
      slack += ref->loss_slack[i];
      denormal += ref->loss_denormal[i];
      ref->total_a += ref->grad_a[i];
    }
    if (mean) {
      if (ref->denominator > 0) {
        total /= ref->denominator;
        slack /= ref->denominator;
        denormal /= ref->denominator;
        ref->total_a /= ref->denominator;
      } else {
        total = 0;  // empty, or every row ignored (or weighted 0): 0, not NaN
        slack = 0;
        denormal = 0;
        ref->total_a = 0;
      }
    }
    ref->total = total;
    ref->total_slack = slack;
    ref->total_denormal = denormal;
  }

  // a row's inputs, for messages
  std::vector<T> x_orig(x_ptr, x_ptr + (x_ptr ? x_n : 0));
  auto row_text = [&](std::size_t i) -> std::string {
    std::string out = "; row logits:";
    for (std::size_t c = 0; c < classes && c < 16 && x_ptr; ++c)
      out += fmt::format(" {}", x_orig[i * classes + c]);
    if constexpr (dense) {
      out += "; targets:";
      for (std::size_t c = 0; c < classes && c < 16; ++c)
        out += fmt::format(" {}", +y_ptr[i * classes + c]);
    } else {
      out += fmt::format("; label {}", +y_ptr[i]);
    }
    if (!weights.empty()) {
      out += "; weights:";
      for (std::size_t c = 0; c < classes && c < 16; ++c) out += fmt::format(" {}", w_data[c]);
    }
    return out;
  };

  // --- every instruction set ---
  std::optional<outcome> first;
  for (auto isa : isas()) {
    restore();
    use_isa(isa);
    const outcome out = call(o);
    const std::string where = fmt::format("isa {}: {}", isa_name(isa), setting);
    if (first) {
      FUZZ_REQUIRE(out.ok == first->ok && (out.ok || out.kind == first->kind),
                   "{}: the outcome depends on the instruction set", where);
    }
    if (!out.ok) {
      FUZZ_REQUIRE(v_call.allows(out.kind),
                   "{}: the call raised {}, which these inputs do not violate: {}", where,
                   sg::to_string(out.kind), out.message);
      if (!none_without_buffer) {
        FUZZ_REQUIRE(!checked.ok() && out.kind == checked.kind(),
                     "{}: the call raised {} but try_check said {}: {}", where,
                     sg::to_string(out.kind),
                     checked.ok() ? "ok" : sg::to_string(checked.kind()), out.message);
        FUZZ_REQUIRE(out.message == checked.message(), "{}: messages differ", where);
      }
      untouched(where.c_str());
      if (!first) first = out;
      continue;
    }
    FUZZ_REQUIRE(checked.ok() && !none_without_buffer,
                 "{}: the call succeeded but try_check failed or no buffer was given", where);
    ++st.kernel_runs;
    const long double rtol = relative_tolerance<T>(is_scalar(isa), classes);
    // the smallest denormal of the type the kernel forms coefficients in
    const long double denorm = is_scalar(isa) || std::is_same_v<T, double>
                                   ? std::numeric_limits<double>::denorm_min()
                                   : std::numeric_limits<float>::denorm_min();
    const long double flush = 8 * (is_scalar(isa) || std::is_same_v<T, double>
                                       ? std::numeric_limits<double>::min()
                                       : std::numeric_limits<float>::min());
    const long double per_row = flush * static_cast<long double>(classes);
    FUZZ_REQUIRE(same_bytes(y_span, y_snap), "{}: the labels changed", where);
    FUZZ_REQUIRE(same_bytes(w_span, w_snap), "{}: the class weights changed", where);
    // (in the arena the gradient may land on the logits' address: in place too)
    if (!(has_grad && g_ptr == x_ptr))
      FUZZ_REQUIRE(same_bytes(x_span, x_snap), "{}: the logits changed", where);
    bool nonfinite = false;
    // every kernel sums the gap in double: rows whose gap may leave double's range (double
    // logits beyond +-9e307), where the long double reference does not
    const long double summing_max = static_cast<long double>(std::numeric_limits<double>::max());
    // (sums of class weights cannot overflow: float kernels hand such problems to the scalar
    // reference, so A and the gradient must be exact)
    auto gap_overflows = [&](std::size_t i) { return ref->gap_bound[i] > summing_max / 2; };
    bool any_overflows = false;
    for (std::size_t i = 0; i < rows; ++i) any_overflows |= gap_overflows(i);
    // +inf where such a sum overflowed
    auto past_range = [&](T observed, long double reference_value, bool gap) {
      if (std::isnan(reference_value) || !gap || observed != std::numeric_limits<T>::infinity())
        return false;
      ++gap_past_double;
      return true;
    };
    // a finite loss where the reference is +inf only through coefficients a float kernel
    // rounds to 0 (see reference::inf_from_tiny)
    const bool float_lanes = !is_scalar(isa) && std::is_same_v<T, float>;
    auto dropped_tiny = [&](T observed, long double reference_value, bool tiny) {
      if (!float_lanes || !tiny || !std::isinf(reference_value) || !std::isfinite(observed))
        return false;
      ++tiny_coefficients_dropped;
      return true;
    };
    bool all_inf_tiny = true;  // every infinite row is such a row
    for (std::size_t i = 0; i < rows; ++i)
      if (std::isinf(ref->loss[i])) all_inf_tiny &= ref->inf_from_tiny[i] != 0;
    if (form <= 1) {
      FUZZ_REQUIRE(agrees(out.loss, ref->total,
                          rtol * ref->total_slack + denorm * ref->total_denormal +
                              per_row * ref->total_a + tiny<T>) ||
                       past_range(out.loss, ref->total, any_overflows) ||
                       dropped_tiny(out.loss, ref->total, all_inf_tiny),
                   "{}: loss {} but the reference is {} (+- {}){}{}{}", where, out.loss,
                   static_cast<double>(ref->total), static_cast<double>(rtol * ref->total_slack),
                   rows > 0 ? row_text(0) : "", rows > 1 ? row_text(1) : "",
                   rows > 2 ? row_text(2) : "");
      nonfinite |= !std::isfinite(out.loss);
    }
    if (has_losses) {
      for (std::size_t i = 0; i < rows; ++i) {
        FUZZ_REQUIRE(agrees(l_ptr[i], ref->loss[i],
                            rtol * ref->loss_slack[i] + denorm * ref->loss_denormal[i] +
                                per_row * ref->grad_a[i] + tiny<T>) ||
                         past_range(l_ptr[i], ref->loss[i], gap_overflows(i)) ||
                         dropped_tiny(l_ptr[i], ref->loss[i], ref->inf_from_tiny[i] != 0),
                     "{}: per-sample loss {} is {} but the reference is {} (+- {}){}", where, i,
                     l_ptr[i], static_cast<double>(ref->loss[i]),
                     static_cast<double>(rtol * ref->loss_slack[i]), row_text(i));
        nonfinite |= !std::isfinite(l_ptr[i]);
      }
    }
    if (has_grad) {
      for (std::size_t k = 0; k < rows * classes; ++k) {
        // (the z-loss's 2 z lse of a row whose |lse| is near double's range may overflow)
        const bool z_past_double =
            o.z_loss != 0 && gap_overflows(k / classes) && !std::isfinite(g_ptr[k]);
        FUZZ_REQUIRE(agrees(g_ptr[k], ref->grad[k],
                            rtol * ref->grad_slack[k] + denorm * ref->grad_denormal[k] +
                                flush * ref->scale * ref->grad_a[k / classes] + tiny<T>) ||
                         z_past_double,
                     "{}: grad[{}] (row {}, class {}) is {} but the reference is {} (+- {}){}",
                     where, k, k / classes, k % classes, g_ptr[k],
                     static_cast<double>(ref->grad[k]),
                     static_cast<double>(rtol * ref->grad_slack[k]), row_text(k / classes));
      }
    }
    if (nonfinite) ++st.nonfinite_results;
    if (o.soft_cap > 0) ++st.capped_runs;

    // predictions, beside the loss alone: each row's first maximum, -1 for an ignored row and
    // for a row whose softmax is undefined (a NaN or +inf logit, none above -inf); the count of
    // counted rows predicted right; the loss the same bit for bit.
    // Soft-capped: the first maximum of the capped logits, which are finite but for NaN (the
    // one logit that leaves a row undefined). The scalar kernel forms them in double as
    // cap tanh(x / cap), so its maximum is exactly the one of those values; the other kernels
    // form them in their lanes' type, where logits within that rounding of the maximum may tie
    // or trade places, so any class whose capped logit is that close to the maximum is right.
    if constexpr (!dense) {
      if (form == 0 && x_ptr && classes >= 2 && rows <= max_elements) {
        std::array<std::size_t, B> pe{};
        for (std::size_t a = 0; a < B; ++a) pe[a] = xe[a];
        std::vector<std::int64_t> pred(rows, -7);
        std::size_t correct = 99;
        // int64 predictions hold every class below 2^63 (an empty batch may claim more)
        const bool fits = classes - 1 <= std::size_t(std::numeric_limits<std::int64_t>::max());
        bool accepted = true;
        T with{};
        try {
          with = sg::softmax_cross_entropy(
              xv, labels, sg::predictions(make_view(pred.data(), pe), correct), o);
        } catch (const sg::shape_error& e) {
          FUZZ_REQUIRE(!fits && e.kind() == K::output_mismatch,
                       "{}: the call with predictions raised {}: {}", where,
                       sg::to_string(e.kind()), e.what());
          FUZZ_REQUIRE(correct == 99, "{}: the count was written by a failing call", where);
          accepted = false;
        }
        FUZZ_REQUIRE(fits || !accepted, "{}: int64 predictions accepted for {} classes", where,
                     classes);
        if (accepted) {
          FUZZ_REQUIRE(std::memcmp(&with, &out.loss, sizeof(T)) == 0 ||
                           (std::isnan(with) && std::isnan(out.loss)),
                       "{}: the loss is {} with predictions, {} without", where, with, out.loss);
          const double cap = o.soft_cap;
          // a class whose capped logit is within the lanes' rounding of the row's largest
          auto near_maximum = [&](const T* row, std::int64_t k) {
            if (k < 0 || !std::cmp_less(k, classes)) return false;
            long double top = 0, high = -std::numeric_limits<long double>::infinity();
            for (std::size_t c = 0; c < classes; ++c) {
              const long double v = capped_logit(row[c], cap);
              high = std::max(high, v);
              top = std::max(top, std::fabs(v));
            }
            return capped_logit(row[k], cap) >= high - (2 * rtol * top + flush);
          };
          std::size_t right = 0;
          for (std::size_t i = 0; i < rows; ++i) {
            const T* row = x_orig.data() + i * classes;
            std::int64_t want = 0;
            bool defined = false;
            if (cap > 0) {
              defined = true;
              double high = -std::numeric_limits<double>::infinity();
              for (std::size_t c = 0; c < classes && defined; ++c) {
                const double v = cap * std::tanh(static_cast<double>(row[c]) / cap);
                defined = !std::isnan(v);
                if (v > high) {
                  high = v;
                  want = std::int64_t(c);
                }
              }
            } else {
              for (std::size_t c = 0; c < classes; ++c) {
                if (std::isnan(row[c]) || row[c] == std::numeric_limits<T>::infinity()) {
                  defined = false;
                  break;
                }
                if (row[c] > row[want]) want = std::int64_t(c);
                defined |= row[c] != -std::numeric_limits<T>::infinity();
              }
            }
            if (!defined || std::cmp_equal(y_ptr[i], o.ignore_index)) want = -1;
            const bool close =
                cap > 0 && !is_scalar(isa) && want >= 0 && near_maximum(row, pred[i]);
            FUZZ_REQUIRE(pred[i] == want || close, "{}: row {} predicts {}, expected {}{}", where,
                         i, pred[i], want, row_text(i));
            right += pred[i] >= 0 && std::cmp_equal(y_ptr[i], pred[i]);
          }
          FUZZ_REQUIRE(correct == right, "{}: {} rows counted right, expected {}", where,
                       correct, right);
          ++st.prediction_runs;
        }
      }
    }

    // the thread count changes nothing, bit for bit
    if (o.threads > 1) {
      std::vector<unsigned char> g_many(g_span.size()), l_many(l_span.size());
      if (!g_many.empty()) std::memcpy(g_many.data(), g_ptr, g_many.size());
      if (!l_many.empty()) std::memcpy(l_many.data(), l_ptr, l_many.size());
      restore();
      sg::ce_options one = o;
      one.threads = 1;
      const outcome single = call(one);
      FUZZ_REQUIRE(single.ok, "{}: threads = 1 failed", where);
      FUZZ_REQUIRE(std::memcmp(&single.loss, &out.loss, sizeof(T)) == 0 ||
                       (std::isnan(single.loss) && std::isnan(out.loss)),
                   "{}: loss {} with {} threads but {} with 1", where, out.loss, o.threads,
                   single.loss);
      FUZZ_REQUIRE(same_bytes({reinterpret_cast<const unsigned char*>(g_ptr), g_many.size()}, g_many),
                   "{}: the gradient depends on the thread count", where);
      FUZZ_REQUIRE(same_bytes({reinterpret_cast<const unsigned char*>(l_ptr), l_many.size()}, l_many),
                   "{}: per-sample losses depend on the thread count", where);
    }
    if (!first) first = out;
  }
  if (v_call.expect_error())
    FUZZ_REQUIRE(!first->ok, "the call accepted inputs that violate the contract: {}", setting);
}

/// The body of a loss fuzz target: the first byte picks a case, `cases<float>` or (high bit set)
/// `cases<double>`, which reads the rest of the input.
using case_fn = void (*)(source&);
template <std::size_t N>
void run_case(const std::uint8_t* data, std::size_t size, const case_fn (&for_float)[N],
              const case_fn (&for_double)[N]) {
  source s(data, size);
  const std::uint8_t head = s.byte();
  if (head & 0x80)
    for_double[(head & 0x7f) % N](s);
  else
    for_float[head % N](s);
}

}  // namespace fuzz
