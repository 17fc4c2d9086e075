#!/usr/bin/env bash
# Data-parallel `propnet train` on two CPU ranks (Gloo over loopback):
#  1. launched by plain RANK/WORLD_SIZE/MASTER_* variables and by torchrun, both ranks end bitwise
#     identical (checked by propnet every epoch), the two launches give bitwise the same model, and it
#     equals a single process with ghost BN over the same halves (--bn-batch 16 of a global batch 32)
#     within float tolerance, much closer than one without ghost BN; only rank 0 writes files;
#  2. SIGINT to one rank stops both after the same step (exit 130), and the same launch resumes to
#     the parameters of the uninterrupted run, bitwise;
#  3. a killed rank makes the other exit non-zero within --dist-timeout; so does a hung (stopped) one;
#  4. a gates search on 2 ranks keeps one mask on both, and only rank 0 writes its files.
# Usage: dist_train_test.sh PROPNET PYTHON   (PYTHON: the python3 whose torch matches the build)
set -euo pipefail
propnet="$1"
python="${2:-/usr/bin/python3}"
data=/usr/share/datasets/fashion-mnist
[ -f "$data/train-images-idx3-ubyte.gz" ] || { echo "SKIP: $data missing (apt install dataset-fashion-mnist)"; exit 77; }
"$python" -c "import torch.distributed.run" 2>/dev/null || { echo "SKIP: $python has no torch.distributed.run"; exit 77; }
# The PyPI LibTorch ships no gloo headers: its builds train data parallel on GPUs (NCCL) only.
"$propnet" --version | grep -q "data parallel (c10d): gloo" || { echo "SKIP: this build has no Gloo (CPU) backend"; exit 77; }
work="${PROPNET_TEST_TMP:-/tmp}/dist-train"
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# 512 images, global batch 32 = 2 x 16 per rank: 16 steps per epoch.
common=(train --net preresnet --depth 8 --dataset fashion-mnist --subset 512 --test-subset 128 --epochs 2
        --batch-size 32 --seeds 0 --threads 1 --name quick --set train.log_every=1)
log_of() { echo "$1/quick/seed-0/train.log"; }

# Starts rank $1 of 2 in the background (plain variables); the rest are propnet's arguments.
start_rank() {
  local rank="$1" tag="$2"; shift 2
  RANK="$rank" WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" \
    "$propnet" "${common[@]}" "$@" > "$work/$tag.$rank.out" 2> "$work/$tag.$rank.err" &
}
wait_for_step() {  # until rank 0 logged a training step
  for _ in $(seq 1 1200); do
    grep -q " step " "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "no progress line in $1"
}

# 1a. Plain variables. Rank 1 gets another --out: it must write nothing there.
port=$(free_port)
start_rank 0 env --out "$work/env"; pid0=$!
start_rank 1 env --out "$work/env-rank1"; pid1=$!
set +e; wait "$pid0"; rc0=$?; wait "$pid1"; rc1=$?; set -e
if grep -q "expected a build with Gloo" "$work/env.0.err"; then echo "SKIP: this build has no Gloo"; exit 77; fi
[ "$rc0" -eq 0 ] && [ "$rc1" -eq 0 ] || { cat "$work/env.0.err" "$work/env.1.err"; fail "plain-variable ranks exited $rc0/$rc1"; }
[ ! -e "$work/env-rank1" ] || fail "rank 1 wrote into its --out: $(find "$work/env-rank1")"
grep -q "data parallel: 2 ranks (env, gloo), 16 images per rank" "$work/env.0.err" || fail "no data-parallel line"
[ "$(grep -c "bitwise identical on all 2 ranks" "$(log_of "$work/env")")" -eq 2 ] || fail "replicas not verified per epoch"
[ ! -s "$work/env.1.out" ] || fail "rank 1 printed a result: $(cat "$work/env.1.out")"
for f in config.json summary.json seed-0/metrics.jsonl seed-0/checkpoint.pt seed-0/model.pt; do
  [ -f "$work/env/quick/$f" ] || fail "missing $f"
done

