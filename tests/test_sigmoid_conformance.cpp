// Conformance with torch.nn.functional.binary_cross_entropy_with_logits: every case of the golden
// file tests/data/conformance_sigmoid.txt (written by tests/conformance/generate_sigmoid.py with
// torch in float64; the format is described there) is run through every call form of
// sg::sigmoid_cross_entropy (loss; loss and gradient; the gradient in place, into the logits'
// own buffer; and for reduction::none the per-element losses, alone, with a gradient, and with
// the gradient in place), for double and for float logits, with float and double targets, and
// for cases whose targets are all 0 or 1 ("kind hard") also with std::int64_t, std::uint8_t and
// bool labels. Views are sg::tensor_view<const T, sg::extents<...>> of the case's rank with
// dynamic extents, each call with threads = 1 and 3, and without options where the case's
// options are the defaults; rank-1 cases also run as std::vector and std::span; some cases run
// again with a static class axis, or with every extent static (and dynamic labels).
//
// How results are compared (as tests/test_conformance.cpp). For one output of a case (the
// reduced loss, the per-element losses, or the gradient), let S be the larger of the largest
// |reference| among its values and the case's `unit`: the size of the terms the outputs are
// made of (max over elements of g * w_c * max(1, p_c), g the gradient's scale: 1 / element
// count for mean, else 1; see generate_sigmoid.py). A value passes when
//
//     |got - ref| <= max(rtol * |ref|, atol * S)
//
//   double logits: rtol = 2e-5, atol = 2e-11
//   float logits:  rtol = 1e-5, atol = 1e-6
//
// Where every term is 0 (an empty tensor) S is 0 and the result must be exactly 0. The masked
// elements of the API (x = +inf with t' = 1, x = -inf with t' = 0) must give exactly 0: their
// per-element loss and their gradient entry. Every output buffer starts as NaN, so an entry left
// unwritten fails.
//
// The golden values of "source masked" cases are the documented differences from PyTorch (an
// empty mean is 0; the masked +-inf elements contribute 0); every other case is torch's own.

#include <shapeguard/shapeguard.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "conformance/golden.hpp"

namespace sg = shapeguard;

namespace {

constexpr std::size_t minimum_cases = 250;  // the committed file holds 308

struct golden_case {
  std::string name, source, kind;
  std::vector<std::size_t> shape;
  sg::reduction reduction = sg::reduction::mean;
  bool has_reduction = false;
  float smoothing = -1;
  bool has_class_weights = false, has_pos_weight = false, has_class_weights_record = false,
       has_pos_weight_record = false;
  std::vector<float> class_weights, pos_weight;
  std::vector<double> logits, targets;
  bool has_logits = false, has_targets = false, has_loss = false, has_losses = false,
       has_grad = false;
  double loss = std::numeric_limits<double>::quiet_NaN(), unit = -1;
  std::vector<double> losses, grad;

