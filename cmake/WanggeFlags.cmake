# Warnings live in an INTERFACE target that every Wangge target links privately,
# so third-party headers and consumers are not affected. (-Wnull-dereference is left out: GCC 12
# reports false positives from libstdc++ and Asio headers in optimised builds.)
add_library(wangge_warnings INTERFACE)
target_compile_options(wangge_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wformat=2
  -Wimplicit-fallthrough)
if(WANGGE_WERROR)
  target_compile_options(wangge_warnings INTERFACE -Werror)
endif()

# Sanitizer builds (CMakePresets.json: sanitize, tsan; docs/TESTING.md): every target, Wangge's
# and its tests', is instrumented; Debian's libraries are not, which ASan, UBSan and TSan allow.
set(WANGGE_SANITIZE "" CACHE STRING "Sanitizers to build with, as -fsanitize= takes them: address,undefined or thread; empty for none")
if(WANGGE_SANITIZE)
  add_compile_options(-fsanitize=${WANGGE_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${WANGGE_SANITIZE})
  if(WANGGE_SANITIZE MATCHES "undefined")
    # Undefined behaviour fails the test that found it rather than printing and going on.
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()

# libFuzzer targets (tests/fuzz, scripts/fuzz.sh): clang only. The libraries they reach are built
# with coverage instrumentation; the tests link without libFuzzer's main as before.
option(WANGGE_FUZZ "Build the libFuzzer targets (clang); instruments every target for coverage" OFF)
if(WANGGE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "WANGGE_FUZZ needs clang (cmake --preset sanitize)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
