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
