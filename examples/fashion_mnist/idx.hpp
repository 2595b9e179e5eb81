#pragma once
/// Reading Fashion-MNIST's IDX files (gzip-compressed, as Debian's dataset-fashion-mnist
/// package ships them in /usr/share/datasets/fashion-mnist).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace fashion_mnist {

inline constexpr std::size_t image_side = 28;
inline constexpr std::size_t image_pixels = image_side * image_side;
inline constexpr std::size_t classes = 10;
inline constexpr const char* default_data_dir = "/usr/share/datasets/fashion-mnist";

/// One split: `count` images of 28x28 bytes, row-major, and one label (0-9) each.
struct split {
  std::size_t count = 0;
  std::vector<std::uint8_t> pixels;  // count * image_pixels
  std::vector<std::uint8_t> labels;  // count
};

struct dataset {
  split train;
  split test;
};

/// A data file is missing: the message names the package that provides it.
class data_missing : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A data file is present but not a well-formed IDX file of the expected kind.
class data_invalid : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Loads the four files from `dir` (each `NAME.gz`, or `NAME` uncompressed).
auto load_dataset(const std::filesystem::path& dir) -> dataset;

}  // namespace fashion_mnist
