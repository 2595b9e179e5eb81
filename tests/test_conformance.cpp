// Conformance with torch.nn.functional.cross_entropy: every case of the golden files
// tests/data/conformance_*.txt (written by tests/conformance/generate.py with torch in float64;
// the format is described there) is run through every call form of sg::softmax_cross_entropy,
// for double and for float logits, with every label type that can hold the case's labels.
//
// How results are compared. For one output of a case (the reduced loss, the per-sample losses,
// or the gradient), let S be the larger of the largest |reference| among its values and the
// case's `unit`: the size of the terms the outputs are made of (max over rows of g * A_i, where
// A_i is the sum of row i's coefficients, its total target weight, and g the gradient's scale:
// 1 / denominator for mean, else 1; see generate.py). A value passes when
//
//     |got - ref| <= max(rtol * |ref|, atol * S)
//
//   double logits: rtol = 2e-5, atol = 2e-11  (S * 2e-11 is about 1e5 double ulps of S)
//   float logits:  rtol = 1e-5, atol = 1e-6   (S * 1e-6 is about 16 float ulps of S)
//
// The floor only matters for values far below the largest of their kind: gradient entries that
// are the difference of two nearly equal terms (A_i p_c and a_c), losses of confidently right
// rows. A reduced loss is compared relatively (S is about |ref|), and
// where every term is 0 (every row ignored, an empty batch) the result must be exactly 0.
// Float logits are the reference's own inputs (the generator picks float32 values), so the
// float comparison measures the float path alone, against the float64 reference.
//
// The golden values of "source masked" cases are the documented differences from PyTorch
// (a -inf logit with target weight 0 contributes 0; a mean whose denominator is 0 is 0 with a
// zero gradient); every other case is torch's own result, except the cases of one class:
// shapeguard refuses those (single_class: a softmax over one class cannot learn), and the test
// checks that every call raises it and writes nothing.
//
// With a reduced loss, one more call asks for predictions: each row's must be torch.argmax of
// the case's logits (the first maximum), -1 for ignored rows and rows whose loss is NaN, and the
// loss and gradient the same as without (the soft-capped group excepted: its predictions are
// the argmax of the capped logits, held to their reference in test_predictions.cpp).
//
// The group "zloss" runs ce_options::z_loss (the case's zloss record): its golden values are
// torch's cross_entropy plus z * logsumexp(x)^2 over the counted rows, composed in float64 with
// the gradient by torch autograd (generate.py); its unit includes the z-loss's gradient term.
//
// The group "softcap" runs ce_options::soft_cap s (the case's softcap record), alone and with a
// z-loss: its golden values are the same compositions over s * tanh(x / s) in place of the
// logits x, the gradient by torch autograd w.r.t. the raw logits (through tanh). A -inf logit
// is capped to -s, a finite logit, so torch's results are finite there, even where the target
// has weight or a whole row is -inf: the group's -inf cases are source torch, and its masked
// cases are the means whose denominator is 0. The gradient through tanh is the plain one times
// 1 - tanh^2 <= 1, so the unit of the plain terms bounds it (with a z-loss, lse is the capped
// logits').
//
// The group "classes_first" (its cases have a class_axis 1 record) stores logits, targets and
// gradient in torch's own order [N, C, d...], with torch's cross_entropy applied directly on
// it; they are passed as sg::class_axis<1> views of that storage (labels and per-sample losses
// [N, d...], row-major).

#include <shapeguard/shapeguard.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "conformance/golden.hpp"

namespace sg = shapeguard;

namespace {

struct golden_case {
  std::string name, source, kind;
  std::vector<std::size_t> shape;
  sg::reduction reduction = sg::reduction::mean;
  std::int64_t ignore_index = -100;
  float smoothing = 0;
  double zloss = 0;  // ce_options::z_loss; the record is only written when it is not 0
  double soft_cap = 0;  // ce_options::soft_cap; the record is only written when it is not 0
  bool weighted = false;
  bool classes_first = false;  // a class_axis 1 record: stored [N, C, d...], not classes last
  std::vector<float> weights;
  std::vector<double> logits, targets;
  std::vector<std::int64_t> labels;
  double loss = 0, unit = -1;
  std::vector<double> losses, grad;

