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
