# GPU tests (LABELS gpu): the CUDA backend against the CPU backend, in both precisions.
# Without a CUDA device (or in a build without the CUDA backend) each test prints
# "SKIPPED: no CUDA device present" and exits 77, which CTest reports as skipped.
#
# gpu_standin_*: the same program with the CPU backend in the GPU's place (TF_GPU_STANDIN), run
# on every machine: it checks the test's own set-up (a time step a solver refuses, a planted
# value, a tolerance), not the GPU, so that a failure there shows up before device time is spent.
foreach(prec float double)
  tf_add_test(test_gpu_${prec} ${prec} test_gpu.c LABELS gpu)
  set_tests_properties(test_gpu_${prec} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
  tf_add_test(gpu_standin_${prec} ${prec} test_gpu.c)
  target_compile_definitions(gpu_standin_${prec} PRIVATE TF_GPU_STANDIN)
  set_tests_properties(gpu_standin_${prec} PROPERTIES TIMEOUT 300)
endforeach()

# test_line_chunks_*: the CUDA line kernels' one-line solves (kernels/cuda_lines.cuh), host code
# compiled by nvcc, against the CPU's tf_thomas_lines bit for bit; needs no device.
if(TF_HAVE_CUDA)
  foreach(prec float double)
    add_executable(test_line_chunks_${prec} test_line_chunks.cu)
    target_include_directories(test_line_chunks_${prec} PRIVATE ${PROJECT_SOURCE_DIR}/include
                               ${PROJECT_SOURCE_DIR}/kernels)
    target_link_libraries(test_line_chunks_${prec} PRIVATE PkgConfig::CMOCKA)
    if(prec STREQUAL "double")
      target_compile_definitions(test_line_chunks_${prec} PRIVATE TF_DOUBLE)
    endif()
    add_test(NAME test_line_chunks_${prec} COMMAND test_line_chunks_${prec})
  endforeach()
endif()