  [[nodiscard]] auto classes() const -> std::size_t {
    return classes_first ? shape[1] : shape.back();
  }
  /// The labels' (per-sample losses') shape: the logits' without the class axis.
  [[nodiscard]] auto batch() const -> std::vector<std::size_t> {
    auto b = shape;
    b.erase(b.begin() + std::ptrdiff_t(classes_first ? 1 : shape.size() - 1));
    return b;
  }
  [[nodiscard]] auto rows() const -> std::size_t {
    std::size_t n = 1;
    for (std::size_t d : batch()) n *= d;
    return n;
  }
};

using golden::parse_double;
using golden::parse_reduction;
using golden::parse_values;

auto load(const std::string& group) -> std::vector<golden_case> {
  const auto path =
      std::filesystem::path(SHAPEGUARD_TEST_DATA_DIR) / ("conformance_" + group + ".txt");
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot open " + path.string());
  std::vector<golden_case> cases;
  golden_case c;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::string key, word;
    in >> key;
    if (key == "case") {
      c = golden_case{};
      in >> c.name;
    } else if (key == "source") {
      in >> c.source;
    } else if (key == "shape") {
      c.shape = parse_values<std::size_t>(in);
    } else if (key == "class_axis") {
      in >> word;
      if (word != "1") throw std::runtime_error("unsupported class_axis " + word);
      c.classes_first = true;
    } else if (key == "kind") {
      in >> c.kind;
    } else if (key == "reduction") {
      in >> word;
      c.reduction = parse_reduction(word);
    } else if (key == "ignore_index") {
      in >> word;
      c.ignore_index = std::stoll(word);
    } else if (key == "smoothing") {
      in >> word;
      c.smoothing = static_cast<float>(parse_double(word));  // a float32 value: exact
    } else if (key == "zloss") {
      in >> word;
      c.zloss = parse_double(word);  // 15 digits of a value exact in 15 digits: the same double
    } else if (key == "softcap") {
      in >> word;
      c.soft_cap = parse_double(word);  // exact in 15 digits, as zloss
    } else if (key == "weights") {
      c.weighted = line != "weights -";
      if (c.weighted) c.weights = parse_values<float>(in);
    } else if (key == "logits") {
      c.logits = parse_values<double>(in);
    } else if (key == "labels") {
      c.labels = parse_values<std::int64_t>(in);
    } else if (key == "targets") {
      c.targets = parse_values<double>(in);
    } else if (key == "loss") {
      in >> word;
      c.loss = parse_double(word);
    } else if (key == "losses") {
      c.losses = parse_values<double>(in);
    } else if (key == "grad") {
      c.grad = parse_values<double>(in);
    } else if (key == "unit") {
      in >> word;
      c.unit = parse_double(word);
    } else if (key == "end") {
      cases.push_back(c);
    } else {
      throw std::runtime_error("unknown record '" + key + "' in " + path.string());
    }
  }
  return cases;
}

// ---- comparison ------------------------------------------------------------------------------

struct tolerance {
  double rtol, atol;
};
constexpr tolerance double_tolerance{2e-5, 2e-11};
constexpr tolerance float_tolerance{1e-5, 1e-6};

/// The largest errors seen, for the summary.
struct error_stats {
  double loss_rel = 0;  // reduced and per-sample losses: |got - ref| / |ref|, ref != 0
  double grad_rel = 0;  // gradient entries with |ref| >= 1e-3 * S: |got - ref| / |ref|
  double worst = 0;     // max over every value of |got - ref| / max(rtol |ref|, atol S)
  std::size_t values = 0, runs = 0;
  std::size_t single_class = 0;  // cases of one class, refused (run_single_class)
  std::size_t prediction_rows = 0;  // rows whose prediction was checked
};

