# Warnings for shapeguard's own targets (tests, examples, benchmarks); the library target
# itself imposes none on its users.
function(shapeguard_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion)
  if(SHAPEGUARD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
