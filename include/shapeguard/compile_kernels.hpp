#pragma once
/// Compiles shapeguard's kernels in this translation unit, for programs that build them once.
///
/// By default every translation unit that calls a loss compiles the kernels it uses, which is
/// what a header-only library does. A program with many such units can instead define
/// SHAPEGUARD_EXTERN_KERNELS in all of them (for example with
/// `target_compile_definitions(app PRIVATE SHAPEGUARD_EXTERN_KERNELS)`) and include this header
/// in exactly one .cpp file: the kernels are then compiled there only, for every (logit,
/// target) type pair and every instruction set of the build. Results and speed are the same.

#include "shapeguard.hpp"

SHAPEGUARD_DETAIL_KERNEL_TYPES(SHAPEGUARD_DETAIL_DEFINE_INSTANCE)
SHAPEGUARD_DETAIL_SOFTMAX16_TYPES(SHAPEGUARD_DETAIL_DEFINE_SOFTMAX_INSTANCE)
SHAPEGUARD_DETAIL_LOGIT_TYPES(SHAPEGUARD_DETAIL_DEFINE_INDEX_INSTANCE)
SHAPEGUARD_DETAIL_COLUMNS_INSTANCES()
