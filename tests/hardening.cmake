# Hardening (docs/troubleshooting.md): the scenario fuzz target replayed on its saved inputs in
# every build (under ASan and UBSan in the TF_SANITIZE build), a bounded libFuzzer run in the
# TF_FUZZ build, limits on absurd input, and valgrind memcheck on short runs of the CPU backend.
set(TF_HARD_DIR ${CMAKE_CURRENT_SOURCE_DIR}/hardening)
set(TF_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
set(TF_HARD_WORK ${CMAKE_CURRENT_BINARY_DIR}/work/hardening)

# Every fuzz regression, extra seed, bad input and shipped scenario through the fuzz target's
# properties (no internal error, a message with every error, the format/load round trip).
add_executable(fuzz_scenario_replay fuzz/fuzz_scenario.c fuzz/replay_main.c)
target_link_libraries(fuzz_scenario_replay PRIVATE tfcore_float)
target_compile_options(fuzz_scenario_replay PRIVATE ${TF_WARNINGS})
add_test(NAME hardening_fuzz_replay
         COMMAND fuzz_scenario_replay ${TF_FUZZ_DIR}/regressions ${TF_FUZZ_DIR}/seeds
                 ${CMAKE_CURRENT_SOURCE_DIR}/bad_inputs ${CMAKE_CURRENT_SOURCE_DIR}/../scenarios)
set_tests_properties(hardening_fuzz_replay PROPERTIES LABELS "hardening;fuzz"
                     ENVIRONMENT "TMPDIR=${CMAKE_CURRENT_BINARY_DIR}")

# Huge, endless and binary scenario streams, damaged restart files, step and memory limits.
add_test(NAME hardening_limits
         COMMAND bash ${TF_HARD_DIR}/limits.sh $<TARGET_FILE:tumorfield> ${TF_HARD_WORK}/limits)
set_tests_properties(hardening_limits PROPERTIES LABELS hardening ENVIRONMENT "OMP_NUM_THREADS=2")

# Valgrind memcheck: only in a CPU-only build without sanitizers (sanitizers and valgrind do
# not mix; the CUDA libraries loaded at start-up are slow and noisy under valgrind and not
# ours). scripts/test builds one for it (build-valgrind).
find_program(TF_VALGRIND valgrind)
if(TF_VALGRIND AND NOT TF_SANITIZE AND NOT TF_FUZZ AND NOT TF_HAVE_CUDA)
  add_test(NAME hardening_valgrind
           COMMAND bash ${TF_HARD_DIR}/valgrind.sh $<TARGET_FILE:tumorfield>
                   ${TF_HARD_WORK}/valgrind)
  set_tests_properties(hardening_valgrind PROPERTIES LABELS "hardening;valgrind" TIMEOUT 900)
elseif(NOT TF_VALGRIND)
  message(STATUS "TumorField: valgrind not found; the memcheck test is left out")
endif()

# libFuzzer (clang, -DTF_FUZZ=ON): a bounded run from the seed corpus. Crashes are saved under
# the work directory and become cases in tests/fuzz/regressions/.
if(TF_FUZZ)
  set(TF_FUZZ_SECONDS 60 CACHE STRING "Seconds of the bounded libFuzzer run (test fuzz_scenario_run)")
  add_executable(fuzz_scenario fuzz/fuzz_scenario.c)
  target_link_libraries(fuzz_scenario PRIVATE tfcore_float)
  target_compile_options(fuzz_scenario PRIVATE ${TF_WARNINGS})
  target_link_options(fuzz_scenario PRIVATE -fsanitize=fuzzer)
  add_test(NAME fuzz_scenario_run
           COMMAND bash ${TF_FUZZ_DIR}/run_fuzz.sh $<TARGET_FILE:fuzz_scenario> ${TF_FUZZ_SECONDS}
                   ${TF_HARD_WORK}/fuzz ${TF_FUZZ_DIR}/regressions ${TF_FUZZ_DIR}/seeds
                   ${CMAKE_CURRENT_SOURCE_DIR}/bad_inputs ${CMAKE_CURRENT_SOURCE_DIR}/../scenarios)
  set_tests_properties(fuzz_scenario_run PROPERTIES LABELS fuzz TIMEOUT 900)
endif()