  [[nodiscard]] auto rank() const -> std::size_t { return shape.size(); }
  [[nodiscard]] auto classes() const -> std::size_t { return rank() == 1 ? 1 : shape.back(); }
  [[nodiscard]] auto elements() const -> std::size_t {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
  [[nodiscard]] auto hard() const -> bool { return kind == "hard"; }
  /// Element e is one of the API's masked elements: loss 0 and gradient 0 exactly.
  [[nodiscard]] auto masked(std::size_t e) const -> bool {
    if (smoothing != 0) return false;  // t' is then in [eps/2, 1 - eps/2]
    return (logits[e] == std::numeric_limits<double>::infinity() && targets[e] == 1) ||
           (logits[e] == -std::numeric_limits<double>::infinity() && targets[e] == 0);
  }
};

using golden::parse_double;
using golden::parse_reduction;
using golden::parse_values;

struct golden_file {
  std::vector<golden_case> cases;
  std::optional<std::size_t> count;  // the trailing `count` record
};

auto load() -> golden_file {
  const auto path = std::filesystem::path(SHAPEGUARD_TEST_DATA_DIR) / "conformance_sigmoid.txt";
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot open " + path.string());
  golden_file out;
  std::optional<golden_case> c;
  std::string line;
  auto need_case = [&](const std::string& key) -> golden_case& {
    if (!c) throw std::runtime_error("record '" + key + "' outside a case in " + path.string());
    return *c;
  };
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::string key, word;
    in >> key;
    if (out.count) throw std::runtime_error("records after `count` in " + path.string());
    if (key == "case") {
      if (c) throw std::runtime_error("case without end: " + c->name);
      c = golden_case{};
      in >> c->name;
    } else if (key == "count") {
      if (c) throw std::runtime_error("count inside case " + c->name);
      in >> word;
      out.count = static_cast<std::size_t>(std::stoull(word));
    } else if (key == "source") {
      in >> need_case(key).source;
    } else if (key == "shape") {
      need_case(key).shape = parse_values<std::size_t>(in);
    } else if (key == "kind") {
      in >> need_case(key).kind;
    } else if (key == "reduction") {
      in >> word;
      need_case(key).reduction = parse_reduction(word);
      c->has_reduction = true;
    } else if (key == "smoothing") {
      in >> word;
      const double eps = parse_double(word);
      need_case(key).smoothing = static_cast<float>(eps);  // a float32 value: exact
      if (double(c->smoothing) != eps) throw std::runtime_error("smoothing not float32: " + word);
    } else if (key == "class_weights") {
      auto& gc = need_case(key);
      gc.has_class_weights_record = true;
      gc.has_class_weights = line != "class_weights -";
      if (gc.has_class_weights) gc.class_weights = parse_values<float>(in);
    } else if (key == "pos_weight") {
      auto& gc = need_case(key);
      gc.has_pos_weight_record = true;
      gc.has_pos_weight = line != "pos_weight -";
      if (gc.has_pos_weight) gc.pos_weight = parse_values<float>(in);
    } else if (key == "logits") {
      need_case(key).logits = parse_values<double>(in);
      c->has_logits = true;
    } else if (key == "targets") {
      need_case(key).targets = parse_values<double>(in);
      c->has_targets = true;
    } else if (key == "loss") {
      in >> word;
      need_case(key).loss = parse_double(word);
      c->has_loss = true;
    } else if (key == "losses") {
      need_case(key).losses = parse_values<double>(in);
      c->has_losses = true;
    } else if (key == "grad") {
      need_case(key).grad = parse_values<double>(in);
      c->has_grad = true;
    } else if (key == "unit") {
      in >> word;
      need_case(key).unit = parse_double(word);
    } else if (key == "end") {
      out.cases.push_back(need_case(key));
      c.reset();
    } else {
      throw std::runtime_error("unknown record '" + key + "' in " + path.string());
    }
  }
  if (c) throw std::runtime_error("truncated file: case " + c->name + " has no end");
  return out;
}

/// Structural sanity of a parsed case, so that a truncated or garbled file cannot pass quietly.
void validate(const golden_case& gc) {
  INFO(gc.name);
  REQUIRE(!gc.name.empty());
  REQUIRE((gc.rank() >= 1 && gc.rank() <= 3));
  REQUIRE((gc.source == "torch" || gc.source == "masked"));
  REQUIRE((gc.kind == "hard" || gc.kind == "soft"));
  REQUIRE(gc.has_reduction);
  REQUIRE((gc.smoothing >= 0 && gc.smoothing <= 1));
  REQUIRE(gc.has_class_weights_record);
  REQUIRE(gc.has_pos_weight_record);
  REQUIRE(gc.has_logits);
  REQUIRE(gc.has_targets);
  REQUIRE(gc.has_grad);
  REQUIRE(gc.logits.size() == gc.elements());
  REQUIRE(gc.targets.size() == gc.elements());
  REQUIRE(gc.grad.size() == gc.elements());
  if (gc.has_class_weights) REQUIRE(gc.class_weights.size() == gc.classes());
  if (gc.has_pos_weight) REQUIRE(gc.pos_weight.size() == gc.classes());
  REQUIRE(gc.unit >= 0);
  if (gc.elements() == 0) REQUIRE(gc.unit == 0);  // (all weights 0 also gives 0)
  if (gc.reduction == sg::reduction::none) {
    REQUIRE(gc.has_losses);
    REQUIRE(!gc.has_loss);
    REQUIRE(gc.losses.size() == gc.elements());
  } else {
    REQUIRE(gc.has_loss);
    REQUIRE(!gc.has_losses);
    REQUIRE(std::isfinite(gc.loss));
  }
  for (std::size_t e = 0; e < gc.elements(); ++e) {
    const double t = gc.targets[e];
    REQUIRE((t >= 0 && t <= 1));
    if (gc.hard()) REQUIRE((t == 0 || t == 1));
    REQUIRE(static_cast<double>(static_cast<float>(gc.logits[e])) == gc.logits[e]);
    REQUIRE(static_cast<double>(static_cast<float>(t)) == t);
  }
  for (double g : gc.grad) REQUIRE(std::isfinite(g));
  for (double l : gc.losses) REQUIRE(std::isfinite(l));
}

// ---- comparison ------------------------------------------------------------------------------

struct tolerance {
  double rtol, atol;
};
constexpr tolerance double_tolerance{2e-5, 2e-11};
constexpr tolerance float_tolerance{1e-5, 1e-6};

/// The largest errors seen, for the summary.
struct error_stats {
  double loss_rel = 0;  // losses with |ref| >= 1e-3 S: |got - ref| / |ref|
  double grad_rel = 0;  // gradient entries with |ref| >= 1e-3 S: |got - ref| / |ref|
  double worst = 0;     // max over every value of |got - ref| / max(rtol |ref|, atol S)
  std::size_t values = 0, runs = 0;
  std::string loss_rel_at, grad_rel_at;  // where loss_rel and grad_rel were seen
};

/// Compares one output; returns a description of the first failure, or "". `masked` (when
/// given) marks the elements that must be exactly 0.
auto compare(const char* what, const std::vector<double>& got, const std::vector<double>& ref,
             double unit, tolerance t, double& rel_stat, std::string& rel_at, error_stats& st,
             const std::vector<bool>* masked, const std::string& where) -> std::string {
  if (got.size() != ref.size())
    return fmt::format("{}: {} values, expected {}", what, got.size(), ref.size());
  double s = unit;
  for (double r : ref) s = std::max(s, std::fabs(r));
  std::string failure;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(got[i] - ref[i]);
    const bool exact = masked && (*masked)[i];
    const double allowed = exact ? 0.0 : std::max(t.rtol * std::fabs(ref[i]), t.atol * s);
    ++st.values;
    if (!(err <= allowed) || (exact && got[i] != 0)) {  // NaN fails
      if (failure.empty())
        failure = fmt::format("{}[{}] = {:.17g}, expected {:.17g}{} (error {:.3g}, allowed {:.3g})",
                              what, i, got[i], ref[i], exact ? " exactly (masked element)" : "",
                              err, allowed);
      st.worst = std::numeric_limits<double>::infinity();
      continue;
    }
    if (allowed > 0) st.worst = std::max(st.worst, err / allowed);
    if (ref[i] != 0 && std::fabs(ref[i]) >= 1e-3 * s && err / std::fabs(ref[i]) > rel_stat) {
      rel_stat = err / std::fabs(ref[i]);
      rel_at = fmt::format("{}: {}[{}] = {:.9g}, expected {:.12g}, S = {:.3g}", where, what, i,
                           got[i], ref[i], s);
    }
  }
  return failure;
}

