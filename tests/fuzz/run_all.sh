#!/usr/bin/env bash
# Runs every built libFuzzer target (fuzz_*) for FUZZ_SECONDS each (default 60), two at a time,
# seeded from tests/fuzz/corpus/<target>/ when present. Any crash, leak or timeout fails the run.
set -euo pipefail
dir=${1:?usage: run_all.sh BUILD_DIR/tests}
seconds=${FUZZ_SECONDS:-60}
src=$(cd "$(dirname "$0")" && pwd)
targets=$(find "$dir" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort)
if [ -z "$targets" ]; then echo "no fuzz targets built"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run_one() {
  t=$1; name=$(basename "$t")
  mkdir -p "$work/$name"
  seeds=()
  [ -d "$src/corpus/$name" ] && seeds+=("$src/corpus/$name")
  if "$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$work/$name/" \
       "$work/$name" "${seeds[@]}" >"$work/$name.log" 2>&1; then
    echo "fuzz $name: ${seconds}s, no finding ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/$name.log" || tail -n1 "$work/$name.log"))"
  else
    echo "fuzz $name: FINDING"; tail -n 40 "$work/$name.log"; return 1
  fi
}
export -f run_one; export work seconds src
status=0
printf '%s\n' $targets | xargs -P 2 -I{} bash -c 'run_one {}' || status=1
exit $status
