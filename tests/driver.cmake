# Scenario files and the command line: unit tests of the reader, the bad-input catalogue
# (tests/bad_inputs/, one file per case, its first line `# expect: CODE "FRAGMENT" [ARGS...]`),
# bad command lines, every shipped scenario through `check`, and docs/scenario-keys.md against
# `tumorfield keys --markdown`.
tf_add_test(scenario_units_parsing float test_scenario.c LABELS driver)
# What the bench reads about the machine (the last-level cache from sysfs).
tf_add_test(machine_probes float test_machine.c LABELS driver)

set(TF_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/run_expect.sh)
set(TF_DRIVER_WORK ${CMAKE_CURRENT_BINARY_DIR}/work/driver)

# Bad inputs. ARGS default to `check @FILE@`; @FILE@ is the case's file, @OUT@ an output
# directory that must not exist afterwards (nothing is written on a bad scenario).
file(GLOB tf_bad_inputs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/bad_inputs/*)
foreach(f ${tf_bad_inputs})
  get_filename_component(case ${f} NAME_WE)
  file(STRINGS ${f} first LIMIT_COUNT 1)
  if(NOT first MATCHES "^# expect: ([0-9]+) \"([^\"]*)\"(.*)$")
    message(FATAL_ERROR "${f}: first line must be: # expect: CODE \"FRAGMENT\" [ARGS...]")
  endif()
  set(code ${CMAKE_MATCH_1})
  set(frag "${CMAKE_MATCH_2}")
  string(STRIP "${CMAKE_MATCH_3}" args)
  if(args STREQUAL "")
    set(args "check @FILE@")
  endif()
  separate_arguments(args UNIX_COMMAND "${args}")
  list(TRANSFORM args REPLACE "@FILE@" "${f}")
  add_test(NAME bad_input_${case}
           COMMAND bash ${TF_EXPECT} $<TARGET_FILE:tumorfield> ${code} "${frag}"
                   ${TF_DRIVER_WORK}/${case} ${args})
  set_tests_properties(bad_input_${case} PROPERTIES LABELS driver)
endforeach()

# Bad command lines: exit 2, a message and the hint to --help.
set(tf_q ${CMAKE_CURRENT_SOURCE_DIR}/../scenarios/quick_demo.ini)
set(tf_cmdline_cases
  "no_command|missing COMMAND|"
  "unknown_command|unknown command 'frobnicate'|frobnicate"
  "unknown_option|unknown option '--fast'|check ${tf_q} --fast"
  "missing_scenario|missing SCENARIO|run"
  "two_scenarios|more than one scenario|check ${tf_q} ${tf_q}"
  "set_without_equals|expected SECTION.KEY=VALUE|check ${tf_q} --set exercise.intensity"
  "set_without_section|--set 'intensity=0.5': expected SECTION.KEY=VALUE|check ${tf_q} --set intensity=0.5"
  "set_without_value|--set needs a value|check ${tf_q} --set"
  "unknown_backend|expected auto, cpu or cuda|run ${tf_q} --backend gpu --output @OUT@"
  "bench_bad_grid|--grid '0': expected a whole number|bench --grid 0"
  "bench_bad_scheme|expected lod or explicit|bench --scheme rk4"
  "bench_past_memory|bench: --grid 4096 needs|bench --grid 4096 --steps 1"
  "info_extra|unexpected argument|info now"
  "keys_extra|unexpected argument|keys --html"
  "version_extra|--version: unexpected argument 'now'|--version now"
  "help_not_a_command|--help: 'frobnicate' is not a command|--help frobnicate"
  "help_extra|help: unexpected argument '--json'|help bench --json"
  "output_empty|--output: empty path|run ${tf_q} --output="
  "output_edge_blank|a path that starts or ends with a blank (a scenario cannot hold one|run ${tf_q} --output '@OUT@ '"
  "output_comment|--output a #b: '#' after a blank starts a comment|run ${tf_q} --output 'a #b'"
  "output_twice|option --output given twice|run ${tf_q} --output @OUT@ --output=@OUT@2"
  "procs_twice|option --procs given twice|run ${tf_q} --procs 1x1x1 --procs 0x0x0 --output @OUT@"
  "bench_grid_twice|option --grid given twice|bench --grid 8 --grid=9"
  "restart_backslash|the path contains a backslash, which the NetCDF library|run ${tf_q} --restart old\\\\run.chk.nc --output @OUT@")
# tf_expect_cases(PREFIX CODE LEAD CASE...): a test PREFIX_NAME for each "NAME|FRAGMENT|ARGS"
# case: `tumorfield LEAD ARGS` exits CODE with FRAGMENT in its message (run_expect.sh).
function(tf_expect_cases prefix code lead)
  foreach(c ${ARGN})
    string(REPLACE "|" ";" parts "${c}")
    list(GET parts 0 case)
    list(GET parts 1 frag)
    list(GET parts 2 args)
    separate_arguments(args UNIX_COMMAND "${lead} ${args}")
    add_test(NAME ${prefix}_${case}
             COMMAND bash ${TF_EXPECT} $<TARGET_FILE:tumorfield> ${code} "${frag}"
                     ${TF_DRIVER_WORK}/${prefix}_${case} ${args})
    set_tests_properties(${prefix}_${case} PROPERTIES LABELS driver)
  endforeach()
endfunction()
tf_expect_cases(cmdline 2 "" ${tf_cmdline_cases})
# srun without MPI start-up (no PMI plugin, or a build without MPI): several tasks would each run
# the whole grid into the same files; refused before anything is written, also by bench.
foreach(cmd run bench)
  if(cmd STREQUAL run)
    set(args run ${tf_q} --output @OUT@)
  else()
    set(args bench --grid 8 --steps 1)
  endif()
  add_test(NAME cmdline_srun_without_mpi_${cmd}
           COMMAND bash ${TF_EXPECT} $<TARGET_FILE:tumorfield> 2
                   "Slurm started this program as 3 tasks (SLURM_STEP_NUM_TASKS), but it runs as one process"
                   ${TF_DRIVER_WORK}/cmdline_srun_${cmd} ${args})
  set_tests_properties(cmdline_srun_without_mpi_${cmd} PROPERTIES LABELS driver
                       ENVIRONMENT "SLURM_STEP_NUM_TASKS=3")
endforeach()
# check notes what a coarse step under-resolves (sessions, the daily cortisol rhythm) and a
# one-cell axis (ParaView cannot place it); run prints the same notes.
tf_expect_cases(check_note 0 "check ${tf_q}"
  "dt_sessions|more than half an exercise session (30 min)|--set run.dt=20min"
  "dt_circadian|samples the daily cortisol rhythm at fewer than 24 points a day|--set run.dt=90min --set output.timeseries_interval=90min --set output.interval=6h --set exercise.sessions_per_week=0"
  "flat_axis|one cell along z: the files are whole, but ParaView|--set grid.n=16x16x1"
  "dt_exchange|2 min is 2 times the time the blood exchange of a vessel voxel takes (1/lambda = 1 min)|--set run.dt=2min"
  "steps_interval|output.interval = 25 min is taken as every 4 steps, every 28 min|--set run.dt=7min --set output.interval=25min")
# run prints them too (the files keep the scenario as given).
tf_expect_cases(run_note 0 "run ${tf_q} --output o --set grid.n=8 --set run.duration=1h"
  "steps_interval|output.interval = 25 min is taken as every 4 steps, every 28 min|--set run.dt=7min --set output.interval=25min --set output.timeseries_interval=7min"
  "dt_exchange|7 min is 7 times the time the blood exchange|--set run.dt=7min")

# A float build notes a dt too small for its precision (the slowest rate's change per step a few
# roundings: docs/numerics.md, "Precision"), naming the rate and the smallest dt that converges;
# at a dt above that, or for a rate too slow to matter over the run, it says nothing.
if(TF_PRECISION STREQUAL "float")
  tf_expect_cases(check_note 0 "check ${tf_q}"
    "dt_precision|a step changes the tumor (model.r_T = 0.00016 /min, the slowest rate of the run) by 1.6e-05 of its value, and one rounding of float (1.2e-07) is 0.74% of that|--set run.dt=0.1min"
    "dt_precision_rounds_away|by 1.6e-07 of its value, less than two roundings of float (1.2e-07), so most of it rounds away|--set run.scheme=explicit --set run.dt=0.001min"
    "dt_precision_explicit|below 0.149 min a smaller dt no longer brings the answer closer to the dt -> 0 limit|--set run.scheme=explicit --set run.dt=0.001min"
    "dt_precision_explicit_lod|use run.scheme = lod with run.dt at or above that, or build with -DTF_PRECISION=double for smaller steps|--set run.scheme=explicit --set run.dt=0.001min"
    "dt_precision_effector|a step changes the effector cells (model.mu_E = 0.000231 /min|--set run.dt=0.05min --set model.r_T=0")
  tf_expect_cases(run_note 0 "run ${tf_q} --output o --set grid.n=8 --set output.interval=10min"
    "dt_precision|a step changes cortisol (model.mu_C = 0.005 /min, the slowest rate of the run)|--set run.duration=10min --set run.dt=0.001min --set output.timeseries_interval=10min")
  foreach(c "dt_coarse_enough|--set run.dt=0.2min" "rate_too_slow_to_matter|--set run.dt=0.05min --set run.duration=20min")
    string(REPLACE "|" ";" parts "${c}")
    list(GET parts 0 case)
    list(GET parts 1 args)
    separate_arguments(args UNIX_COMMAND "${args}")
    add_test(NAME check_no_precision_note_${case} COMMAND tumorfield check ${tf_q} ${args})
    set_tests_properties(check_no_precision_note_${case} PROPERTIES LABELS driver
                         FAIL_REGULAR_EXPRESSION "is small for this")
  endforeach()
endif()

# The threads reported are those a parallel region gets: OMP_THREAD_LIMIT caps OMP_NUM_THREADS.
add_test(NAME info_thread_limit
         COMMAND bash ${TF_EXPECT} $<TARGET_FILE:tumorfield> 0 "openmp threads: 1"
                 ${TF_DRIVER_WORK}/info_thread_limit info)
set_tests_properties(info_thread_limit PROPERTIES LABELS driver
                     ENVIRONMENT "OMP_NUM_THREADS=2;OMP_THREAD_LIMIT=1")
if(NOT TF_HAVE_CUDA)
  add_test(NAME cmdline_cuda_not_built
           COMMAND bash ${TF_EXPECT} $<TARGET_FILE:tumorfield> 2 "no CUDA backend"
                   ${TF_DRIVER_WORK}/cmdline_cuda run ${tf_q} --backend cuda --output @OUT@)
  set_tests_properties(cmdline_cuda_not_built PROPERTIES LABELS driver)
endif()

# Help, version and info exit 0.
foreach(args "--help" "--version" "info" "keys" "run --help" "check --help" "bench --help")
  string(REPLACE " " "_" case "${args}")
  string(REPLACE "-" "" case "${case}")
  separate_arguments(argv UNIX_COMMAND "${args}")
  add_test(NAME cmdline_ok_${case}
           COMMAND bash ${TF_EXPECT} $<TARGET_FILE:tumorfield> 0 "" ${TF_DRIVER_WORK}/ok_${case}
                   ${argv})
  set_tests_properties(cmdline_ok_${case} PROPERTIES LABELS driver)
endforeach()
# `help COMMAND` prints that command's usage, as `COMMAND --help` does.
add_test(NAME cmdline_ok_help_bench
         COMMAND bash ${TF_EXPECT} $<TARGET_FILE:tumorfield> 0 "usage: tumorfield bench [--grid N]"
                 ${TF_DRIVER_WORK}/ok_help_bench help bench)
set_tests_properties(cmdline_ok_help_bench PROPERTIES LABELS driver)

# Every shipped scenario passes `check`, and the sweep script's every task too.
file(GLOB tf_scenarios CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/../scenarios/*.ini)
foreach(f ${tf_scenarios})
  get_filename_component(case ${f} NAME_WE)
  add_test(NAME scenario_check_${case}
           COMMAND bash ${TF_EXPECT} $<TARGET_FILE:tumorfield> 0 "is a valid scenario"
                   ${TF_DRIVER_WORK}/scenario_${case} check ${f})
  set_tests_properties(scenario_check_${case} PROPERTIES LABELS driver)
endforeach()
add_test(NAME scenario_sweep_intensity
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sweep_check.sh $<TARGET_FILE:tumorfield>
                 ${CMAKE_CURRENT_SOURCE_DIR}/../scenarios)
set_tests_properties(scenario_sweep_intensity PROPERTIES LABELS driver)

# docs/scenario-keys.md is what `tumorfield keys --markdown` prints.
add_test(NAME docs_scenario_keys
         COMMAND bash -c "\"$0\" keys --markdown | diff -u \"$1\" - || { echo 'docs/scenario-keys.md is stale: regenerate with tumorfield keys --markdown > docs/scenario-keys.md'; exit 1; }"
                 $<TARGET_FILE:tumorfield> ${CMAKE_CURRENT_SOURCE_DIR}/../docs/scenario-keys.md)
set_tests_properties(docs_scenario_keys PROPERTIES LABELS driver)

# What `check` prints is itself a scenario: checking it again prints the same scenario.
add_test(NAME scenario_check_output_reloads
         COMMAND bash -c "set -e; mkdir -p \"$2\"; cd \"$2\"; \"$0\" check \"$1\" --set exercise.intensity=0.75 > a.ini; \"$0\" check a.ini > b.ini; diff <(grep -v '^# check:' a.ini) <(grep -v '^# check:' b.ini)"
                 $<TARGET_FILE:tumorfield> ${tf_q} ${TF_DRIVER_WORK}/reload)
set_tests_properties(scenario_check_output_reloads PROPERTIES LABELS driver)

# The bench report is self-consistent: byte counts, bandwidths, ratios, both copy references.
add_test(NAME bench_report
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/tools/bench_report.py
                 $<TARGET_FILE:tumorfield>)
set_tests_properties(bench_report PROPERTIES LABELS driver)
# check refuses an output directory a run could not make, as the run does at once (exit 4).
tf_expect_cases(check_dir 4 "check ${tf_q}"
  "file_in_path|'/dev/null' is not a directory|--set output.dir=/dev/null/out"
  "file|'/dev/null' is not a directory|--set output.dir=/dev/null"
  # root passes every access() test; mkdir in /proc still fails
  "proc|cannot create output directory '/proc/tumorfield-out'|--set output.dir=/proc/tumorfield-out")
# check says how much disk the run's files may take (11 float records of 6 fields of 1000 cells
# and the vessel map, a float checkpoint of 7 arrays twice, 11 rows of 320 bytes, 64 KiB for
# headers: 393056 bytes), and notes on stderr, exit 0, where it exceeds the free space.
add_test(NAME check_disk_estimate
         COMMAND bash -c "set -e; out=$(\"$0\" check \"$1\" --set grid.n=10 --set run.duration=10min --set run.dt=1min --set output.interval=1min --set output.timeseries_interval=1min --output \"$2/a\"); grep -q '^# disk: up to 384 KiB more for the run' <<<\"$out\" || { echo \"$out\" | grep disk; exit 1; }; err=$(\"$0\" check \"$1\" --quiet --set grid.n=256 --set run.duration=1000d --set output.interval=1min --output \"$2/b\" 2>&1 >/dev/null); grep -q 'note: the run.s files may need up to .* TiB more, but only .* free where' <<<\"$err\" || { echo \"$err\"; exit 1; }"
                 $<TARGET_FILE:tumorfield> ${tf_q} ${TF_DRIVER_WORK}/check_disk)
set_tests_properties(check_disk_estimate PROPERTIES LABELS driver)
# ... and finds that out by making a directory, which it removes again.
add_test(NAME check_dir_leaves_nothing
         COMMAND bash -c "set -e; rm -rf \"$2\"; mkdir -p \"$2\"; \"$0\" check \"$1\" --set output.dir=\"$2/new/out\" > /dev/null; \"$0\" check \"$1\" --set output.dir=\"$2\" > /dev/null; test -z \"$(ls -A \"$2\")\" || { ls -A \"$2\"; exit 1; }"
                 $<TARGET_FILE:tumorfield> ${tf_q} ${TF_DRIVER_WORK}/check_dir_probe)
set_tests_properties(check_dir_leaves_nothing PROPERTIES LABELS driver)

# What check, keys, info, bench and --help print is their product: a write to standard output
# that fails (a full disk; /dev/full here) is exit 4 with the reason, not exit 0 and a file
# left empty.
add_test(NAME stdout_full
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/stdout_full.sh $<TARGET_FILE:tumorfield> ${tf_q})
set_tests_properties(stdout_full PROPERTIES LABELS driver)

# `tumorfield keys` prints an aligned table (columns under a header, two blanks apart).
add_test(NAME keys_columns_aligned
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/keys_columns.sh $<TARGET_FILE:tumorfield>)
set_tests_properties(keys_columns_aligned PROPERTIES LABELS driver)

# bench and run plan their arrays within 90% of the physical memory (tests/bench_headroom.sh).
add_test(NAME bench_memory_headroom
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/bench_headroom.sh $<TARGET_FILE:tumorfield>)
set_tests_properties(bench_memory_headroom PROPERTIES LABELS driver)

# The build names its commit (cmake/build_info.cmake) in --version and bench's JSON.
add_test(NAME build_commit_named
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/build_commit.sh $<TARGET_FILE:tumorfield>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(build_commit_named PROPERTIES LABELS driver)
