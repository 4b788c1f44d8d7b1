# Sourced by the stress loops (demo-loop, extract-loop): the localize binary, the usage check and
# the loop itself, so that both count and report runs the same way.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
L="${LOCALIZE:-$ROOT/src/Localize/bin/Release/net10.0/localize}"
[[ -x "$L" ]] || { echo "build first: (cd $ROOT && dotnet build -c Release src/Localize)" >&2; exit 2; }

# usage_unless_runs SCRIPT ARG: prints the script's header (its lines 2–8) and exits 2 unless ARG is a number of runs.
usage_unless_runs() { [[ "${2:-}" =~ ^[0-9]+$ ]] || { sed -n 2,8p "$1"; exit 2; }; }

# run_loop RUNS FUNCTION: calls FUNCTION I for each run I (its exit status is the run's; its output
# goes to $WORK/runI.log, kept only when the run failed), prints a line per run with the exit
# status and the time, then how many runs failed.
run_loop() {
  local runs="$1" fn="$2" failed=0 i start ms rc
  for i in $(seq 1 "$runs"); do
    start=$(date +%s%N)
    "$fn" "$i" > "$WORK/run$i.log" 2>&1; rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    printf 'run %d: exit %d, %d.%d s\n' "$i" "$rc" $((ms / 1000)) $((ms % 1000 / 100))
    if [[ $rc == 0 ]]; then rm -f "$WORK/run$i.log"; else failed=$((failed + 1)); echo "  log: $WORK/run$i.log"; fi
  done
  echo "$failed of $runs runs failed"
}