// ---- views of any rank -----------------------------------------------------------------------

template <std::size_t... I>
auto dyn_extents_of(std::index_sequence<I...>) -> sg::extents<((void)I, sg::dyn)...>;
template <std::size_t R>
using dyn_extents = decltype(dyn_extents_of(std::make_index_sequence<R>{}));

/// A view with extents type Ext over `data`, given every extent of `shape`.
template <class Ext, class T>
auto make_view(T* data, const std::vector<std::size_t>& shape) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return sg::tensor_view<T, Ext>(data, shape[I]...);
  }(std::make_index_sequence<Ext::rank()>{});
}

template <class To, class From>
auto convert(const std::vector<From>& v) -> std::vector<To> {
  std::vector<To> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<To>(v[i]);
  return out;
}

template <class T>
auto to_double(const std::vector<T>& v) -> std::vector<double> {
  return convert<double>(v);
}

/// Labels of type L (a contiguous buffer; bool without std::vector<bool>'s packing).
template <class L>
struct label_buffer {
  std::unique_ptr<L[]> data;
  std::size_t size = 0;
  explicit label_buffer(const std::vector<double>& targets)
      : data(new L[targets.size()]), size(targets.size()) {
    for (std::size_t i = 0; i < size; ++i) {
      if constexpr (std::is_same_v<L, bool>)
        data[i] = targets[i] != 0;
      else
        data[i] = static_cast<L>(targets[i]);
    }
  }
  [[nodiscard]] auto ptr() const -> const L* { return data.get(); }
};

// ---- running one case ------------------------------------------------------------------------

/// What ran: (case, logits type, label variant, call form), to check that every case ran
/// every combination it should.
using run_log = std::map<std::string, std::set<std::string>>;

struct context {
  error_stats st64, st32;
  run_log ran;
};

template <class T>
constexpr auto type_name() -> const char* {
  if constexpr (std::is_same_v<T, double>)
    return "double";
  else if constexpr (std::is_same_v<T, float>)
    return "float";
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return "int64";
  else if constexpr (std::is_same_v<T, std::uint8_t>)
    return "uint8";
  else if constexpr (std::is_same_v<T, bool>)
    return "bool";
  else
    return "?";
}

