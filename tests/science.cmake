# The science the program exists for: the review's qualitative claims on the shipped scenarios.
add_test(NAME science_jcurve
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/science/jcurve.sh $<TARGET_FILE:tumorfield>
                 ${PROJECT_SOURCE_DIR}/scenarios ${CMAKE_CURRENT_BINARY_DIR}/work/jcurve)
set_tests_properties(science_jcurve PROPERTIES LABELS science ENVIRONMENT "OMP_NUM_THREADS=1")

# The README's key table against the key declarations.
add_test(NAME docs_readme_keys
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/docs/readme_keys.sh $<TARGET_FILE:tumorfield>
                 ${PROJECT_SOURCE_DIR}/README.md)
set_tests_properties(docs_readme_keys PROPERTIES LABELS docs)
