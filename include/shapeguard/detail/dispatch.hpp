#pragma once
// Chooses the kernel that solves a rows_problem.

#include "rows.hpp"
#include "scalar_kernel.hpp"

namespace shapeguard::detail {

template <class T, class U>
using rows_kernel_fn = double (*)(const rows_problem<T, U>&);

template <class T, class U>
auto rows_kernel() -> rows_kernel_fn<T, U> {
  return &scalar_rows<T, U>;
}

}  // namespace shapeguard::detail