auto options_of(const golden_case& gc) -> sg::bce_options {
  sg::bce_options o;
  o.reduction = gc.reduction;
  o.label_smoothing = gc.smoothing;
  if (gc.has_class_weights) o.class_weights = gc.class_weights;
  if (gc.has_pos_weight) o.pos_weight = gc.pos_weight;
  return o;
}

/// Runs every call form for one label variant, with logits of type T. `in(v)` makes the logits
/// argument of a buffer and `out(v)` an output argument (views of some extents, or the
/// std::vector / std::span of a rank-1 case).
template <class T, class In, class Out, class Labels>
void run_forms(const golden_case& gc, const Labels& labels, const std::string& variant,
               std::initializer_list<std::size_t> thread_counts, In in, Out out, context& ctx) {
  error_stats& st = std::is_same_v<T, double> ? ctx.st64 : ctx.st32;
  const tolerance tol = std::is_same_v<T, double> ? double_tolerance : float_tolerance;
  const auto nan = std::numeric_limits<T>::quiet_NaN();
  std::vector<T> x = convert<T>(gc.logits);
  const std::vector<T> x_copy = x;
  std::vector<bool> masked(gc.elements());
  bool any_masked = false;
  for (std::size_t e = 0; e < gc.elements(); ++e) {
    masked[e] = gc.masked(e);
    any_masked = any_masked || gc.masked(e);
  }
  const bool none = gc.reduction == sg::reduction::none;
  const std::vector<double> ref_loss = none ? gc.losses : std::vector<double>{gc.loss};

  auto check = [&](const std::string& form, const std::vector<double>& loss,
                   const std::optional<std::vector<double>>& grad) {
    const std::string where = fmt::format("{} [{}], {} logits, labels {}, {}", gc.name,
                                          gc.source, type_name<T>(), variant, form);
    INFO(where);
    ++st.runs;
    ctx.ran[gc.name].insert(fmt::format("{} / {} / {}", type_name<T>(), variant, form));
    auto failure = compare("loss", loss, ref_loss, gc.unit, tol, st.loss_rel, st.loss_rel_at, st,
                           none && any_masked ? &masked : nullptr, where);
    if (grad) {  // also when the loss failed: both are reported
      const auto grad_failure = compare("grad", *grad, gc.grad, gc.unit, tol, st.grad_rel,
                                        st.grad_rel_at, st, any_masked ? &masked : nullptr, where);
      if (!grad_failure.empty()) failure += (failure.empty() ? "" : "; ") + grad_failure;
    }
    // the logits are inputs: a call that is not in place must leave them alone
    if (failure.empty() && !std::equal(x.begin(), x.end(), x_copy.begin(), x_copy.end(),
                                       [](T a, T b) { return a == b || (a != a && b != b); }))
      failure = "the logits were modified";
    INFO(failure);
    CHECK(failure.empty());
  };

  for (const std::size_t threads : thread_counts) {
    sg::bce_options o = options_of(gc);
    o.threads = threads;
    const std::string suffix = threads == 1 ? "" : fmt::format(", {} threads", threads);
    auto form = [&](const char* name) { return std::string(name) + suffix; };
    std::vector<T> g(x.size(), nan);
    std::vector<T> in_place = x;  // the gradient overwrites the logits
    auto&& xv = in(x);
    if (!none) {
      using loss_type = decltype(sg::sigmoid_cross_entropy(xv, labels, o));
      static_assert(std::is_same_v<loss_type, T>, "the loss is returned as the logits' type");
      const T loss = sg::sigmoid_cross_entropy(xv, labels, o);
      check(form("loss"), {double(loss)}, std::nullopt);
      std::fill(g.begin(), g.end(), nan);
      const T loss_with_grad = sg::sigmoid_cross_entropy(xv, labels, out(g), o);
      check(form("loss and grad"), {double(loss_with_grad)}, to_double(g));
      const T loss_in_place = sg::sigmoid_cross_entropy(in(in_place), labels, out(in_place), o);
      check(form("in place"), {double(loss_in_place)}, to_double(in_place));
      // the default options are mean, unweighted, no smoothing, one thread
      const bool defaults = gc.reduction == sg::reduction::mean && !gc.has_class_weights &&
                            !gc.has_pos_weight && gc.smoothing == 0 && threads == 1;
      if (defaults) {
        check("loss, default options", {double(sg::sigmoid_cross_entropy(xv, labels))},
              std::nullopt);
        std::fill(g.begin(), g.end(), nan);
        const T l = sg::sigmoid_cross_entropy(xv, labels, out(g));
        check("loss and grad, default options", {double(l)}, to_double(g));
      }
    } else {
      std::vector<T> losses(gc.elements(), nan);
      static_assert(
          std::is_void_v<decltype(sg::sigmoid_cross_entropy(xv, labels, sg::per_sample(out(losses)), o))>,
          "reduction::none returns nothing");
      sg::sigmoid_cross_entropy(xv, labels, sg::per_sample(out(losses)), o);
      check(form("per-sample"), to_double(losses), std::nullopt);
      std::fill(losses.begin(), losses.end(), nan);
      std::fill(g.begin(), g.end(), nan);
      sg::sigmoid_cross_entropy(xv, labels, out(g), sg::per_sample(out(losses)), o);
      check(form("grad and per-sample"), to_double(losses), to_double(g));
      std::fill(losses.begin(), losses.end(), nan);
      sg::sigmoid_cross_entropy(in(in_place), labels, out(in_place), sg::per_sample(out(losses)),
                                o);
      check(form("grad and per-sample, in place"), to_double(losses), to_double(in_place));
      // with per_sample(...) and no options, the reduction is none (sigmoid_cross_entropy.hpp)
      if (!gc.has_class_weights && !gc.has_pos_weight && gc.smoothing == 0 && threads == 1) {
        std::fill(losses.begin(), losses.end(), nan);
        sg::sigmoid_cross_entropy(xv, labels, sg::per_sample(out(losses)));
        check("per-sample, default options", to_double(losses), std::nullopt);
      }
    }
  }
}

