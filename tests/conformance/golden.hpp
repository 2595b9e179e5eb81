#pragma once
// Reading the golden files of tests/data/ (written by generate.py and generate_sigmoid.py): one
// record per line, a key and its values. The parsers here are shared by the conformance tests;
// each test reads its own records.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <shapeguard/options.hpp>

namespace golden {

/// A number as the generators write it: decimal, hex float, inf or nan.
inline auto parse_double(const std::string& token) -> double {
  char* end = nullptr;
  const double v = std::strtod(token.c_str(), &end);
  if (end == token.c_str() || *end != '\0') throw std::runtime_error("bad number: " + token);
  return v;
}

/// The rest of a record as values of type V: extents (std::size_t, never negative), class
/// indices (std::int64_t), float32 weights (exact: a value float cannot hold is an error) or
/// doubles.
template <class V>
auto parse_values(std::istringstream& in) -> std::vector<V> {
  std::vector<V> out;
  std::string token;
  while (in >> token) {
    if constexpr (std::is_same_v<V, std::size_t>) {
      const long long v = std::stoll(token);
      if (v < 0) throw std::runtime_error("negative extent: " + token);
      out.push_back(static_cast<std::size_t>(v));
    } else if constexpr (std::is_same_v<V, std::int64_t>) {
      out.push_back(std::stoll(token));
    } else {
      const double v = parse_double(token);
      if constexpr (std::is_same_v<V, float>) {
        if (static_cast<double>(static_cast<float>(v)) != v)
          throw std::runtime_error("not a float32 value: " + token);
      }
      out.push_back(static_cast<V>(v));
    }
  }
  return out;
}

inline auto parse_reduction(const std::string& s) -> shapeguard::reduction {
  if (s == "mean") return shapeguard::reduction::mean;
  if (s == "sum") return shapeguard::reduction::sum;
  if (s == "none") return shapeguard::reduction::none;
  throw std::runtime_error("bad reduction: " + s);
}

}  // namespace golden
