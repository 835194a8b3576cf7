# lib.sh: pieces the benchmark record scripts share (sourced, not run).

# The machine, as a record's first list item.
machine_line() {
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), nproc $(nproc), $(free -g | awk '/Mem:/{print $2}') GiB"
}

# A record's last section: every run's --json object, one per line, from the file $1.
raw_runs() {
  printf '\nRaw --json objects, one per run:\n\n```json\n'
  cat "$1"
  printf '```\n'
}