/// Compares one output; returns a description of the first failure, or "".
auto compare(const char* what, const std::vector<double>& got, const std::vector<double>& ref,
             double unit, tolerance t, double& rel_stat, error_stats& st) -> std::string {
  if (got.size() != ref.size())
    return fmt::format("{}: {} values, expected {}", what, got.size(), ref.size());
  double s = unit;
  for (double r : ref) s = std::max(s, std::fabs(r));
  std::string failure;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(got[i] - ref[i]);
    const double allowed = std::max(t.rtol * std::fabs(ref[i]), t.atol * s);
    ++st.values;
    if (!(err <= allowed)) {  // NaN fails
      if (failure.empty())
        failure = fmt::format("{}[{}] = {:.17g}, expected {:.17g} (error {:.3g}, allowed {:.3g})",
                              what, i, got[i], ref[i], err, allowed);
      st.worst = std::numeric_limits<double>::infinity();
      continue;
    }
    if (allowed > 0) st.worst = std::max(st.worst, err / allowed);
    if (ref[i] != 0 && std::fabs(ref[i]) >= 1e-3 * s)  // reported: values not near the floor
      rel_stat = std::max(rel_stat, err / std::fabs(ref[i]));
  }
  return failure;
}

// ---- views of any rank -----------------------------------------------------------------------

template <std::size_t... I>
auto dyn_extents_of(std::index_sequence<I...>) -> sg::extents<((void)I, sg::dyn)...>;
template <std::size_t R>
using dyn_extents = decltype(dyn_extents_of(std::make_index_sequence<R>{}));

/// A view of rank R over `data` with the first R extents of `shape`.
template <class T, std::size_t R>
auto make_view(T* data, const std::vector<std::size_t>& shape) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return sg::tensor_view<T, dyn_extents<R>>(data, shape[I]...);
  }(std::make_index_sequence<R>{});
}

/// The logits' (targets', gradient's) view: rank R, the classes last, or for a classes-first
/// case (First) sg::class_axis<1> of the storage in torch's order [N, C, d...].
template <class T, std::size_t R, bool First>
auto class_view(T* data, const std::vector<std::size_t>& shape) {
  if constexpr (First)
    return sg::class_axis<1>(make_view<T, R>(data, shape));
  else
    return make_view<T, R>(data, shape);
}