# 1b. torchrun (--redirects/--tee/--log_dir: Debian's 1.13 launcher under Python 3.11 needs them).
port=$(free_port)
"$python" -m torch.distributed.run --no_python --nproc_per_node 2 --master_port "$port" \
  --redirects 1 --tee 1 --log_dir "$work/torchrun-logs" \
  "$propnet" "${common[@]}" --out "$work/torchrun" > "$work/torchrun.out" 2> "$work/torchrun.err" \
  || { tail -30 "$work/torchrun.err"; fail "torchrun run failed"; }
grep -rq "data parallel: 2 ranks (torchrun, gloo)" "$work/torchrun.err" "$work/torchrun-logs" || fail "torchrun not detected"

# 1c. Single processes: ghost BN over the ranks' halves, and plain BN over the whole batch.
"$propnet" "${common[@]}" --bn-batch 16 --out "$work/ghost" -q > /dev/null 2> "$work/ghost.err" \
  || { cat "$work/ghost.err"; fail "ghost-BN run failed"; }
"$propnet" "${common[@]}" --out "$work/whole" -q > /dev/null 2> "$work/whole.err" \
  || { cat "$work/whole.err"; fail "single-process run failed"; }

"$python" - "$work" <<'PY'
import json, sys, torch
work = sys.argv[1]
def state(run):
    m = torch.jit.load(f"{work}/{run}/quick/seed-0/model.pt")
    return {k: v for k, v in list(m.named_parameters()) + list(m.named_buffers())}
def params(run):
    m = torch.jit.load(f"{work}/{run}/quick/seed-0/model.pt")
    return dict(m.named_parameters())
env, tr = state("env"), state("torchrun")
assert env.keys() == tr.keys()
for k in env:
    assert torch.equal(env[k], tr[k]), f"torchrun and plain-variable runs differ in {k}"
def max_diff(a, b):
    return max((a[k] - b[k]).abs().max().item() for k in a)
pe, pg, pw = params("env"), params("ghost"), params("whole")
ghost, whole = max_diff(pe, pg), max_diff(pe, pw)
print(f"max |2 ranks - ghost BN| = {ghost:.3g}, max |2 ranks - whole-batch BN| = {whole:.3g}")
assert ghost < 1e-5, f"2 ranks differ from the ghost-BN single process by {ghost}"
assert whole > 20 * ghost, f"ghost BN ({ghost}) is not much closer than whole-batch BN ({whole})"
me = [json.loads(l) for l in open(f"{work}/env/quick/seed-0/metrics.jsonl")]
mg = [json.loads(l) for l in open(f"{work}/ghost/quick/seed-0/metrics.jsonl")]
assert [m["epoch"] for m in me] == [1, 2]
for a, b in zip(me, mg):  # the same images with the same weights: the same training loss and accuracy
    assert abs(a["train_loss"] - b["train_loss"]) < 1e-6 and a["train_acc"] == b["train_acc"], (a, b)
# The test pass uses the BN running averages: 2 ranks update theirs once per step and average them, ghost BN
# updates once per chunk (twice per step), so early epochs differ; after the lr drop they agree to a few
# of the 128 test images (4 differ on the channels_last CPU default, 0.78 points each).
assert abs(me[-1]["test_acc"] - mg[-1]["test_acc"]) < 5.0, (me[-1], mg[-1])
PY

# 2. SIGINT to rank 1 only: both stop after the same step; the same launch resumes.
port=$(free_port)
start_rank 0 stop --out "$work/stop"; pid0=$!
start_rank 1 stop --out "$work/stop"; pid1=$!
wait_for_step "$(log_of "$work/stop")"
kill -INT "$pid1"
set +e; wait "$pid0"; rc0=$?; wait "$pid1"; rc1=$?; set -e
[ "$rc0" -eq 130 ] && [ "$rc1" -eq 130 ] || { cat "$work/stop.0.err" "$work/stop.1.err"; fail "stopped ranks exited $rc0/$rc1 (expected 130/130)"; }
grep -q "Resume with" "$work/stop.0.err" || fail "no resume hint from rank 0"
[ -f "$work/stop/quick/seed-0/checkpoint.pt" ] && [ ! -f "$work/stop/quick/seed-0/model.pt" ] || fail "checkpoint/model after stop"
port=$(free_port)
start_rank 0 resume --out "$work/stop"; pid0=$!
start_rank 1 resume --out "$work/stop"; pid1=$!
set +e; wait "$pid0"; rc0=$?; wait "$pid1"; rc1=$?; set -e
[ "$rc0" -eq 0 ] && [ "$rc1" -eq 0 ] || { cat "$work/resume.0.err" "$work/resume.1.err"; fail "resumed ranks exited $rc0/$rc1"; }
grep -q "resuming seed 0 from epoch" "$(log_of "$work/stop")" || fail "did not resume"
"$python" - "$work" <<'PY'
import sys, torch
work = sys.argv[1]
a = torch.jit.load(f"{work}/env/quick/seed-0/model.pt")
b = torch.jit.load(f"{work}/stop/quick/seed-0/model.pt")
for (k, x), (_, y) in zip(a.named_parameters(), b.named_parameters()):
    assert torch.equal(x, y), f"resumed run differs from the uninterrupted one in {k}"
