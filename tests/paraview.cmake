# ParaView and plots (label paraview): a tiny real run opened with ParaView's NetCDF CF reader,
# drawn with tools/tf_render.py and plotted with tools/tf_plot.py.
#
# Needs the Debian packages paraview, python3-paraview (pvbatch), xvfb, xauth, python3-matplotlib
# and python3-netcdf4 (scripts/deps.txt). Where one is missing the tests still exist and fail
# naming it, so a missing install step shows instead of hiding. Reading needs no X display;
# tf_render.py starts its own Xvfb on a display Xvfb picks (no `xvfb-run -a` race).
set(TF_PV_SRC ${CMAKE_CURRENT_SOURCE_DIR}/paraview)
set(TF_PV_WORK ${CMAKE_CURRENT_BINARY_DIR}/work/paraview)
set(TF_PV_TOOLS ${PROJECT_SOURCE_DIR}/tools)

find_program(TF_PVBATCH pvbatch)
find_program(TF_XVFB Xvfb)
find_program(TF_XAUTH xauth)
# The Debian python: python3-paraview, -matplotlib and -netcdf4 install into its dist-packages,
# which a python3 from pyenv or a venv earlier on PATH does not see.
find_program(TF_SYSTEM_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)

# tools/gen-param-table (docs_param_table in numerics.cmake) refuses a DEF without TF_PARAM
# entries, before --update wipes the table, and a missing file, with exit 2 and one line. Needs
# python3 alone, so it is registered before the ParaView check.
if(TF_SYSTEM_PYTHON)
  add_test(NAME docs_param_table_bad_input
           COMMAND ${TF_SYSTEM_PYTHON} ${TF_PV_SRC}/test_param_table.py
                   ${TF_PV_TOOLS}/gen-param-table ${PROJECT_SOURCE_DIR}/include/tf_params.def
                   ${PROJECT_SOURCE_DIR}/docs/model.md
                   ${CMAKE_CURRENT_BINARY_DIR}/work/param_table)
  set_tests_properties(docs_param_table_bad_input PROPERTIES LABELS docs TIMEOUT 60)
endif()

set(tf_pv_missing "")
foreach(p TF_PVBATCH TF_XVFB TF_XAUTH TF_SYSTEM_PYTHON)
  if(NOT ${p})
    list(APPEND tf_pv_missing ${p})
  endif()
endforeach()

if(tf_pv_missing)
  message(WARNING "ParaView tests: ${tf_pv_missing} not found; the paraview tests will fail. "
                  "Install paraview python3-paraview xvfb xauth python3-matplotlib "
                  "python3-netcdf4 (scripts/install-deps).")
  add_test(NAME paraview_tools_present
           COMMAND ${CMAKE_COMMAND} -E echo "not found: ${tf_pv_missing}; run scripts/install-deps")
  set_tests_properties(paraview_tools_present PROPERTIES LABELS paraview WILL_FAIL TRUE)
  return()
endif()

set(tf_pv_py ${TF_SYSTEM_PYTHON})
set(tf_pv_batch ${TF_PVBATCH})

# The runs: tiny.ini as it is (depression 0.5) and a healthy variant, records at 0, 60, 120 min.
# One OpenMP thread: the grid has 960 cells, and threads only add waiting on a busy machine.
add_test(NAME paraview_clean COMMAND ${CMAKE_COMMAND} -E rm -rf ${TF_PV_WORK})
set_tests_properties(paraview_clean PROPERTIES FIXTURES_SETUP tf_pv_clean)
add_test(NAME paraview_run_tiny
         COMMAND $<TARGET_FILE:tumorfield> run ${TF_PV_SRC}/tiny.ini --output ${TF_PV_WORK}/run
                 --quiet)
add_test(NAME paraview_run_tiny_healthy
         COMMAND $<TARGET_FILE:tumorfield> run ${TF_PV_SRC}/tiny.ini --output ${TF_PV_WORK}/run
                 --set run.name=tiny_healthy --set patient.depression=0 --quiet)
add_test(NAME paraview_run_flat
         COMMAND $<TARGET_FILE:tumorfield> run ${TF_PV_SRC}/tiny.ini --output ${TF_PV_WORK}/run
                 --set run.name=flat --set "grid.n=12 10 1" --quiet)
