# The science the program exists for: the review's qualitative claims on the shipped scenarios.
add_test(NAME science_jcurve
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/science/jcurve.sh $<TARGET_FILE:tumorfield>
                 ${PROJECT_SOURCE_DIR}/scenarios ${CMAKE_CURRENT_BINARY_DIR}/work/jcurve)
set_tests_properties(science_jcurve PROPERTIES LABELS science ENVIRONMENT "OMP_NUM_THREADS=1")

# The program in double precision, for tests that measure a convergence order: in float the
# rounding of thousands of steps (1e-4) hides first-order errors of that size.
if(TF_PRECISION STREQUAL "double")
  set(tf_program_double $<TARGET_FILE:tumorfield>)
else()
  add_executable(tumorfield_double ${PROJECT_SOURCE_DIR}/host/main.c)
  target_compile_options(tumorfield_double PRIVATE ${TF_WARNINGS})
  target_link_libraries(tumorfield_double PRIVATE tfcore_double)
  set(tf_program_double $<TARGET_FILE:tumorfield_double>)
endif()

# The whole program against the model's equations written out independently (one well-mixed
# cell, every parameter drawn at random, given by --set; tests/science/wellmixed_random.py).
add_test(NAME science_wellmixed_random_parameters
         COMMAND ${TF_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/science/wellmixed_random.py
                 ${tf_program_double} ${CMAKE_CURRENT_BINARY_DIR}/work/wellmixed_random)
set_tests_properties(science_wellmixed_random_parameters PROPERTIES LABELS science
                     ENVIRONMENT "OMP_NUM_THREADS=1")

# The README's key table against the key declarations.
add_test(NAME docs_readme_keys
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/docs/readme_keys.sh $<TARGET_FILE:tumorfield>
                 ${PROJECT_SOURCE_DIR}/README.md)
set_tests_properties(docs_readme_keys PROPERTIES LABELS docs)
