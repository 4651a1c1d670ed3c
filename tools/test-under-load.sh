#!/usr/bin/env bash
# `make test` several times in a row while busy loops keep every core busy (issue 15): timing-dependent tests
# that pass only on an idle machine fail here. Stops at the first failed run; ends with one summary line.
#   RUNS=3            runs in a row
#   HOG=$(nproc)      busy-looping processes
#   TEST_TARGET=test  the make target each run makes (a small one, e.g. test-fast, checks this script)
#   TAP=results/.test-output.tap  the TAP file the target writes, read for each run's counts
set -u
RUNS=${RUNS:-3}
HOG=${HOG:-$(nproc)}
TEST_TARGET=${TEST_TARGET:-test}
TAP=${TAP:-results/.test-output.tap}
export TAP
MAKE=${MAKE:-make}

# The hog and each make run get their own process group (job control on while they start), so one kill of a
# group ends all of it, whatever way this script ends: success, a failed run, Ctrl-C or kill.
hog=
run=
stop() {
  [ -z "$run" ] || kill -TERM -- "-$run" 2> /dev/null
  [ -z "$hog" ] || kill -KILL -- "-$hog" 2> /dev/null
  wait 2> /dev/null
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
set -m
(
  for _ in $(seq "$HOG"); do (while :; do :; done) & done
  wait
) &
hog=$!
set +m
echo "under-load: $HOG busy loops in process group $hog; $RUNS runs of make $TEST_TARGET (this script: pid $$)"

count() { grep -E "^# $1 " "$TAP" 2> /dev/null | awk '{print $3}' | tail -1 | grep . || echo -; }
passed=0
walls=()
for i in $(seq "$RUNS"); do
  rm -f "$TAP"
  start=$(date +%s.%N)
  # In the background and waited for, so that a signal to this script is handled at once, not after make ends.
  set -m
  $MAKE --no-print-directory "$TEST_TARGET" &
  run=$!
  set +m
  wait "$run"
  status=$?
  run=
  wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  walls+=("$wall")
  [ $status -eq 0 ] && verdict=pass || verdict="FAIL (make exit $status)"
  echo "under-load run $i/$RUNS: $verdict, wall ${wall} s, tests=$(count tests) pass=$(count pass) fail=$(count fail) (from $TAP)"
  [ $status -eq 0 ] || break
  passed=$((passed + 1))
done
echo "under-load: runs=$RUNS passed=$passed hog=$HOG procs wall_s=$(IFS=,; echo "${walls[*]}")"
[ "$passed" -eq "$RUNS" ]
