# cmake -DSRC=DIR -DOUT=FILE -DGIT=git -P build_info.cmake: write FILE, a C source defining
# tf_build_commit (the commit the sources are at, "+changes" when tracked files differ from it,
# "unknown" without git), and only when it changed, so that an unchanged tree rebuilds nothing.
# Run at every build (the custom target tf_build_info in CMakeLists.txt).
set(commit "unknown")
if(GIT)
  execute_process(COMMAND ${GIT} -C ${SRC} rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc
                  ERROR_QUIET)
  if(rc EQUAL 0 AND NOT head STREQUAL "")
    set(commit ${head})
    execute_process(COMMAND ${GIT} -C ${SRC} diff --quiet HEAD -- .
                    RESULT_VARIABLE dirty ERROR_QUIET)
    if(NOT dirty EQUAL 0)
      set(commit "${commit}+changes")
    endif()
  endif()
endif()
file(WRITE ${OUT}.tmp "/* Generated at build time by cmake/build_info.cmake: do not edit. */\n"
                      "const char tf_build_commit[] = \"${commit}\";\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
