# Warnings live in an INTERFACE target that every Wangge target links privately,
# so third-party headers and consumers are not affected.
add_library(wangge_warnings INTERFACE)
target_compile_options(wangge_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wformat=2
  -Wimplicit-fallthrough)
if(WANGGE_WERROR)
  target_compile_options(wangge_warnings INTERFACE -Werror)
endif()
