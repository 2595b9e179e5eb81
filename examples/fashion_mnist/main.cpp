// Fashion-MNIST classifier in plain C++: a small CNN with hand-written forward and backward
// passes, trained with Adam and a cosine learning-rate decay; the loss and its gradient come
// from shapeguard.
//
//   fashion_mnist [--data DIR] [--epochs N] [--subset N] [--seed N] [--threads N] [--lr X]
//
// reference.py trains the same network the same way in PyTorch and prints the same lines.

#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <shapeguard/shapeguard.hpp>

#include "idx.hpp"
#include "model.hpp"
#include "rng.hpp"

namespace sg = shapeguard;
namespace fm = fashion_mnist;

namespace {

constexpr std::size_t batch = 64;
constexpr std::size_t classes = fm::classes;
constexpr float label_smoothing = 0.1f;
// pixels / 255, then normalised with Fashion-MNIST's training-set mean and deviation
constexpr double pixel_mean = 0.2860, pixel_std = 0.3530;

// Full batches: every extent static, so shapeguard proves the shapes at compile time.
using batch_logits = sg::tensor_view<const float, sg::extents<batch, classes>>;
using batch_grad = sg::tensor_view<float, sg::extents<batch, classes>>;
using batch_labels = sg::tensor_view<const std::uint8_t, sg::extents<batch>>;
static_assert(sg::compatible<batch_logits, batch_labels>);
// The last, smaller batch of an epoch: a dynamic batch axis, checked at run time.
using tail_logits = sg::tensor_view<const float, sg::extents<sg::dyn, classes>>;
using tail_grad = sg::tensor_view<float, sg::extents<sg::dyn, classes>>;
using tail_labels = sg::tensor_view<const std::uint8_t, sg::extents<sg::dyn>>;
static_assert(sg::compatible<tail_logits, tail_labels>);

constexpr int exit_usage = 2;
constexpr int exit_data_missing = 3;

struct options {
  std::string data = fm::default_data_dir;
  std::size_t epochs = 5;
  std::size_t subset = 0;  // 0: the whole training set
  std::uint64_t seed = 1;
  std::size_t threads = 1;
  double lr = 2e-3;  // the peak: the rate decays to 0 over the run (cosine)
};

constexpr std::string_view usage = R"(usage: fashion_mnist [options]
  --data DIR     directory of the Fashion-MNIST IDX files (default {})
  --epochs N     passes over the training set (default 5)
  --subset N     train on the first N training images only (default: all 60000)
  --seed N       seed of the initial weights and of the batch order (default 1)
  --threads N    threads for the forward and backward passes (default 1; same results for any N)
  --lr X         Adam's initial learning rate, decayed to 0 along a cosine (default 0.002)
exit status: 0 trained, 2 bad arguments, 3 data files missing, 1 other errors
)";

struct usage_error {
  std::string message;
};

template <class T>
auto parse_number(std::string_view flag, std::string_view text) -> T {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw usage_error{fmt::format("{}: '{}' is not a valid number", flag, text)};
  return value;
}

auto parse(int argc, char** argv) -> options {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      fmt::print(usage, fm::default_data_dir);
      std::exit(0);
    }
    if (i + 1 == argc) throw usage_error{fmt::format("{} needs a value", flag)};
    const std::string_view value = argv[++i];
    if (flag == "--data") o.data = value;
    else if (flag == "--epochs") o.epochs = parse_number<std::size_t>(flag, value);
    else if (flag == "--subset") o.subset = parse_number<std::size_t>(flag, value);
    else if (flag == "--seed") o.seed = parse_number<std::uint64_t>(flag, value);
    else if (flag == "--threads") o.threads = parse_number<std::size_t>(flag, value);
    else if (flag == "--lr") o.lr = parse_number<double>(flag, value);
    else throw usage_error{fmt::format("unknown option {}", flag)};
  }
  if (o.epochs == 0) throw usage_error{"--epochs must be at least 1"};
  if (o.threads == 0) throw usage_error{"--threads must be at least 1"};
  return o;
}

/// A percentage within the epoch, redrawn in place, only when stderr is a terminal.
class progress {
 public:
  progress(std::size_t epoch, std::size_t epochs, std::size_t total)
      : epoch_(epoch), epochs_(epochs), total_(total), shown_(isatty(STDERR_FILENO) != 0) {}
  void update(std::size_t done) {
    if (!shown_) return;
    const std::size_t percent = done * 100 / total_;
    if (percent == last_) return;
    last_ = percent;
    const std::size_t width = 30, filled = done * width / total_;
    fmt::print(stderr, "\repoch {}/{} [{:<{}}] {:3}%", epoch_, epochs_, std::string(filled, '='),
               width, percent);
    std::fflush(stderr);
  }
  ~progress() {
    if (shown_) fmt::print(stderr, "\r{:60}\r", "");
  }
  progress(const progress&) = delete;
  auto operator=(const progress&) -> progress& = delete;

 private:
  std::size_t epoch_, epochs_, total_, last_ = 101;
  bool shown_;
};

