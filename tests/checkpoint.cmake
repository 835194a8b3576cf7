# Checkpoint, restart and failure handling (shell tests around the real program).
set(TF_CHK_DIR ${CMAKE_CURRENT_SOURCE_DIR}/checkpoint)
foreach(scheme lod explicit)
  add_test(NAME checkpoint_restart_bitwise_${scheme}
           COMMAND bash ${TF_CHK_DIR}/restart_bitwise.sh $<TARGET_FILE:tumorfield> ${scheme}
                   ${CMAKE_CURRENT_BINARY_DIR}/work/restart_${scheme})
endforeach()
foreach(sig TERM INT USR1 HUP)
  add_test(NAME checkpoint_signal_${sig}
           COMMAND bash ${TF_CHK_DIR}/signal_stop.sh $<TARGET_FILE:tumorfield> ${sig}
                   ${CMAKE_CURRENT_BINARY_DIR}/work/signal_${sig})
endforeach()
add_test(NAME checkpoint_requeue_job
         COMMAND bash ${TF_CHK_DIR}/requeue_job.sh $<TARGET_FILE:tumorfield>
                 ${CMAKE_CURRENT_BINARY_DIR}/work/requeue_job)
add_test(NAME checkpoint_signal_early
         COMMAND bash ${TF_CHK_DIR}/signal_early.sh $<TARGET_FILE:tumorfield>
                 ${CMAKE_CURRENT_BINARY_DIR}/work/signal_early)
add_test(NAME checkpoint_stale
         COMMAND bash ${TF_CHK_DIR}/stale.sh $<TARGET_FILE:tumorfield>
                 ${CMAKE_CURRENT_BINARY_DIR}/work/stale)
add_test(NAME checkpoint_failures
         COMMAND bash ${TF_CHK_DIR}/failures.sh $<TARGET_FILE:tumorfield>
                 ${CMAKE_CURRENT_BINARY_DIR}/work/failures)
set_tests_properties(checkpoint_restart_bitwise_lod checkpoint_restart_bitwise_explicit
                     checkpoint_signal_TERM checkpoint_signal_INT checkpoint_signal_USR1
                     checkpoint_signal_HUP
                     checkpoint_failures checkpoint_requeue_job checkpoint_stale
                     checkpoint_signal_early
                     PROPERTIES LABELS checkpoint ENVIRONMENT "OMP_NUM_THREADS=2;OMP_WAIT_POLICY=PASSIVE")

# The same on the GPU (label gpu): skipped, with a message, without a device.
foreach(scheme lod explicit)
  add_test(NAME gpu_restart_bitwise_${scheme}
           COMMAND bash ${TF_CHK_DIR}/restart_bitwise.sh $<TARGET_FILE:tumorfield> ${scheme}
                   ${CMAKE_CURRENT_BINARY_DIR}/work/gpu_restart_${scheme} cuda)
  set_tests_properties(gpu_restart_bitwise_${scheme} PROPERTIES LABELS "gpu;checkpoint"
                       SKIP_RETURN_CODE 77)
endforeach()
