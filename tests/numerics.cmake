# Verification suite of the core solver (CPU backend): exact answers, convergence orders and
# conservation, each built for float and double (docs/numerics.md lists tolerances and orders).
#   numerics_diffusion  Gaussian h^2 convergence, mass conservation, Dirichlet steady state
#   numerics_thomas     LOD line solves vs dense Gaussian elimination (and with TF_CPU_TILES=plain)
#   numerics_reaction   exact decay/relaxation (order 1), Fisher-KPP speed, well-mixed vs RK4
#   numerics_checks     explicit dt limit, check_state, refused set-ups
#   systemic            schedule, driver ODEs vs closed forms, derived quantities
#   grid_layout         padded array indexing, row alignment, what lies outside the cells
#   cpu_explicit        the explicit step against a plain loop, bit for bit, 1-5 threads
#
# OMP_WAIT_POLICY=PASSIVE: on a shared, oversubscribed machine, threads that spin at the end of
# every parallel region hold the core the other thread needs; measured, the 150 short steps of
# the mass test took 23 s spinning and 0.03 s passive.
foreach(prec float double)
  foreach(t diffusion thomas reaction checks)
    tf_add_test(numerics_${t}_${prec} ${prec} test_numerics_${t}.c LABELS numerics)
    set_tests_properties(numerics_${t}_${prec} PROPERTIES
                         ENVIRONMENT "OMP_NUM_THREADS=2;OMP_WAIT_POLICY=PASSIVE")
  endforeach()
  # The x-line tiles as a CPU without AVX2 moves them (TF_CPU_TILES=plain: 4 x 4 SSE for
  # float, element by element for double), against the dense solve too.
  add_test(NAME numerics_thomas_${prec}_plain_tiles COMMAND numerics_thomas_${prec})
  set_tests_properties(numerics_thomas_${prec}_plain_tiles PROPERTIES LABELS numerics
                       ENVIRONMENT "TF_CPU_TILES=plain;OMP_NUM_THREADS=2;OMP_WAIT_POLICY=PASSIVE")
  tf_add_test(systemic_${prec} ${prec} test_systemic.c LABELS numerics)
  tf_add_test(grid_layout_${prec} ${prec} test_grid.c LABELS numerics)
  tf_add_test(cpu_explicit_${prec} ${prec} test_cpu_explicit.c LABELS numerics)
  set_tests_properties(cpu_explicit_${prec} PROPERTIES ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE")
endforeach()

# docs/model.md's parameter table must be the one generated from include/tf_params.def.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME docs_param_table
           COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tools/gen-param-table
                   ${PROJECT_SOURCE_DIR}/include/tf_params.def --check ${PROJECT_SOURCE_DIR}/docs/model.md)
  set_tests_properties(docs_param_table PROPERTIES LABELS "numerics;docs")
endif()
