// force_isa <set> <program> [args...]: runs a test program with SHAPEGUARD_FORCE_ISA=<set>, or
// exits with 77 (CTest's SKIP_RETURN_CODE) and says why when this CPU or build cannot run the
// set, so that a forced run never passes on another set without saying so.
#include <shapeguard/isa.hpp>

#include <cstdio>
#include <cstdlib>

#include <unistd.h>

int main(int argc, char** argv) {
  namespace sg = shapeguard;
  if (argc < 3) {
    std::fprintf(stderr, "usage: force_isa scalar|avx2|avx512|neon <program> [args...]\n");
    return 2;
  }
  const auto wanted = sg::detail::isa_from_name(argv[1]);
  if (!wanted) {
    std::fprintf(stderr, "force_isa: %s is not one of scalar, avx2, avx512, neon\n", argv[1]);
    return 2;
  }
  if (!sg::is_supported(*wanted)) {
    std::printf("skipped: this CPU or build cannot run %s\n", argv[1]);
    return 77;
  }
  if (setenv("SHAPEGUARD_FORCE_ISA", argv[1], 1) != 0) return 2;
  execv(argv[2], argv + 2);
  std::perror("force_isa: execv");
  return 2;
}
