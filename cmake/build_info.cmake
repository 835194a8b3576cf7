# cmake -DSRC=DIR -DOUT=FILE -DGIT=git -P build_info.cmake: write FILE, a C source defining
# tf_build_commit (the commit the sources are at, "+changes" when tracked files differ from it
# or new source files are there,
# "unknown" without git), and only when it changed, so that an unchanged tree rebuilds nothing.
# Run at every build (the custom target tf_build_info in CMakeLists.txt).
# Only a repository whose top is SRC itself names the commit: sources unpacked inside another
# repository (a tarball in someone's project) are not that repository's commit.
set(commit "unknown")
if(GIT)
  execute_process(COMMAND ${GIT} -C ${SRC} rev-parse --show-toplevel
                  OUTPUT_VARIABLE top OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc_top
                  ERROR_QUIET)
  get_filename_component(top_real "${top}" REALPATH)
  get_filename_component(src_real "${SRC}" REALPATH)
  if(rc_top EQUAL 0 AND top_real STREQUAL src_real)
    execute_process(COMMAND ${GIT} -C ${SRC} rev-parse --short=12 HEAD
                    OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc
                    ERROR_QUIET)
    if(rc EQUAL 0 AND NOT head STREQUAL "")
      set(commit ${head})
      # Changes: tracked files that differ from HEAD, or new files git does not ignore where
      # the program's sources are (a run's outputs or pictures elsewhere in the tree are not).
      execute_process(COMMAND ${GIT} -C ${SRC} diff --quiet HEAD -- .
                      RESULT_VARIABLE dirty ERROR_QUIET)
      execute_process(COMMAND ${GIT} -C ${SRC} ls-files --others --exclude-standard --
                              host include kernels cmake CMakeLists.txt
                      OUTPUT_VARIABLE untracked ERROR_QUIET)
      if(NOT dirty EQUAL 0 OR NOT untracked STREQUAL "")
        set(commit "${commit}+changes")
      endif()
    endif()
  endif()
endif()
file(WRITE ${OUT}.tmp "/* Generated at build time by cmake/build_info.cmake: do not edit. */\n"
                      "const char tf_build_commit[] = \"${commit}\";\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
