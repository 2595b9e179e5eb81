// The source of shapeguard::kernels: the kernels of every (logit, target) type pair and every
// instruction set of the build, compiled in this one unit for the program that links the target
// (whose other units, built with SHAPEGUARD_EXTERN_KERNELS, only call them).
#include <shapeguard/compile_kernels.hpp>