/// Argument makers: views with extents Ext.
template <class T, class Ext>
auto view_in(const golden_case& gc) {
  return [&gc](std::vector<T>& v) { return make_view<Ext>(static_cast<const T*>(v.data()), gc.shape); };
}
template <class T, class Ext>
auto view_out(const golden_case& gc) {
  return [&gc](std::vector<T>& v) { return make_view<Ext>(v.data(), gc.shape); };
}

/// Every label variant of a case, with logits, labels, gradient and losses as views with
/// extents LogitsExt / LabelsExt.
template <class T, class LogitsExt, class LabelsExt = LogitsExt>
void run_views(const golden_case& gc, const std::string& extents_name,
               std::initializer_list<std::size_t> threads, bool all_label_types, context& ctx) {
  const auto in = view_in<T, LogitsExt>(gc);
  const auto out = view_out<T, LogitsExt>(gc);
  auto with = [&]<class L>(std::type_identity<L>) {
    const label_buffer<L> y(gc.targets);
    const auto yv = make_view<LabelsExt>(y.ptr(), gc.shape);
    run_forms<T>(gc, yv, fmt::format("{} {}", type_name<L>(), extents_name), threads, in, out,
                 ctx);
  };
  with(std::type_identity<float>{});
  with(std::type_identity<double>{});
  if (gc.hard()) {
    with(std::type_identity<std::int64_t>{});
    if (all_label_types) with(std::type_identity<std::uint8_t>{});
    with(std::type_identity<bool>{});
  }
}

/// Rank 1 only: logits, labels and outputs as std::vector, and as std::span.
template <class T>
void run_containers(const golden_case& gc, context& ctx) {
  auto with = [&]<class L>(std::type_identity<L>) {
    const std::vector<L> y = convert<L>(gc.targets);
    run_forms<T>(
        gc, y, fmt::format("std::vector<{}>", type_name<L>()), {1},
        [](std::vector<T>& v) -> const std::vector<T>& { return v; },
        [](std::vector<T>& v) -> std::vector<T>& { return v; }, ctx);
    run_forms<T>(
        gc, std::span<const L>(y), fmt::format("std::span<const {}>", type_name<L>()), {1},
        [](std::vector<T>& v) { return std::span<const T>(v); },
        [](std::vector<T>& v) { return std::span<T>(v); }, ctx);
  };
  with(std::type_identity<float>{});
  with(std::type_identity<double>{});
  if (gc.hard()) {
    with(std::type_identity<std::int64_t>{});
    with(std::type_identity<std::uint8_t>{});
  }
}

// ---- static extents ---------------------------------------------------------------------------

/// The class counts of the golden file ([N, C] and [B, T, C]).
constexpr std::array<std::size_t, 14> golden_class_counts{1,  2,  3,  7,  8,  9,   15,
                                                          16, 17, 31, 33, 64, 100, 1000};
