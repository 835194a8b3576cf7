# GPU tests (LABELS gpu): the CUDA backend against the CPU backend, in both precisions.
# Without a CUDA device (or in a build without the CUDA backend) each test prints
# "SKIPPED: no CUDA device present" and exits 77, which CTest reports as skipped.
foreach(prec float double)
  tf_add_test(test_gpu_${prec} ${prec} test_gpu.c LABELS gpu)
  set_tests_properties(test_gpu_${prec} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endforeach()