/// Values of a classes-first case, [N, C, d...], with the classes last, [N, d..., C].
template <class T>
auto classes_last(const std::vector<std::size_t>& shape, const std::vector<T>& v)
    -> std::vector<T> {
  std::size_t s = 1;
  for (std::size_t a = 2; a < shape.size(); ++a) s *= shape[a];
  std::vector<T> out(v.size());
  for (std::size_t n = 0; n < shape[0]; ++n)
    for (std::size_t c = 0; c < shape[1]; ++c)
      for (std::size_t p = 0; p < s; ++p)
        out[(n * s + p) * shape[1] + c] = v[(n * shape[1] + c) * s + p];
  return out;
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

// ---- running one case ------------------------------------------------------------------------

/// Runs every call form for one label variant, with logits of type T and rank R (First: stored
/// classes first, passed through sg::class_axis<1>).
template <class T, std::size_t R, bool First = false, class Labels>
void run_forms(const golden_case& gc, const Labels& labels, const std::string& variant,
               error_stats& st) {
  const tolerance tol = std::is_same_v<T, double> ? double_tolerance : float_tolerance;
  const auto nan = std::numeric_limits<T>::quiet_NaN();
  const std::vector<T> x = convert<T>(gc.logits);
  const auto xv = class_view<const T, R, First>(x.data(), gc.shape);

  sg::ce_options o;
  o.reduction = gc.reduction;
  o.ignore_index = gc.ignore_index;
  o.label_smoothing = gc.smoothing;
  o.z_loss = gc.zloss;
  o.soft_cap = gc.soft_cap;
  if (gc.weighted) o.class_weights = gc.weights;

  auto check = [&](const char* form, const std::vector<double>& loss,
                   const std::optional<std::vector<double>>& grad) {
    INFO(gc.name << " [" << gc.source << "], " << (std::is_same_v<T, double> ? "double" : "float")
                 << " logits, labels " << variant << ", " << form);
    ++st.runs;
    const std::vector<double> ref_loss =
        gc.reduction == sg::reduction::none ? gc.losses : std::vector<double>{gc.loss};
    auto failure = compare("loss", loss, ref_loss, gc.unit, tol, st.loss_rel, st);
    if (failure.empty() && grad)
      failure = compare("grad", *grad, gc.grad, gc.unit, tol, st.grad_rel, st);
    INFO(failure);
    CHECK(failure.empty());
  };

  // threads = 3 splits the rows between threads; each result must still match
  for (const std::size_t threads : {std::size_t(1), std::size_t(3)}) {
    o.threads = threads;
    const std::string suffix = threads == 1 ? "" : ", 3 threads";
    auto form = [&](const char* name) { return std::string(name) + suffix; };
    std::vector<T> g(x.size(), nan);
    std::vector<T> in_place = x;  // the gradient overwrites the logits
    const auto gv = class_view<T, R, First>(g.data(), gc.shape);
    const auto in_place_x = class_view<const T, R, First>(in_place.data(), gc.shape);
    const auto in_place_g = class_view<T, R, First>(in_place.data(), gc.shape);
    if (gc.reduction != sg::reduction::none) {
      const T loss = sg::softmax_cross_entropy(xv, labels, o);
      check(form("loss").c_str(), {double(loss)}, std::nullopt);
      const T loss_with_grad = sg::softmax_cross_entropy(xv, labels, gv, o);
      check(form("loss and grad").c_str(), {double(loss_with_grad)}, to_double(g));
      const T loss_in_place = sg::softmax_cross_entropy(in_place_x, labels, in_place_g, o);
      check(form("in place").c_str(), {double(loss_in_place)}, to_double(in_place));
      // predictions: torch.argmax of the logits (the first maximum), -1 for ignored rows and
      // rows whose loss is NaN; soft-capped cases predict the argmax of the capped logits,
      // which test_predictions.cpp holds to its own reference
      if (gc.soft_cap == 0) {
        std::vector<std::int64_t> pred(gc.rows(), -9);
        const auto pv = make_view<std::int64_t, R - 1>(pred.data(), gc.batch());
        const T loss_pred = sg::softmax_cross_entropy(xv, labels, gv, sg::predictions(pv), o);
        check(form("loss, grad and predictions").c_str(), {double(loss_pred)}, to_double(g));
        std::size_t wrong = 0;
        const std::size_t C = gc.classes();
        const std::vector<T> last = gc.classes_first ? classes_last(gc.shape, x) : x;
        for (std::size_t i = 0; i < gc.rows(); ++i) {
          const T* row = last.data() + i * C;
          std::int64_t want = std::max_element(row, row + C) - row;
          bool undefined = true;
          for (std::size_t c = 0; c < C; ++c) {
            if (std::isnan(row[c]) || row[c] == std::numeric_limits<T>::infinity()) want = -1;
            undefined &= row[c] == -std::numeric_limits<T>::infinity();
          }
          if (undefined || (gc.kind == "indices" && gc.labels[i] == gc.ignore_index)) want = -1;
          wrong += pred[i] != want;
        }
        INFO(gc.name << ", " << variant << ": predictions");
        CHECK(wrong == 0);
        st.prediction_rows += gc.rows();
      }
    } else {
      // every output starts as NaN, so an entry left unwritten fails
      std::vector<T> losses(gc.rows(), nan);
      const auto lv = make_view<T, R - 1>(losses.data(), gc.batch());
      sg::softmax_cross_entropy(xv, labels, sg::per_sample(lv), o);
      check(form("per-sample").c_str(), to_double(losses), std::nullopt);
      std::fill(losses.begin(), losses.end(), nan);
      sg::softmax_cross_entropy(xv, labels, sg::per_sample(lv), gv, o);
      check(form("per-sample and grad").c_str(), to_double(losses), to_double(g));
      std::fill(losses.begin(), losses.end(), nan);
      sg::softmax_cross_entropy(in_place_x, labels, sg::per_sample(lv), in_place_g, o);
      check(form("per-sample, in place").c_str(), to_double(losses), to_double(in_place));
    }
  }
}

template <class L>
auto fits(const std::vector<std::int64_t>& labels) -> bool {
  return std::all_of(labels.begin(), labels.end(),
                     [](std::int64_t v) { return std::in_range<L>(v); });
}

/// Class indices of type L, as a view; also as a std::vector (rank 1) and wrapped with
/// sg::class_indices when `all_forms`.
template <class T, std::size_t R, class L, bool First = false>
void run_indices(const golden_case& gc, const char* type, bool all_forms, error_stats& st) {
  if (!fits<L>(gc.labels)) return;
  const std::vector<L> y = convert<L>(gc.labels);
  const auto yv = make_view<const L, R - 1>(y.data(), gc.batch());
  run_forms<T, R, First>(gc, yv, std::string(type) + " view", st);
  if (!all_forms) return;
  run_forms<T, R, First>(gc, sg::class_indices(yv),
                         std::string("sg::class_indices(") + type + ")", st);
  if constexpr (R == 2)
    run_forms<T, R, First>(gc, y, std::string("std::vector<") + type + ">", st);
}

/// The case's per-class target rows as type U (one-hot rows from the labels for kind onehot).
template <class U>
auto target_rows(const golden_case& gc) -> std::vector<U> {
  if (gc.kind == "probs") return convert<U>(gc.targets);
  std::vector<U> rows(gc.rows() * gc.classes(), U(0));
  for (std::size_t i = 0; i < gc.rows(); ++i)
    rows[i * gc.classes() + std::size_t(gc.labels[i])] = U(1);
  return rows;
}

/// A case with one class: softmax over it is always 1, a loss that cannot learn, so every call
/// raises single_class (README, Semantics) and writes nothing; torch's value (0) is not checked.
template <class T, std::size_t R>
void run_single_class(const golden_case& gc, error_stats& st) {
  const std::vector<T> x = convert<T>(gc.logits);
  std::vector<T> grad(x.size(), T(-7));
  const auto xv = make_view<const T, R>(x.data(), gc.shape);
  const auto gv = make_view<T, R>(grad.data(), gc.shape);
  auto raised = [&](auto&& labels) {
    try {
      sg::softmax_cross_entropy(xv, labels, gv);
    } catch (const sg::shape_error& e) {
      return e.kind();
    }
    return sg::error_kind::rank_mismatch;  // nothing raised: fails below
  };
  INFO(gc.name);
  if (gc.kind == "indices") {
    const auto y = make_view<const std::int64_t, R - 1>(gc.labels.data(), gc.batch());
    CHECK(raised(y) == sg::error_kind::single_class);
    CHECK(sg::try_check(xv, y).kind() == sg::error_kind::single_class);
  } else {
    const auto d = target_rows<double>(gc);
    CHECK(raised(make_view<const double, R>(d.data(), gc.shape)) == sg::error_kind::single_class);
  }
  CHECK(grad == std::vector<T>(x.size(), T(-7)));
  ++st.single_class;
}

/// A classes-first case (validate: rank >= 2, C > 1, indices or probs): int64 and uint8 class
/// indices, double and float probability rows, through sg::class_axis<1>.
template <class T, std::size_t R>
void run_classes_first(const golden_case& gc, error_stats& st) {
  if (gc.kind == "indices") {
    run_indices<T, R, std::int64_t, true>(gc, "int64", false, st);
    run_indices<T, R, std::uint8_t, true>(gc, "uint8", false, st);
  } else {
    const auto f = convert<float>(gc.targets);
    run_forms<T, R, true>(gc, class_view<const double, R, true>(gc.targets.data(), gc.shape),
                          "class_axis<1>(double rows)", st);
    run_forms<T, R, true>(gc, class_view<const float, R, true>(f.data(), gc.shape),
                          "class_axis<1>(float rows)", st);
  }
}

template <class T, std::size_t R>
void run_case(const golden_case& gc, error_stats& st) {
  if constexpr (R >= 2)
    if (gc.classes_first) return run_classes_first<T, R>(gc, st);
  if (gc.classes() == 1) return run_single_class<T, R>(gc, st);
  // Rank 2 gets every label type and form; the other ranks (whose label handling is the same
  // code) the main ones, to keep the build short.
  constexpr bool all = R == 2;
  if (gc.kind == "indices") {
    // int64 is read in place; every other type goes through the decoding path
    run_indices<T, R, std::int64_t>(gc, "int64", all, st);
    run_indices<T, R, std::uint8_t>(gc, "uint8", false, st);
    if constexpr (all) {
      run_indices<T, R, long long>(gc, "long long", false, st);
      run_indices<T, R, std::int32_t>(gc, "int32", true, st);
      run_indices<T, R, std::int16_t>(gc, "int16", false, st);
      run_indices<T, R, std::int8_t>(gc, "int8", false, st);
      run_indices<T, R, std::uint64_t>(gc, "uint64", false, st);
      run_indices<T, R, std::uint32_t>(gc, "uint32", false, st);
      run_indices<T, R, std::uint16_t>(gc, "uint16", false, st);
    }
  } else if (gc.kind == "onehot") {
    const auto i32 = target_rows<std::int32_t>(gc);
    const auto u8 = target_rows<std::uint8_t>(gc);
    const auto f = target_rows<float>(gc);
    const auto d = target_rows<double>(gc);
    run_forms<T, R>(gc, sg::one_hot(make_view<const std::int32_t, R>(i32.data(), gc.shape)),
                    "sg::one_hot(int32)", st);
    if constexpr (all) {
      run_forms<T, R>(gc, sg::one_hot(make_view<const std::uint8_t, R>(u8.data(), gc.shape)),
                      "sg::one_hot(uint8)", st);
      run_forms<T, R>(gc, sg::one_hot(make_view<const float, R>(f.data(), gc.shape)),
                      "sg::one_hot(float)", st);
      run_forms<T, R>(gc, sg::one_hot(make_view<const double, R>(d.data(), gc.shape)),
                      "sg::one_hot(double)", st);
    }
    // unwrapped floating rows are probability rows; a one-hot row is one
    run_forms<T, R>(gc, make_view<const double, R>(d.data(), gc.shape), "double rows", st);
  } else if (gc.kind == "probs") {
    const auto f = target_rows<float>(gc);
    const auto d = target_rows<double>(gc);
    run_forms<T, R>(gc, make_view<const double, R>(d.data(), gc.shape), "double rows", st);
    run_forms<T, R>(gc, make_view<const float, R>(f.data(), gc.shape), "float rows", st);
    if constexpr (all)
      run_forms<T, R>(gc, sg::probabilities(make_view<const double, R>(d.data(), gc.shape)),
                      "sg::probabilities(double)", st);
  } else {
    FAIL("unknown kind " << gc.kind << " in " << gc.name);
  }
}

template <class T>
void run(const golden_case& gc, error_stats& st) {
  switch (gc.shape.size()) {
    case 1: return run_case<T, 1>(gc, st);
    case 2: return run_case<T, 2>(gc, st);
    case 3: return run_case<T, 3>(gc, st);
    case 4: return run_case<T, 4>(gc, st);
    default: FAIL("unsupported rank in " << gc.name);
  }
}

/// Structural sanity of a parsed case, so that a truncated file cannot pass quietly.
void validate(const golden_case& gc) {
  INFO(gc.name);
  REQUIRE(!gc.shape.empty());
  REQUIRE(gc.logits.size() == gc.rows() * gc.classes());
  REQUIRE((gc.source == "torch" || gc.source == "masked"));
  if (gc.kind == "probs")
    REQUIRE(gc.targets.size() == gc.logits.size());
  else
    REQUIRE(gc.labels.size() == gc.rows());
  if (gc.weighted) REQUIRE(gc.weights.size() == gc.classes());
  REQUIRE(gc.unit >= 0);
  REQUIRE(gc.soft_cap >= 0);
  if (gc.reduction == sg::reduction::none) REQUIRE(gc.losses.size() == gc.rows());
  REQUIRE(gc.grad.size() == gc.logits.size());
  if (gc.classes_first)
    REQUIRE((gc.shape.size() >= 2 && gc.classes() > 1 && gc.kind != "onehot"));
}

void run_group(const std::string& group, std::size_t min_cases) {
  const auto cases = load(group);
  REQUIRE(cases.size() >= min_cases);
  error_stats st64, st32;
  for (const auto& gc : cases) {
    validate(gc);
    run<double>(gc, st64);
    run<float>(gc, st32);
  }
  std::printf(
      "conformance_%s: %zu cases; double: %zu runs, max rel error loss %.3g grad %.3g, worst "
      "error/allowed %.3g; float: %zu runs, max rel error loss %.3g grad %.3g, worst "
      "error/allowed %.3g; %zu cases of one class refused; %zu predictions checked\n",
      group.c_str(), cases.size(), st64.runs, st64.loss_rel, st64.grad_rel, st64.worst,
      st32.runs, st32.loss_rel, st32.grad_rel, st32.worst, st64.single_class,
      st64.prediction_rows + st32.prediction_rows);
  // every group but the soft-capped one holds predictions to the golden logits' argmax
  if (group != "softcap") CHECK(st64.prediction_rows + st32.prediction_rows > 100);
}

}  // namespace

