# lib.sh: pieces the benchmark record scripts share (sourced, not run).

# record_path NAME [OUTFILE]: OUTFILE, else bench/results/DATE-NAME.md, or DATE-NAME-2.md,
# -3.md ... where a record of that name exists: a second run of a day does not replace the
# first (an OUTFILE given is the caller's to choose, and is replaced).
record_path() {
  if [ -n "${2:-}" ]; then echo "$2"; return; fi
  local base=bench/results/$(date -u +%Y-%m-%d)-$1 k=2 p
  p=$base.md
  while [ -e "$p" ]; do p=$base-$k.md; k=$((k + 1)); done
  echo "$p"
}

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