/// Class counts also run with a static class axis ([dyn, C] and [dyn, dyn, C]). A static axis
/// changes the checks (what is proven at compile time), not the kernels, whose class count is a
/// run-time value: a few counts suffice, and each one is a new instantiation of every call form
/// (the test's build time).
constexpr std::array<std::size_t, 3> static_class_counts{1, 16, 1000};
constexpr std::array<std::size_t, 1> static_class_counts_rank3{7};

/// Float labels only, with logits, labels and outputs of extents Ext.
template <class T, class Ext>
void run_float_labels(const golden_case& gc, const std::string& extents_name,
                      context& ctx) {
  const label_buffer<float> y(gc.targets);
  const auto yv = make_view<Ext>(y.ptr(), gc.shape);
  run_forms<T>(gc, yv, fmt::format("float {}", extents_name), {1}, view_in<T, Ext>(gc),
               view_out<T, Ext>(gc), ctx);
}

template <class T, std::size_t R, std::size_t C>
auto run_static_class(const golden_case& gc, context& ctx) -> bool {
  if (gc.rank() != R || gc.shape.back() != C) return false;
  using ext = std::conditional_t<R == 2, sg::extents<sg::dyn, C>, sg::extents<sg::dyn, sg::dyn, C>>;
  run_float_labels<T, ext>(gc, fmt::format("static class axis {}", C), ctx);
  return true;
}

template <class T, std::size_t R, std::size_t... I>
auto run_static_classes(const golden_case& gc, context& ctx, std::index_sequence<I...>) -> bool {
  if constexpr (R == 2)
    return (run_static_class<T, 2, static_class_counts[I]>(gc, ctx) || ...);
  else
    return (run_static_class<T, 3, static_class_counts_rank3[I]>(gc, ctx) || ...);
}

/// The fully static shapes of the generator's static_* cases: [6], [4, 7], [2, 3, 5].
template <class T>
auto run_fully_static(const golden_case& gc, context& ctx) -> bool {
  auto run = [&]<class Ext>(std::type_identity<Ext>) {
    run_views<T, Ext>(gc, "static extents", {1}, false, ctx);
    // static logits with dynamic labels: the shapes still agree at run time
    const label_buffer<float> y(gc.targets);
    run_forms<T>(gc, make_view<dyn_extents<Ext::rank()>>(y.ptr(), gc.shape),
                 "float static logits, dynamic labels", {1}, view_in<T, Ext>(gc),
                 view_out<T, Ext>(gc), ctx);
  };
  const auto& s = gc.shape;
  if (s == std::vector<std::size_t>{6}) {
    run(std::type_identity<sg::extents<6>>{});
  } else if (s == std::vector<std::size_t>{4, 7}) {
    run(std::type_identity<sg::extents<4, 7>>{});
  } else if (s == std::vector<std::size_t>{2, 3, 5}) {
    run(std::type_identity<sg::extents<2, 3, 5>>{});
  } else {
    return false;
  }
  return true;
}

struct static_counts {
  std::size_t fully_static = 0, class_axis = 0;
  std::set<std::pair<std::size_t, std::size_t>> class_axis_shapes;  // (rank, C)
};

template <class T>
void run_case(const golden_case& gc, context& ctx, static_counts& sc) {
  switch (gc.rank()) {
    case 1:
      run_views<T, dyn_extents<1>>(gc, "view", {1, 3}, true, ctx);
      run_containers<T>(gc, ctx);
      break;
    case 2: run_views<T, dyn_extents<2>>(gc, "view", {1, 3}, true, ctx); break;
    case 3: run_views<T, dyn_extents<3>>(gc, "view", {1, 3}, true, ctx); break;
    default: FAIL("unsupported rank in " << gc.name);
  }
  if (run_fully_static<T>(gc, ctx)) ++sc.fully_static;
  bool ran_static_class = false;
  if (gc.rank() == 2)
    ran_static_class = run_static_classes<T, 2>(
        gc, ctx, std::make_index_sequence<static_class_counts.size()>{});
  else if (gc.rank() == 3)
    ran_static_class = run_static_classes<T, 3>(
        gc, ctx, std::make_index_sequence<static_class_counts_rank3.size()>{});
  if (ran_static_class) {
    ++sc.class_axis;
    sc.class_axis_shapes.insert({gc.rank(), gc.shape.back()});
  }
}