TEST_CASE("conformance: every option and combination", "[conformance]") {
  run_group("options", 150);
}

TEST_CASE("conformance: class counts 1..33, 63..65, 127..129, 255..257, 1000, 4099",
          "[conformance]") {
  run_group("classes", 100);
}

TEST_CASE("conformance: hard logits (scale 1e4, -inf masks, all equal, +1e3)", "[conformance]") {
  run_group("hard", 80);
}

TEST_CASE("conformance: empty batches, all ignored, zero denominators, C = 1", "[conformance]") {
  run_group("edge", 60);
}

TEST_CASE("conformance: z-loss with every option (torch cross_entropy + z logsumexp^2)",
          "[conformance]") {
  run_group("zloss", 100);
  // every case of the group has a z-loss (a zloss record read as 0 would test nothing), the
  // four values of the generator's rotation, every kind and reduction; the other groups none
  std::set<double> zs;
  std::set<std::string> kinds, reductions, sources;
  std::size_t zero = 0;
  for (const auto& gc : load("zloss")) {
    zs.insert(gc.zloss);
    zero += gc.zloss == 0;
    kinds.insert(gc.kind);
    reductions.insert(std::string(sg::to_string(gc.reduction)));
    sources.insert(gc.source);
  }
  CHECK(zero == 0);
  CHECK(zs == std::set<double>{1e-4, 0.01, 0.5, 2.0});
  CHECK(kinds == std::set<std::string>{"indices", "onehot", "probs"});
  CHECK(reductions == std::set<std::string>{"mean", "sum", "none"});
  CHECK(sources == std::set<std::string>{"torch", "masked"});
  std::size_t others_with_z = 0;
  for (const char* group : {"options", "classes", "hard", "edge"})
    for (const auto& gc : load(group)) others_with_z += gc.zloss != 0;
  CHECK(others_with_z == 0);
}