add_test(NAME paraview_run_notumor
         COMMAND $<TARGET_FILE:tumorfield> run ${TF_PV_SRC}/tiny.ini --output ${TF_PV_WORK}/run
                 --set run.name=notumor --set output.fields=effector,pro_cytokine --quiet)
add_test(NAME paraview_run_novars
         COMMAND $<TARGET_FILE:tumorfield> run ${TF_PV_SRC}/tiny.ini --output ${TF_PV_WORK}/run
                 --set run.name=novars --set output.fields=none --quiet)
set_tests_properties(paraview_run_tiny paraview_run_tiny_healthy paraview_run_flat
                     paraview_run_notumor paraview_run_novars PROPERTIES
                     FIXTURES_REQUIRED tf_pv_clean FIXTURES_SETUP tf_pv_runs
                     ENVIRONMENT "OMP_NUM_THREADS=1")

# 1. ParaView's NetCDF CF reader sees the grid, the times and the values of the file.
add_test(NAME paraview_reader
         COMMAND ${tf_pv_batch} ${TF_PV_SRC}/check_reader.py ${TF_PV_WORK}/run/tiny.nc
                 --n 12 10 8 --spacing 10 --times 0 60 120)
# 2. tf_render.py makes the images asked for, of the size asked for, not blank.
add_test(NAME paraview_render
         COMMAND ${tf_pv_py} ${TF_PV_SRC}/test_render.py ${TF_PV_TOOLS}/tf_render.py
                 ${TF_PV_WORK}/run/tiny.nc ${TF_PV_WORK}/render --times 0 60 120
                 --flat ${TF_PV_WORK}/run/flat.nc --notumor ${TF_PV_WORK}/run/notumor.nc
                 --novars ${TF_PV_WORK}/run/novars.nc --checkpoint ${TF_PV_WORK}/run/tiny.chk.nc)
# 3. tf_plot.py overlays the two runs, draws the final-value plot, rejects bad input with exit 2.
add_test(NAME paraview_plot
         COMMAND ${tf_pv_py} ${TF_PV_SRC}/test_plot.py ${TF_PV_TOOLS}/tf_plot.py
                 ${TF_PV_WORK}/plot ${TF_PV_WORK}/run/tiny.timeseries.csv
                 ${TF_PV_WORK}/run/tiny_healthy.timeseries.csv)
set_tests_properties(paraview_reader paraview_render paraview_plot PROPERTIES
                     FIXTURES_REQUIRED tf_pv_runs)

# The reader check itself, on a sample file with every value known (make_sample.py): it passes
# on the right grid and names the wrong spacing when told a different one.
add_test(NAME paraview_sample_make
         COMMAND ${tf_pv_py} ${TF_PV_SRC}/make_sample.py ${TF_PV_WORK}/sample sample)
set_tests_properties(paraview_sample_make PROPERTIES FIXTURES_REQUIRED tf_pv_clean
                     FIXTURES_SETUP tf_pv_sample)
add_test(NAME paraview_reader_sample
         COMMAND ${tf_pv_batch} ${TF_PV_SRC}/check_reader.py ${TF_PV_WORK}/sample/sample.nc
                 --n 12 10 8 --spacing 10 --times 0 60 120)
add_test(NAME paraview_reader_sample_mismatch
         COMMAND ${tf_pv_batch} ${TF_PV_SRC}/check_reader.py ${TF_PV_WORK}/sample/sample.nc
                 --n 12 10 8 --spacing 12 --times 0 60 120)
set_tests_properties(paraview_reader_sample paraview_reader_sample_mismatch PROPERTIES
                     FIXTURES_REQUIRED tf_pv_sample)
set_tests_properties(paraview_reader_sample_mismatch PROPERTIES
                     PASS_REGULAR_EXPRESSION "spacing \\(10\\.0, 10\\.0, 10\\.0\\), expected 12 um")

set_tests_properties(paraview_clean paraview_run_tiny paraview_run_tiny_healthy paraview_run_flat
                     paraview_reader
                     paraview_render paraview_plot paraview_sample_make paraview_reader_sample
                     paraview_reader_sample_mismatch PROPERTIES LABELS paraview TIMEOUT 120)