for (k, x), (_, y) in zip(a.named_buffers(), b.named_buffers()):  # BN buffers were averaged at the stop
    assert torch.allclose(x.double(), y.double(), rtol=1e-5, atol=1e-6), f"buffer {k} differs"
PY

# 3. A killed rank, then a hung one: rank 0 exits non-zero within the timeout.
for how in KILL STOP; do
  port=$(free_port)
  start_rank 0 "$how" --out "$work/$how" --dist-timeout 10; pid0=$!
  start_rank 1 "$how" --out "$work/$how" --dist-timeout 10; pid1=$!
  wait_for_step "$(log_of "$work/$how")"
  kill "-$how" "$pid1"
  start=$SECONDS
  while kill -0 "$pid0" 2>/dev/null && [ $((SECONDS - start)) -lt 60 ]; do sleep 0.2; done
  if kill -0 "$pid0" 2>/dev/null; then kill -KILL "$pid0" "$pid1"; fail "rank 0 still running 60 s after SIGKILL/SIGSTOP of rank 1"; fi
  set +e; wait "$pid0"; rc0=$?; set -e
  kill -KILL "$pid1" 2>/dev/null || true; wait "$pid1" 2>/dev/null || true
  [ "$rc0" -ne 0 ] || fail "rank 0 exited 0 after SIG$how of rank 1"
  grep -q "another rank exited or stopped answering" "$work/$how.0.err" || { cat "$work/$how.0.err"; fail "no clear message after SIG$how"; }
  echo "SIG$how of rank 1: rank 0 exited $rc0 after $((SECONDS - start)) s"
done
# 4. A gates search on 2 ranks: the ranks average their gate gradients, so they keep one mask (the
#    trainer's per-epoch check finds the weights bitwise identical), and only rank 0 writes search.json.
search=(search --net preresnet --depth 8 --dataset fashion-mnist --subset 640 --val-split 128 --epochs 2
        --batch-size 32 --keep 4 --score-every 2 --threads 1 --name gates)
port=$(free_port)
for rank in 0 1; do
  RANK="$rank" WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" \
    "$propnet" "${search[@]}" --out "$work/search-$rank" > "$work/search.$rank.out" 2> "$work/search.$rank.err" &
  eval "spid$rank=$!"
done
set +e; wait "$spid0"; rc0=$?; wait "$spid1"; rc1=$?; set -e
[ "$rc0" -eq 0 ] && [ "$rc1" -eq 0 ] || { cat "$work/search.0.err" "$work/search.1.err"; fail "search ranks exited $rc0/$rc1"; }
[ ! -e "$work/search-1" ] || fail "rank 1 wrote into its --out: $(find "$work/search-1")"
grep -q "data parallel: 2 ranks (env, gloo)" "$work/search.0.err" || fail "no data-parallel line in the search"
[ "$(grep -c "bitwise identical on all 2 ranks" "$work/search-0/gates/seed-0/search.log")" -eq 2 ] \
  || fail "search replicas not verified per epoch"
"$python" - "$work/search-0/gates/seed-0/search.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["sites_kept"] == 4 and s["relu_mask"].count("1") == 4 and len(s["epochs"]) == 2, s["relu_mask"]
PY
echo "dist.train: all checks passed"