TEST_CASE("conformance: soft-capping with every option (torch cross_entropy of s tanh(x / s))",
          "[conformance]") {
  run_group("softcap", 100);
  // every case of the group has a cap (a softcap record read as 0 would test nothing), the four
  // values of the generator's rotation, every kind and reduction, a z-loss on some; its -inf
  // logits are capped to -s, so no case with one is masked; the other groups have no cap
  std::set<double> caps;
  std::set<std::string> kinds, reductions, sources;
  std::size_t zero = 0, with_z = 0, neg_inf = 0, neg_inf_masked = 0;
  for (const auto& gc : load("softcap")) {
    caps.insert(gc.soft_cap);
    zero += gc.soft_cap == 0;
    with_z += gc.zloss != 0;
    kinds.insert(gc.kind);
    reductions.insert(std::string(sg::to_string(gc.reduction)));
    sources.insert(gc.source);
    const bool has_neg_inf = std::count(gc.logits.begin(), gc.logits.end(),
                                        -std::numeric_limits<double>::infinity()) > 0;
    neg_inf += has_neg_inf;
    neg_inf_masked += has_neg_inf && gc.source == "masked";
  }
  CHECK(zero == 0);
  CHECK(caps == std::set<double>{1.0, 2.5, 5.0, 30.0});
  CHECK(with_z >= 30);
  CHECK(kinds == std::set<std::string>{"indices", "onehot", "probs"});
  CHECK(reductions == std::set<std::string>{"mean", "sum", "none"});
  CHECK(sources == std::set<std::string>{"torch", "masked"});
  CHECK(neg_inf >= 10);
  CHECK(neg_inf_masked == 0);
  std::size_t others_with_cap = 0;
  for (const char* group : {"options", "classes", "hard", "edge", "zloss"})
    for (const auto& gc : load(group)) others_with_cap += gc.soft_cap != 0;
  CHECK(others_with_cap == 0);
}

