// The Catch2 main of every test program: exit status 77 (CTest's SKIP_RETURN_CODE) when a test
// skipped what it could not run here (skip.hpp) and nothing failed.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "skip.hpp"

int main(int argc, char** argv) {
  const int failed = Catch::Session().run(argc, argv);
  return failed == 0 && shapeguard_test::skipped() ? 77 : failed;
}
