#include "idx.hpp"

#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

namespace fashion_mnist {
namespace {

/// The path of `name` in `dir`: the .gz file if present, else the uncompressed one.
auto find_file(const std::filesystem::path& dir, const std::string& name) -> std::filesystem::path {
  std::error_code ec;
  for (const auto& candidate : {dir / (name + ".gz"), dir / name})
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  throw data_missing(
      "fashion_mnist: " + (dir / (name + ".gz")).string() +
      " not found.\n"
      "The Fashion-MNIST data comes with Debian's dataset-fashion-mnist package:\n"
      "    apt-get install dataset-fashion-mnist\n"
      "or pass --data DIR, a directory holding the four IDX files (train-images-idx3-ubyte,\n"
      "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; .gz or not).");
}

/// The whole (decompressed) content of a file; gzread passes uncompressed files through.
auto read_all(const std::filesystem::path& path) -> std::vector<std::uint8_t> {
  const std::unique_ptr<gzFile_s, decltype(&gzclose)> file(gzopen(path.c_str(), "rb"), &gzclose);
  if (!file) throw data_invalid("fashion_mnist: cannot open " + path.string() + ": " +
                                std::strerror(errno));
  std::vector<std::uint8_t> bytes;
  std::array<std::uint8_t, 1 << 16> chunk;
  for (;;) {
    const int n = gzread(file.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      throw data_invalid("fashion_mnist: cannot read " + path.string() + ": " +
                         gzerror(file.get(), &code));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
  }
  return bytes;
}

auto big_endian_u32(const std::vector<std::uint8_t>& bytes, std::size_t at) -> std::size_t {
  return std::size_t{bytes[at]} << 24 | std::size_t{bytes[at + 1]} << 16 |
         std::size_t{bytes[at + 2]} << 8 | std::size_t{bytes[at + 3]};
}

/// The payload of an IDX file of unsigned bytes with dimensions `dims` (0 = any), checking
/// the header against them; `dims[0]` receives the item count.
auto read_idx(const std::filesystem::path& path, std::vector<std::size_t> dims)
    -> std::vector<std::uint8_t> {
  auto bytes = read_all(path);
  const std::size_t header = 4 + 4 * dims.size();
  auto invalid = [&](const std::string& why) {
    return data_invalid("fashion_mnist: " + path.string() + " is not the expected IDX file: " +
                        why);
  };
  if (bytes.size() < header) throw invalid("too short for its header");
  if (bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08)
    throw invalid("the magic number does not announce unsigned bytes");
  if (bytes[3] != dims.size())
    throw invalid(std::to_string(bytes[3]) + " dimensions, expected " +
                  std::to_string(dims.size()));
  std::size_t items = 1;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    const std::size_t extent = big_endian_u32(bytes, 4 + 4 * d);
    if (dims[d] != 0 && extent != dims[d])
      throw invalid("dimension " + std::to_string(d) + " is " + std::to_string(extent) +
                    ", expected " + std::to_string(dims[d]));
    dims[d] = extent;
    items *= extent;
  }
  if (bytes.size() != header + items)
    throw invalid(std::to_string(bytes.size() - header) + " bytes of data, the header says " +
                  std::to_string(items));
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header));
  return bytes;
}

auto load_split(const std::filesystem::path& dir, const std::string& prefix) -> split {
  const auto images_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const auto labels_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  split s;
  s.pixels = read_idx(images_path, {0, image_side, image_side});
  s.labels = read_idx(labels_path, {0});
  s.count = s.labels.size();
  if (s.pixels.size() != s.count * image_pixels)
    throw data_invalid("fashion_mnist: " + images_path.string() + " holds " +
                       std::to_string(s.pixels.size() / image_pixels) + " images but " +
                       labels_path.string() + " holds " + std::to_string(s.count) + " labels");
  for (std::size_t i = 0; i < s.count; ++i)
    if (s.labels[i] >= classes)
      throw data_invalid("fashion_mnist: " + labels_path.string() + ": label " +
                         std::to_string(s.labels[i]) + " at position " + std::to_string(i) +
                         " is not a class in [0, 10)");
  return s;
}

}  // namespace

auto load_dataset(const std::filesystem::path& dir) -> dataset {
  // look for all four files first, so a missing package is reported before any reading
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
    find_file(dir, name);
  return {load_split(dir, "train"), load_split(dir, "t10k")};
}

}  // namespace fashion_mnist