TEST_CASE("conformance: torch's [N, C], [N, C, L], [N, C, H, W] through sg::class_axis<1>",
          "[conformance]") {
  run_group("classes_first", 60);
  // every case of the group is stored classes first (a class_axis record read as absent would
  // run them classes last), of every rank and kind; the other groups none
  std::set<std::size_t> ranks;
  std::set<std::string> kinds, reductions;
  std::size_t last = 0;
  for (const auto& gc : load("classes_first")) {
    last += !gc.classes_first;
    ranks.insert(gc.shape.size());
    kinds.insert(gc.kind);
    reductions.insert(std::string(sg::to_string(gc.reduction)));
  }
  CHECK(last == 0);
  CHECK(ranks == std::set<std::size_t>{2, 3, 4});
  CHECK(kinds == std::set<std::string>{"indices", "probs"});
  CHECK(reductions == std::set<std::string>{"mean", "sum", "none"});
  std::size_t others_first = 0;
  for (const char* group : {"options", "classes", "hard", "edge", "zloss", "softcap"})
    for (const auto& gc : load(group)) others_first += gc.classes_first;
  CHECK(others_first == 0);
}

TEST_CASE("conformance: the golden files cover what the contract promises", "[conformance]") {
  std::set<std::string> kinds, reductions, sources;
  std::set<std::size_t> class_tails, ranks;
  std::size_t weighted = 0, smoothed = 0, ignored = 0, empty = 0, neg_inf = 0, big = 0;
  for (const char* group : {"options", "classes", "hard", "edge", "zloss", "softcap"}) {
    for (const auto& gc : load(group)) {
      kinds.insert(gc.kind);
      reductions.insert(std::string(sg::to_string(gc.reduction)));
      sources.insert(gc.source);
      ranks.insert(gc.shape.size());
      class_tails.insert(gc.classes() % 16);
      weighted += gc.weighted;
      smoothed += gc.smoothing > 0;
      ignored += std::count(gc.labels.begin(), gc.labels.end(), gc.ignore_index) > 0;
      empty += gc.rows() == 0;
      neg_inf += std::count(gc.logits.begin(), gc.logits.end(),
                            -std::numeric_limits<double>::infinity()) > 0;
      big += gc.classes() >= 4096;
    }
  }
  CHECK(kinds == std::set<std::string>{"indices", "onehot", "probs"});
  CHECK(reductions == std::set<std::string>{"mean", "sum", "none"});
  CHECK(sources == std::set<std::string>{"torch", "masked"});
  CHECK(ranks == std::set<std::size_t>{1, 2, 3, 4});
  CHECK(class_tails.size() == 16);
  CHECK(weighted >= 100);
  CHECK(smoothed >= 100);
  CHECK(ignored >= 50);
  CHECK(empty >= 10);
  CHECK(neg_inf >= 30);
  CHECK(big >= 1);
}
