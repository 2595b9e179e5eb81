// The kernels of every test program, compiled once here: the test files are built with
// SHAPEGUARD_EXTERN_KERNELS (see shapeguard/compile_kernels.hpp).
#include <shapeguard/compile_kernels.hpp>
