#pragma once
// A test program that cannot run part of what it tests here says so: skip() prints the reason
// once, and the program then exits with 77, which CTest reports as skipped (SKIP_RETURN_CODE)
// instead of passed. A failure still fails.
#include <cstdio>
#include <string_view>

namespace shapeguard_test {

inline auto skipped() -> bool& {
  static bool flag = false;
  return flag;
}

inline void skip(std::string_view why) {
  if (!skipped()) std::printf("skipped: %.*s\n", int(why.size()), why.data());
  skipped() = true;
}

}  // namespace shapeguard_test