/// The combinations a case must have run with dynamic views, whatever else it ran: logits
/// double and float x labels (float, double, and int64, uint8, bool when hard) x three call
/// forms x threads 1 and 3.
auto expected_dynamic_runs(const golden_case& gc) -> std::set<std::string> {
  std::set<std::string> out;
  std::vector<std::string> labels{"float", "double"};
  if (gc.hard()) labels.insert(labels.end(), {"int64", "uint8", "bool"});
  const bool none = gc.reduction == sg::reduction::none;
  const std::vector<std::string> forms =
      none ? std::vector<std::string>{"per-sample", "grad and per-sample",
                                      "grad and per-sample, in place"}
           : std::vector<std::string>{"loss", "loss and grad", "in place"};
  for (const char* t : {"double", "float"})
    for (const auto& l : labels)
      for (const auto& f : forms)
        for (const char* threads : {"", ", 3 threads"})
          out.insert(fmt::format("{} / {} view / {}{}", t, l, f, threads));
  return out;
}

}  // namespace

TEST_CASE("sigmoid conformance: every golden case, every call form, every label type",
          "[conformance][sigmoid]") {
  const golden_file file = load();
  INFO("conformance_sigmoid.txt: " << file.cases.size() << " cases read");
  REQUIRE(file.count.has_value());               // the file was read to its end
  REQUIRE(file.cases.size() == *file.count);     // and every case of it parsed
  REQUIRE(file.cases.size() >= minimum_cases);
  std::set<std::string> names;
  for (const auto& gc : file.cases) {
    validate(gc);
    INFO(gc.name);
    CHECK(names.insert(gc.name).second);  // unique names: the run log is per name
  }
  context ctx;
  static_counts sc64, sc32;
  for (const auto& gc : file.cases) {
    run_case<double>(gc, ctx, sc64);
    run_case<float>(gc, ctx, sc32);
  }
  // every case ran, and ran every combination it should
  std::size_t incomplete = 0;
  for (const auto& gc : file.cases) {
    const auto it = ctx.ran.find(gc.name);
    INFO(gc.name);
    REQUIRE(it != ctx.ran.end());
    const auto want = expected_dynamic_runs(gc);
    std::vector<std::string> missing;
    std::set_difference(want.begin(), want.end(), it->second.begin(), it->second.end(),
                        std::back_inserter(missing));
    if (!missing.empty()) {
      ++incomplete;
      INFO("first missing run: " << missing.front());
      CHECK(missing.empty());
    }
    if (gc.rank() == 1) CHECK(it->second.size() > want.size());  // the container forms too
  }
  CHECK(incomplete == 0);
  CHECK(ctx.ran.size() == file.cases.size());
  // static extents: the fully static shapes (3 shapes x 6 cases each in the committed file)
  // and a static class axis for every class count of the list, at rank 2 and at rank 3
  CHECK(sc64.fully_static >= 18);
  CHECK(sc32.fully_static == sc64.fully_static);
  CHECK(sc64.class_axis >= static_class_counts.size() + static_class_counts_rank3.size());
  CHECK(sc32.class_axis == sc64.class_axis);
  for (std::size_t C : static_class_counts) {
    INFO("static class axis " << C << " at rank 2");
    CHECK(sc64.class_axis_shapes.count({2, C}) == 1);
  }
  for (std::size_t C : static_class_counts_rank3) {
    INFO("static class axis " << C << " at rank 3");
    CHECK(sc64.class_axis_shapes.count({3, C}) == 1);
  }
  CHECK(ctx.st64.runs == ctx.st32.runs);
  CHECK(ctx.st64.runs > 20 * file.cases.size());
  std::printf(
      "conformance_sigmoid: %zu cases; double: %zu runs, %zu values, max rel error loss %.3g "
      "grad %.3g, worst error/allowed %.3g; float: %zu runs, %zu values, max rel error loss "
      "%.3g grad %.3g, worst error/allowed %.3g\n",
      file.cases.size(), ctx.st64.runs, ctx.st64.values, ctx.st64.loss_rel, ctx.st64.grad_rel,
      ctx.st64.worst, ctx.st32.runs, ctx.st32.values, ctx.st32.loss_rel, ctx.st32.grad_rel,
      ctx.st32.worst);
  std::printf("  largest relative errors (values >= 1e-3 S):\n    double loss: %s\n    double grad: %s\n"
              "    float loss: %s\n    float grad: %s\n",
              ctx.st64.loss_rel_at.c_str(), ctx.st64.grad_rel_at.c_str(),
              ctx.st32.loss_rel_at.c_str(), ctx.st32.grad_rel_at.c_str());
}

