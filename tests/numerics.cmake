# Verification suite of the core solver (CPU backend): exact answers, convergence orders and
# conservation, each built for float and double (docs/numerics.md lists tolerances and orders).
foreach(prec float double)
  foreach(t diffusion thomas reaction)
    tf_add_test(numerics_${t}_${prec} ${prec} test_numerics_${t}.c LABELS numerics)
  endforeach()
endforeach()
