# Parallel I/O (host/ncout.c, host/checkpoint.c, host/writer.c over MPI ranks): one output
# file and one checkpoint written by all ranks together on an odd 13 x 10 x 7 grid, read back
# value by value, the checkpoint restarted on another process grid, failures that every rank
# reports alike. MPI builds only (label mpi); arguments: written process grid, read-back
# process grid (0: chosen), output.compression.
if(TF_HAVE_MPI)
  foreach(prec float double)
    add_executable(parallel_io_${prec} test_parallel_io.c)
    target_link_libraries(parallel_io_${prec} PRIVATE tfcore_${prec})
    target_include_directories(parallel_io_${prec} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
    target_compile_options(parallel_io_${prec} PRIVATE ${TF_WARNINGS})
  endforeach()
  # The backend choice among processes that see different devices, through a stand-in for the
  # CUDA runtime (tests/test_backend_choose.c): every process returns, with one verdict.
  add_executable(test_backend_choose test_backend_choose.c)
  target_link_libraries(test_backend_choose PRIVATE tfcore_float)
  target_compile_options(test_backend_choose PRIVATE ${TF_WARNINGS})
  foreach(n 2 3)
    add_test(NAME backend_choose_${n}ranks COMMAND ${TF_MPIEXEC} ${n} $<TARGET_FILE:test_backend_choose>)
    # A hang (the failure this guards against) ends in mpiexec's own timeout (MPIEXEC_TIMEOUT:
    # Open MPI and MPICH), which says so, before ctest's.
    set_tests_properties(backend_choose_${n}ranks PROPERTIES LABELS mpi
                         ENVIRONMENT "${TF_MPI_ENV};MPIEXEC_TIMEOUT=30" TIMEOUT 60)
  endforeach()
  add_test(NAME parallel_io_3ranks_1x3x1
           COMMAND ${TF_MPIEXEC} 3 $<TARGET_FILE:parallel_io_float> 1 3 1 3 1 1 1)
  add_test(NAME parallel_io_4ranks_auto
           COMMAND ${TF_MPIEXEC} 4 $<TARGET_FILE:parallel_io_double> 0 0 0 2 1 2 0)
  add_test(NAME parallel_io_4ranks_4x1x1
           COMMAND ${TF_MPIEXEC} 4 $<TARGET_FILE:parallel_io_float> 4 1 1 1 2 2 1)
  add_test(NAME parallel_io_4ranks_2x2x1
           COMMAND ${TF_MPIEXEC} 4 $<TARGET_FILE:parallel_io_float> 2 2 1 1 1 4 3)
  set_tests_properties(parallel_io_3ranks_1x3x1 parallel_io_4ranks_auto
                       parallel_io_4ranks_4x1x1 parallel_io_4ranks_2x2x1
                       PROPERTIES LABELS mpi ENVIRONMENT "${TF_MPI_ENV}" TIMEOUT 120)
endif()

# End-to-end runs of the program under mpirun (tests/parallel/*.sh; label mpi): 1, 2, 4 and 8
# ranks, oversubscribed on the 2 cores of CI, against the one-process run bit for bit; restart
# on another number of ranks; a signal; bad input reported once; the weak-scaling bench JSON.
if(TF_HAVE_MPI)
  set(TF_PAR_DIR ${CMAKE_CURRENT_SOURCE_DIR}/parallel)
  set(TF_PAR_WORK ${CMAKE_CURRENT_BINARY_DIR}/work)
  # Process grids: cuts along each of x, y and z, chosen ones (0), uneven blocks of the 15 x 11
  # x 9 grid down to one cell (8 along z).
  set(tf_all_grids 1:1x1x1 2:2x1x1 2:1x2x1 2:1x1x2 4:0x0x0 4:4x1x1 4:1x4x1 4:2x1x2
                   8:2x2x2 8:1x1x8 8:8x1x1)
  set(tf_few_grids 1:1x1x1 2:0x0x0 4:2x2x1 8:0x0x0 8:1x8x1)
  set(tf_par_tests)
  foreach(scheme lod explicit)
    add_test(NAME mpi_ranks_${scheme}_mixed
             COMMAND bash ${TF_PAR_DIR}/compare_ranks.sh $<TARGET_FILE:tumorfield>
                     ${TF_PAR_WORK}/mpi_ranks_${scheme}_mixed ${scheme} mixed ${tf_all_grids}
                     -- ${TF_MPIEXEC})
    add_test(NAME mpi_ranks_${scheme}_noflux
             COMMAND bash ${TF_PAR_DIR}/compare_ranks.sh $<TARGET_FILE:tumorfield>
                     ${TF_PAR_WORK}/mpi_ranks_${scheme}_noflux ${scheme} noflux ${tf_few_grids}
                     -- ${TF_MPIEXEC})
    add_test(NAME mpi_restart_${scheme}
             COMMAND bash ${TF_PAR_DIR}/restart_ranks.sh $<TARGET_FILE:tumorfield>
                     ${TF_PAR_WORK}/mpi_restart_${scheme} ${scheme} -- ${TF_MPIEXEC})
    list(APPEND tf_par_tests mpi_ranks_${scheme}_mixed mpi_ranks_${scheme}_noflux
         mpi_restart_${scheme})
  endforeach()
  add_test(NAME mpi_ranks_lod_still
           COMMAND bash ${TF_PAR_DIR}/compare_ranks.sh $<TARGET_FILE:tumorfield>
                   ${TF_PAR_WORK}/mpi_ranks_lod_still lod still 1:1x1x1 2:2x1x1 2:1x2x1 2:1x1x2
                   -- ${TF_MPIEXEC})
  list(APPEND tf_par_tests mpi_ranks_lod_still)
  # x lines in blocks of up to 128 rows (host/cpu_backend.c, x_lanes): 129 rows are a block of
  # 128 lanes and one of 16, in the fused pass and across x cuts (line-end planes padded to
  # those lanes, a second block's offset), uneven where y is cut too.
  add_test(NAME mpi_ranks_lod_xblocks
           COMMAND ${CMAKE_COMMAND} -E env "TF_PAR_GRID=5 129 3"
                   bash ${TF_PAR_DIR}/compare_ranks.sh $<TARGET_FILE:tumorfield>
                   ${TF_PAR_WORK}/mpi_ranks_lod_xblocks lod mixed 1:1x1x1 2:2x1x1 3:3x1x1
                   4:2x2x1 -- ${TF_MPIEXEC})
  list(APPEND tf_par_tests mpi_ranks_lod_xblocks)
  # Messages split into pieces of 1000 bytes (TF_PAR_PIECE_BYTES; MPI counts are int, so faces
  # and line-end planes past 2^31 bytes go in pieces of 1 GiB): the same bits.
  foreach(scheme lod explicit)
    add_test(NAME mpi_ranks_${scheme}_pieces
             COMMAND ${CMAKE_COMMAND} -E env TF_PAR_PIECE_BYTES=1000
                     bash ${TF_PAR_DIR}/compare_ranks.sh $<TARGET_FILE:tumorfield>
                     ${TF_PAR_WORK}/mpi_ranks_${scheme}_pieces ${scheme} mixed 1:1x1x1 2:2x1x1
                     2:1x2x1 4:1x1x4 -- ${TF_MPIEXEC})
    list(APPEND tf_par_tests mpi_ranks_${scheme}_pieces)
  endforeach()
  foreach(target_sig mpirun:USR1 rank:TERM)
    string(REPLACE ":" ";" ts ${target_sig})
    list(GET ts 0 target)
    list(GET ts 1 sig)
    add_test(NAME mpi_signal_${sig}_to_${target}
             COMMAND bash ${TF_PAR_DIR}/signal_ranks.sh $<TARGET_FILE:tumorfield>
                     ${TF_PAR_WORK}/mpi_signal_${sig}_${target} ${target} ${sig} -- ${TF_MPIEXEC})
    list(APPEND tf_par_tests mpi_signal_${sig}_to_${target})
  endforeach()
  add_test(NAME mpi_bad_input
           COMMAND bash ${TF_PAR_DIR}/bad_input.sh $<TARGET_FILE:tumorfield>
                   ${TF_PAR_WORK}/mpi_bad_input -- ${TF_MPIEXEC})
  add_test(NAME mpi_bench_json
           COMMAND bash ${TF_PAR_DIR}/bench_ranks.sh $<TARGET_FILE:tumorfield>
                   ${TF_PAR_WORK}/mpi_bench_json -- ${TF_MPIEXEC})
  list(APPEND tf_par_tests mpi_bad_input mpi_bench_json)
  # Sanitizer builds run several times slower (scripts/test runs this label under ASan too).
  if(TF_SANITIZE)
    set(tf_par_timeout 900)
  else()
    set(tf_par_timeout 180)
  endif()
  set_tests_properties(${tf_par_tests} PROPERTIES LABELS mpi ENVIRONMENT "${TF_MPI_ENV}"
                       TIMEOUT ${tf_par_timeout})
endif()
