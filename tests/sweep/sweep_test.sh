#!/usr/bin/env bash
# scripts/sweep.sh with a stand-in for propnet that records its pinning: at most P jobs at once, each
# on its own GPU (CUDA_VISIBLE_DEVICES) with --device cuda:0, or on its own cores with --cpu; a rerun
# skips finished jobs and retries failed ones; --only runs one job; usage errors exit 2.
set -euo pipefail
sweep="$1"
work="${PROPNET_TEST_TMP:-/tmp}/sweep"
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$work/fake-propnet" <<'SH'
#!/usr/bin/env bash
# Logs "start <gpu> <args>", holds a lock file per GPU (two jobs on one GPU fail), then "end".
log="$FAKE_DIR/calls"
gpu="${CUDA_VISIBLE_DEVICES:-none}"
echo "start $gpu $*" >> "$log"
mkdir "$FAKE_DIR/busy-$gpu-$$" 2>/dev/null
running=$(ls -d "$FAKE_DIR"/busy-* 2>/dev/null | wc -l)
echo "$running" >> "$FAKE_DIR/concurrency"
[ "$(ls -d "$FAKE_DIR"/busy-"$gpu"-* | wc -l)" -eq 1 ] || echo "shared $gpu" >> "$FAKE_DIR/errors"
sleep 0.3
rmdir "$FAKE_DIR/busy-$gpu-$$"
echo "end $gpu $*" >> "$log"
case "$*" in *--seeds\ 3*) [ -f "$FAKE_DIR/heal" ] || exit 1 ;; esac   # job with seed 3 fails until healed
SH
chmod +x "$work/fake-propnet"
export FAKE_DIR="$work"
cat > "$work/jobs.txt" <<'JOBS'
# config seed [args]
a.json 0
a.json 1 --epochs 2
b.json 2

b.json 3
c.json 4
JOBS

# 1. Three GPUs, at most 2 at a time; job "b.json 3" fails.
set +e; "$sweep" --gpus 4,5,6 -P 2 --propnet "$work/fake-propnet" --state "$work/state" "$work/jobs.txt" -- --out runs \
  > "$work/first.out" 2> "$work/first.err"; rc=$?; set -e
[ "$rc" -eq 1 ] || { cat "$work/first.err"; fail "a failed job should make exit 1 (got $rc)"; }
[ "$(grep -c '^start' "$work/calls")" -eq 5 ] || fail "expected 5 jobs to start: $(cat "$work/calls")"
[ "$(sort -n "$work/concurrency" | tail -1)" -le 2 ] || fail "more than 2 jobs at once"
[ ! -f "$work/errors" ] || fail "two jobs shared a GPU: $(cat "$work/errors")"
grep -q "^start [45] train --config a.json --seeds 1 --epochs 2 --out runs --device cuda:0$" "$work/calls" \
  || fail "job args, extra args or pinning wrong: $(cat "$work/calls")"
! grep -q "^start 6" "$work/calls" || fail "a third GPU was used with -P 2"
[ "$(ls "$work/state/done" | wc -l)" -eq 4 ] || fail "expected 4 done markers"
grep -q "job 3 failed" "$work/first.err" || fail "failure not reported"

# 2. Rerun: only the failed job runs again.
: > "$work/calls"; touch "$work/heal"
"$sweep" --gpus 4,5,6 -P 2 --propnet "$work/fake-propnet" --state "$work/state" "$work/jobs.txt" -- --out runs > "$work/second.out"
[ "$(grep -c '^start' "$work/calls")" -eq 1 ] && grep -q -- "--config b.json --seeds 3" "$work/calls" || fail "rerun ran: $(cat "$work/calls")"
grep -q "4 job(s) already done" "$work/second.out" || fail "no skip count"

# 3. --cpu pins cores and threads; --only runs one job (a SLURM array task).
: > "$work/calls"
"$sweep" --cpu -P 2 --cpus-per-job 1 --only 4 --propnet "$work/fake-propnet" --state "$work/cpu" "$work/jobs.txt" > /dev/null
[ "$(grep -c '^start' "$work/calls")" -eq 1 ] && grep -q "^start none train --config c.json --seeds 4 --threads 1 --device cpu$" "$work/calls" \
  || fail "--cpu --only: $(cat "$work/calls")"

# 4. Usage errors exit 2.
for args in "--gpus 0 -P 2 $work/jobs.txt" "--cpu --gpus 0 $work/jobs.txt" "$work/missing.txt" "--only 9 --cpu $work/jobs.txt"; do
  set +e; "$sweep" $args > /dev/null 2>&1; rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "sweep.sh $args: expected exit 2 (got $rc)"
done
echo "sweep: all checks passed"
