# Output and initial state (host/ncout.c, host/series.c, host/init.c): NetCDF round trips read
# back with the NetCDF API, CSV and JSON parsed back, the initial state against its analytic
# volume, target fraction and bit reproducibility. docs/output.md describes the formats.
foreach(prec float double)
  tf_add_test(output_nc_${prec} ${prec} test_output_nc.c LABELS output)
endforeach()
tf_add_test(output_series_float float test_output_series.c LABELS output)
foreach(prec float double)
  tf_add_test(init_${prec} ${prec} test_init.c LABELS output)
endforeach()
