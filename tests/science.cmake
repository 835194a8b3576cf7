# The science the program exists for: the review's qualitative claims on the shipped scenarios.
add_test(NAME science_jcurve
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/science/jcurve.sh $<TARGET_FILE:tumorfield>
                 ${PROJECT_SOURCE_DIR}/scenarios ${CMAKE_CURRENT_BINARY_DIR}/work/jcurve)
set_tests_properties(science_jcurve PROPERTIES LABELS science ENVIRONMENT "OMP_NUM_THREADS=1")