TEST_CASE("sigmoid conformance: the golden file covers what the contract promises",
          "[conformance][sigmoid]") {
  const golden_file file = load();
  REQUIRE(file.count.has_value());
  REQUIRE(file.cases.size() == *file.count);
  std::set<std::string> kinds, reductions, sources;
  std::set<std::size_t> ranks, classes, tails8, tails16;
  std::set<float> smoothings;
  std::size_t class_weighted = 0, pos_weighted = 0, both = 0, zero_weight = 0, zero_pos = 0,
              rank1_weighted = 0, n_by_1 = 0, empty = 0, empty_mean = 0, pos_inf = 0,
              neg_inf = 0, big_neg = 0, big_pos = 0, zeros = 0, soft_interior = 0,
              hard_smoothed = 0, masked_cases = 0;
  std::set<std::string> masked_reductions, empty_reductions;
  for (const auto& gc : file.cases) {
    kinds.insert(gc.kind);
    reductions.insert(std::string(sg::to_string(gc.reduction)));
    sources.insert(gc.source);
    ranks.insert(gc.rank());
    smoothings.insert(gc.smoothing);
    if (gc.rank() >= 2) {
      classes.insert(gc.classes());
      tails8.insert(gc.classes() % 8);
      tails16.insert(gc.classes() % 16);
    }
    class_weighted += gc.has_class_weights;
    pos_weighted += gc.has_pos_weight;
    both += gc.has_class_weights && gc.has_pos_weight;
    zero_weight += std::count(gc.class_weights.begin(), gc.class_weights.end(), 0.0f) > 0;
    zero_pos += std::count(gc.pos_weight.begin(), gc.pos_weight.end(), 0.0f) > 0;
    rank1_weighted += gc.rank() == 1 && gc.has_class_weights && gc.has_pos_weight;
    n_by_1 += gc.rank() == 2 && gc.classes() == 1;
    empty += gc.elements() == 0;
    if (gc.elements() == 0) empty_reductions.insert(std::string(sg::to_string(gc.reduction)));
    empty_mean += gc.elements() == 0 && gc.reduction == sg::reduction::mean &&
                  gc.source == "masked" && gc.loss == 0;
    const double inf = std::numeric_limits<double>::infinity();
    pos_inf += std::count(gc.logits.begin(), gc.logits.end(), inf) > 0;
    neg_inf += std::count(gc.logits.begin(), gc.logits.end(), -inf) > 0;
    big_neg += std::any_of(gc.logits.begin(), gc.logits.end(),
                           [&](double v) { return v <= -1e4 && v > -inf; });
    big_pos += std::any_of(gc.logits.begin(), gc.logits.end(),
                           [&](double v) { return v >= 1e4 && v < inf; });
    zeros += std::count(gc.logits.begin(), gc.logits.end(), 0.0) > 0;
    soft_interior += !gc.hard() && std::any_of(gc.targets.begin(), gc.targets.end(),
                                               [](double t) { return t > 0 && t < 1; });
    hard_smoothed += gc.hard() && gc.smoothing > 0;
    bool any_masked = false;
    for (std::size_t e = 0; e < gc.elements(); ++e) any_masked |= gc.masked(e);
    if (any_masked) {
      ++masked_cases;
      masked_reductions.insert(std::string(sg::to_string(gc.reduction)));
    }
  }
  const std::set<std::string> all_reductions{"mean", "sum", "none"};
  CHECK(kinds == std::set<std::string>{"hard", "soft"});
  CHECK(reductions == all_reductions);
  CHECK(sources == std::set<std::string>{"torch", "masked"});
  CHECK(ranks == std::set<std::size_t>{1, 2, 3});
  for (std::size_t C : golden_class_counts) {
    INFO("class count " << C);
    CHECK(classes.count(C) == 1);
  }
  CHECK(tails8.size() == 8);
  CHECK(smoothings == std::set<float>{0.0f, 0.1f, 0.125f, 0.25f, 1.0f});
  CHECK(class_weighted >= 60);
  CHECK(pos_weighted >= 60);
  CHECK(both >= 30);
  CHECK(zero_weight >= 3);
  CHECK(zero_pos >= 3);
  CHECK(rank1_weighted >= 3);
  CHECK(n_by_1 >= 10);
  CHECK(empty >= 16);
  CHECK(empty_reductions == all_reductions);
  CHECK(empty_mean >= 4);
  CHECK(pos_inf >= 20);
  CHECK(neg_inf >= 20);
  CHECK(masked_cases >= 20);
  CHECK(masked_reductions == all_reductions);
  CHECK(big_neg >= 10);
  CHECK(big_pos >= 10);
  CHECK(zeros >= 20);
  CHECK(soft_interior >= 60);
  CHECK(hard_smoothed >= 20);
}
