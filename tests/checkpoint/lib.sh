# Shared by the checkpoint test scripts (sourced).

# wait_rows CSV N: wait (at most 30 s) until the time series CSV has N lines, header included,
# so that a signal sent next arrives in the middle of the run.
wait_rows() {
  for _ in $(seq 1 600); do
    [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
    sleep 0.05
  done
}