/// Normalised float images of the given sample indices, in order.
void gather(const fm::split& s, std::span<const std::uint32_t> indices,
            const std::array<float, 256>& normalised, std::vector<float>& images,
            std::vector<std::uint8_t>& labels) {
  images.resize(indices.size() * fm::image_pixels);
  labels.resize(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const std::uint8_t* pixels = s.pixels.data() + std::size_t{indices[i]} * fm::image_pixels;
    for (std::size_t p = 0; p < fm::image_pixels; ++p)
      images[i * fm::image_pixels + p] = normalised[pixels[p]];
    labels[i] = s.labels[indices[i]];
  }
}

/// The batch's mean loss; its gradient with respect to the logits goes to `grad`.
auto loss_and_gradient(const std::vector<float>& logits, const std::vector<std::uint8_t>& labels,
                       std::vector<float>& grad) -> float {
  const sg::ce_options loss_options{.label_smoothing = label_smoothing};
  const std::size_t n = labels.size();
  if (n == batch)
    return sg::softmax_cross_entropy(batch_logits(logits.data()), batch_labels(labels.data()),
                                     batch_grad(grad.data()), loss_options);
  return sg::softmax_cross_entropy(tail_logits(logits.data(), n), tail_labels(labels.data(), n),
                                   tail_grad(grad.data(), n), loss_options);
}

/// Cosine annealing, per step: `peak` at step 0, decaying to 0 after the last step.
auto learning_rate(double peak, std::size_t step, std::size_t steps) -> double {
  constexpr double pi = 3.141592653589793;
  return peak * 0.5 * (1.0 + std::cos(pi * double(step) / double(steps)));
}

auto accuracy(fm::cnn& model, const fm::split& test, const std::array<float, 256>& normalised,
              std::size_t threads) -> double {
  std::vector<std::uint32_t> indices(test.count);
  std::iota(indices.begin(), indices.end(), std::uint32_t{0});
  std::vector<float> images, logits(batch * classes);
  std::vector<std::uint8_t> labels;
  std::size_t correct = 0;
  for (std::size_t b = 0; b < test.count; b += batch) {
    const std::size_t n = std::min(batch, test.count - b);
    gather(test, std::span(indices).subspan(b, n), normalised, images, labels);
    model.forward(images.data(), n, logits.data(), threads);
    for (std::size_t i = 0; i < n; ++i) {
      const float* row = logits.data() + i * classes;
      const auto predicted = static_cast<std::size_t>(std::max_element(row, row + classes) - row);
      correct += predicted == labels[i];
    }
  }
  return 100.0 * double(correct) / double(test.count);
}

auto run(const options& o) -> int {
  const fm::dataset data = fm::load_dataset(o.data);
  const std::size_t train_count =
      o.subset == 0 ? data.train.count : std::min(o.subset, data.train.count);
  std::array<float, 256> normalised;
  for (std::size_t p = 0; p < 256; ++p)
    normalised[p] = static_cast<float>((double(p) / 255.0 - pixel_mean) / pixel_std);

  fm::splitmix64 rng(o.seed);
  fm::cnn model(rng, batch);
  fmt::print("fashion-mnist: {} training / {} test images; conv3x3x{}-relu-maxpool2-dense10, "
             "{} parameters; adam lr {} cosine, batch {}, label smoothing {}; threads {}\n",
             train_count, data.test.count, fm::cnn::channels, fm::cnn::parameter_count, o.lr,
             batch, label_smoothing, o.threads);
  std::fflush(stdout);

  std::vector<std::uint32_t> order(train_count);
  std::iota(order.begin(), order.end(), std::uint32_t{0});
  std::vector<float> images, logits(batch * classes), grad(batch * classes);
  std::vector<std::uint8_t> labels;
  const std::size_t steps = o.epochs * ((train_count + batch - 1) / batch);
  std::size_t step = 0;
  double test_accuracy = 0;
  for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    fm::shuffle(std::span(order), rng);
    double loss_sum = 0;
    {
      progress bar(epoch, o.epochs, train_count);
      for (std::size_t b = 0; b < train_count; b += batch) {
        const std::size_t n = std::min(batch, train_count - b);
        gather(data.train, std::span(order).subspan(b, n), normalised, images, labels);
        model.forward(images.data(), n, logits.data(), o.threads);
        const float loss = loss_and_gradient(logits, labels, grad);
        loss_sum += double(loss) * double(n);
        model.backward(images.data(), grad.data(), n, o.threads);
        model.adam_step(learning_rate(o.lr, step++, steps));
        bar.update(b + n);
      }
    }
    test_accuracy = accuracy(model, data.test, normalised, o.threads);
    const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
    fmt::print("epoch {}/{}: train loss {:.4f}, test accuracy {:.2f}%, time {:.1f} s\n", epoch,
               o.epochs, loss_sum / double(train_count), test_accuracy, seconds.count());
    std::fflush(stdout);
  }
  fmt::print("test accuracy: {:.2f}%\n", test_accuracy);
  return 0;
}

}  // namespace

auto main(int argc, char** argv) -> int {
  try {
    return run(parse(argc, argv));
  } catch (const usage_error& e) {
    fmt::print(stderr, "fashion_mnist: {}\n", e.message);
    fmt::print(stderr, usage, fm::default_data_dir);
    return exit_usage;
  } catch (const fm::data_missing& e) {
    fmt::print(stderr, "{}\n", e.what());
    return exit_data_missing;
  } catch (const std::exception& e) {
    fmt::print(stderr, "fashion_mnist: {}\n", e.what());
    return 1;
  }
}
