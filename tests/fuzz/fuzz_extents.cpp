// Fuzz target: extents and views built from integers of every width and sign, including
// negative values, values that do not fit std::size_t and element counts that overflow it;
// checked conversions from dynamic to static extents; and shape mismatches between views far
// too large to allocate, which the checks must report (naming both shapes and both numbers)
// without reading an element.
//
// The property: construction throws shape_error exactly when a value is negative, is sg::dyn
// or more, contradicts a static extent, or makes the element count overflow; otherwise every
// extent and the size are as given, and fmt prints them. The kind is extent_mismatch when a
// static extent is contradicted (and every value is an extent), invalid_option otherwise; a
// checked conversion to static extents that the source contradicts raises extent_mismatch.
#include "fuzz_common.hpp"

#include <string_view>

namespace {
using fuzz::source;
using fuzz::size_max;
namespace sg = shapeguard;

template <class I>
auto integer_value(source& s, std::size_t static_extent) -> I {
  using L = std::numeric_limits<I>;
  const std::uint8_t b = s.byte();
  if (b < 110) return static_cast<I>(b % 13);
  if (b < 140 && static_extent != sg::dyn) return static_cast<I>(static_extent);
  if (b < 170) return static_cast<I>(s.u16());
  switch (b % 10) {
    case 0: return L::max();
    case 1: return L::min();
    case 2: return static_cast<I>(-1);
    case 3: return static_cast<I>(std::uint64_t{1} << 32);
    case 4: return static_cast<I>(std::uint64_t{1} << 40);
    case 5: return static_cast<I>(size_max);
    case 6: return static_cast<I>(size_max - 1);
    case 7: return static_cast<I>(std::uint64_t{1} << 63);
    default: return static_cast<I>(s.u64());
  }
}

/// The extents type of the same rank with some static axes, for checked conversions.
template <std::size_t R>
struct partly_static;
template <>
struct partly_static<1> {
  using type = sg::extents<10>;
};
template <>
struct partly_static<2> {
  using type = sg::extents<sg::dyn, 10>;
};
template <>
struct partly_static<3> {
  using type = sg::extents<sg::dyn, 3, sg::dyn>;
};
template <>
struct partly_static<4> {
  using type = sg::extents<2, sg::dyn, 5, sg::dyn>;
};

template <class E, class I>
void run(source& s) {
  constexpr std::size_t R = E::rank(), D = E::rank_dynamic();
  const bool every_axis = D != R && s.one_in(2);
  // the values given, the extent each stands for, and what the contract says of them
  std::array<I, R> given{};
  std::array<std::size_t, R> want{};
  bool not_an_extent = false;  // negative, or sg::dyn or more: invalid_option
  bool contradicts = false;    // differs from the static extent of its axis: extent_mismatch
  std::size_t first_contradicted = R;  // the axis the message must name
  const std::size_t n = every_axis ? R : D;
  for (std::size_t k = 0, r = 0; k < n; ++k, ++r) {
    if (!every_axis)
      while (E::static_extent(r) != sg::dyn) want[r] = E::static_extent(r), ++r;
    given[k] = integer_value<I>(s, E::static_extent(r));
    using W = std::conditional_t<std::is_signed_v<I>, long long, unsigned long long>;
    const W g = static_cast<W>(given[k]);
    if (std::cmp_less(g, 0) || std::cmp_greater(g, size_max - 1)) {
      not_an_extent = true;
      continue;
    }
    want[r] = static_cast<std::size_t>(g);
    if (E::static_extent(r) != sg::dyn && want[r] != E::static_extent(r)) {
      if (!contradicts) first_contradicted = r;
      contradicts = true;
    }
  }
  if (!every_axis)
    for (std::size_t r = 0; r < R; ++r)
      if (E::static_extent(r) != sg::dyn) want[r] = E::static_extent(r);
  // every value is converted (and refused if it is no extent) before the static axes are
  // compared, and the element count is checked last
  const bool overflows = !not_an_extent && !contradicts && !fuzz::extents_valid(want);
  const bool valid = !not_an_extent && !contradicts && !overflows;
  const sg::error_kind expected = !not_an_extent && contradicts ? sg::error_kind::extent_mismatch
                                                                : sg::error_kind::invalid_option;

  auto build = [&]() -> E {
    if constexpr (D != R) {
      if (every_axis)
        return std::apply([](auto... v) { return E(v...); }, given);
    }
    return [&]<std::size_t... K>(std::index_sequence<K...>) { return E(given[K]...); }(
        std::make_index_sequence<D>{});
  };
  std::optional<E> e;
  try {
    e = build();
  } catch (const sg::shape_error& err) {
    FUZZ_REQUIRE(!valid, "valid extents rejected: {}", err.what());
    FUZZ_REQUIRE(err.kind() == expected, "kind {}, not {}: {}", sg::to_string(err.kind()),
                 sg::to_string(expected), err.what());
    FUZZ_REQUIRE(std::string_view(err.what()).starts_with("extents: "), "message {}", err.what());
    if (expected == sg::error_kind::extent_mismatch) {
      const std::size_t r = first_contradicted;
      const auto part = fmt::format("axis {} is static {} but {} was given", r,
                                    E::static_extent(r), want[r]);
      FUZZ_REQUIRE(std::string_view(err.what()).find(part) != std::string_view::npos,
                   "'{}' lacks '{}'", err.what(), part);
    }
    ++fuzz::stats().bad_extents;
    return;
  }
  FUZZ_REQUIRE(valid, "invalid extents accepted: {}", *e);
  ++fuzz::stats().accepted;
  std::size_t size = 1;
  std::string text = "[";
  for (std::size_t r = 0; r < R; ++r) {
    FUZZ_REQUIRE(e->extent(r) == want[r], "axis {} is {}, not {}", r, e->extent(r), want[r]);
    size *= want[r];
    text += fmt::format("{}{}", r ? ", " : "", want[r]);
  }
  FUZZ_REQUIRE(e->size() == size, "size {} is not {}", e->size(), size);
  FUZZ_REQUIRE(fmt::format("{}", *e) == text + "]", "formatted {} not {}]", *e, text);

  // views of it, far too large to allocate, never read: one float stands in
  static const float stand_in[1] = {};
  static const std::int64_t label_stand_in[1] = {};
  const sg::tensor_view<const float, E> view(stand_in, *e);
  FUZZ_REQUIRE(view.size() == size && view.extents() == *e, "view of {}", *e);

  // a checked conversion to extents with more static axes
  using S = typename partly_static<R>::type;
  if constexpr (std::is_constructible_v<S, E>) {
    bool fits = true;
    std::size_t first_contradicted_by_source = R;
    for (std::size_t r = 0; r < R; ++r) {
      const bool agrees = S::static_extent(r) == sg::dyn || S::static_extent(r) == want[r];
      if (fits && !agrees) first_contradicted_by_source = r;
      fits &= agrees;
    }
    try {
      const sg::tensor_view<const float, S> narrow(view);
      FUZZ_REQUIRE(fits, "{} converted to static extents it contradicts", *e);
      FUZZ_REQUIRE(narrow.extents() == *e && narrow.data() == view.data(), "conversion of {}", *e);
    } catch (const sg::shape_error& err) {
      FUZZ_REQUIRE(!fits, "{} failed to convert: {}", *e, err.what());
      FUZZ_REQUIRE(err.kind() == sg::error_kind::extent_mismatch, "kind {}: {}",
                   sg::to_string(err.kind()), err.what());
      const std::size_t r = first_contradicted_by_source;
      const auto part = fmt::format("extents: axis {} is static {} but the source has {}", r,
                                    S::static_extent(r), want[r]);
      FUZZ_REQUIRE(std::string_view(err.what()).starts_with(part), "'{}' lacks '{}'",
                   err.what(), part);
    }
  }

  // a batch or class mismatch against these logits is reported before any element is read
  if constexpr (R >= 2) {
    using labels_extents = sg::dims<R - 1>;
    std::array<std::size_t, R - 1> other{};
    for (std::size_t r = 0; r + 1 < R; ++r) other[r] = want[r];
    const std::size_t axis = s.below(R - 1);
    other[axis] = s.one_in(2) ? want[axis] + 1 + s.byte() : s.u64();
    if (other[axis] == want[axis] || !fuzz::extents_valid(other)) return;
    const auto labels = std::apply(
        [](auto... v) { return sg::tensor_view<const std::int64_t, labels_extents>(label_stand_in, v...); },
        other);
    const sg::check_result r = sg::try_check(view, labels);
    FUZZ_REQUIRE(!r.ok() && r.kind() == sg::error_kind::batch_mismatch, "{} vs {}: {}", *e,
                 labels.extents(), r.message());
    for (const std::string& part :
         {fmt::format("logits {}", *e), fmt::format("labels {}", labels.extents()),
          fmt::format("{}", want[axis]), fmt::format("{}", other[axis])})
      FUZZ_REQUIRE(r.message().find(part) != std::string::npos, "'{}' lacks '{}'", r.message(), part);
    ++fuzz::stats().by_kind[static_cast<std::size_t>(r.kind())];

    // per-class targets with another class count
    std::array<std::size_t, R> wide = want;
    wide[R - 1] = want[R - 1] + 1 + s.byte();
    if (!fuzz::extents_valid(wide)) return;
    static const float target_stand_in[1] = {};
    const auto targets = std::apply(
        [](auto... v) { return sg::tensor_view<const float, sg::dims<R>>(target_stand_in, v...); },
        wide);
    const sg::check_result c = sg::try_check(view, sg::probabilities(targets));
    FUZZ_REQUIRE(!c.ok() && c.kind() == sg::error_kind::class_mismatch, "{} vs {}: {}", *e,
                 targets.extents(), c.message());
    FUZZ_REQUIRE(c.message().find(fmt::format("{} classes", want[R - 1])) != std::string::npos &&
                     c.message().find(fmt::format("have {} column", wide[R - 1])) != std::string::npos,
                 "'{}'", c.message());
    ++fuzz::stats().by_kind[static_cast<std::size_t>(c.kind())];
  }
}

using case_fn = void (*)(source&);

template <class I>
constexpr case_fn cases[] = {
    &run<sg::dims<1>, I>,
    &run<sg::dims<2>, I>,
    &run<sg::dims<3>, I>,
    &run<sg::dims<4>, I>,
    &run<sg::extents<sg::dyn, 10>, I>,
    &run<sg::extents<4, sg::dyn>, I>,
    &run<sg::extents<sg::dyn, 3, sg::dyn>, I>,
    &run<sg::extents<2, sg::dyn, 5, sg::dyn>, I>,
};

template <class... I>
constexpr auto all_cases() {
  std::array<case_fn, sizeof...(I) * std::size(cases<int>)> out{};
  std::size_t k = 0;
  ((
       [&] {
         for (case_fn f : cases<I>) out[k++] = f;
       }()),
   ...);
  return out;
}

constexpr auto table = all_cases<std::int8_t, std::uint8_t, std::int16_t, std::uint16_t,
                                 std::int32_t, std::uint32_t, std::int64_t, std::uint64_t,
                                 long long, unsigned long long, char, short>();
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::init_stats();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  source s(data, size);
  ++fuzz::stats().inputs;
  table[s.u16() % table.size()](s);
  return 0;
}
