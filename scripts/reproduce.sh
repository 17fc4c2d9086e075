#!/usr/bin/env bash
# Reruns one of the paper's experiments (or all of them) and writes its table or plot next to the paper's numbers.
#
#   scripts/reproduce.sh TARGET... [options]      TARGET: table1 table2 table3 fig6 fig7 fig8 all
#
# Each row of the target (configs/paper/targets.json, the paper's order) is one `propnet train --config`;
# finished seeds are skipped and interrupted ones resumed, so rerunning the same command continues the work.
# Then scripts/report writes results/<target>.md and .csv (and .png/.svg for figures).
#
# Options:
#   --epochs E               epochs instead of the paper's 400 (the lr drops stay at 1/2, 3/4, 7/8 of the steps)
#   --seeds LIST             seeds instead of the configs' 0-4, e.g. 0,1 or 3 (one process per seed: --seeds k)
#   --subset N               train on the first N training images; also tests on the first N test images
#                            unless --test-subset is given (quick runs)
#   --test-subset N          test on the first N test images (0: all)
#   --dataset-override DS    run every row on DS (fashion-mnist, cifar10, cifar100) instead of the paper's data set
#   --device D               auto, cpu, cuda or cuda:N (default auto)
#   --data-root DIR          folder holding cifar-10-batches-bin/ and cifar-100-binary/ (default: the configs'
#                            data/cifar-..., relative to the repository root)
#   --out DIR                root of the run folders (default runs): the paper's protocol goes to DIR/paper/,
#                            any reduced one (epochs, subsets, data set) to DIR/reduced-<what changed>/
#   --results DIR            where the report goes (default results/, or results/reduced-<what changed>/)
#   --jobs N                 train N rows at once (one process per row, threads split between them)
#   --propnet PATH           the propnet binary (default: $PROPNET, else build/apps/propnet, else build it)
#   --dry-run                print the commands and an estimate of their time (`propnet bench` on --device)
#   --no-estimate            with --dry-run: the commands only
#   --bench-steps N          timed steps per network for the estimate (default 2, after 1 warm-up step; more
#                            steps give a steadier number, at a few seconds per step on a CPU)
#
# Exit codes: 0 done, 1 a row failed (the others still ran; the report covers what exists), 2 bad usage,
# 130/143 interrupted (rerun the same command to resume).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage_error() { echo "reproduce.sh: $*; see --help" >&2; exit 2; }
need_value() { if [ $# -lt 2 ] || [ -z "$2" ]; then usage_error "$1 needs a value"; fi; }
# shellcheck source=lib.sh
source "$root/scripts/lib.sh"  # quote
need_count() { [[ "$2" =~ ^[0-9]+$ ]] || usage_error "$1: expected a non-negative integer (got '$2')"; }

targets=()
epochs="" seeds="" subset="" test_subset="" dataset="" device="" data_root="" out="" results=""
jobs=1 propnet="${PROPNET:-}" dry_run=0 estimate=1 bench_steps=2
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    --epochs) need_value "$@"; need_count "$1" "$2"; [ "$2" -ge 1 ] || usage_error "--epochs: expected >= 1"
              epochs="$2"; shift 2 ;;
    --seeds) need_value "$@"; seeds="$2"; shift 2 ;;
    --subset) need_value "$@"; need_count "$1" "$2"; subset="$2"; shift 2 ;;
    --test-subset) need_value "$@"; need_count "$1" "$2"; test_subset="$2"; shift 2 ;;
    --dataset-override)
      need_value "$@"
      case "$2" in cifar10|cifar100|fashion-mnist) dataset="$2" ;;
        *) usage_error "--dataset-override: expected cifar10, cifar100 or fashion-mnist (got '$2')" ;; esac
      shift 2 ;;
    --device) need_value "$@"; device="$2"; shift 2 ;;
    --data-root) need_value "$@"; data_root=$(realpath -m "$2"); shift 2 ;;
    --out) need_value "$@"; out=$(realpath -m "$2"); shift 2 ;;
    --results) need_value "$@"; results=$(realpath -m "$2"); shift 2 ;;
    --jobs|-P) need_value "$@"; need_count "$1" "$2"; [ "$2" -ge 1 ] || usage_error "--jobs: expected >= 1"
               jobs="$2"; shift 2 ;;
    --propnet) need_value "$@"; propnet=$(realpath -m "$2"); shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --no-estimate) estimate=0; shift ;;
    --bench-steps) need_value "$@"; need_count "$1" "$2"; bench_steps="$2"; shift 2 ;;
    -*) usage_error "unknown option '$1'" ;;
    table1|table2|table3|fig6|fig7|fig8|all) targets+=("$1"); shift ;;
    *) usage_error "unknown target '$1' (expected table1, table2, table3, fig6, fig7, fig8 or all)" ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || usage_error "which target? (table1, table2, table3, fig6, fig7, fig8 or all)"
# A quick run that trains on a subset should not spend most of its time testing on all 10,000 images.
[ -n "$test_subset" ] || test_subset="${subset:-}"

# The report needs matplotlib; Debian installs it for /usr/bin/python3, which may not be first on PATH.
python="${PYTHON:-}"
if [ -z "$python" ]; then
  python=python3
  [ -x /usr/bin/python3 ] && python=/usr/bin/python3
fi
report=("$python" "$root/scripts/report")

# Reduced protocols get their own run folders, named after what changed, so they never mix with the paper's.
tag=""
[ -n "$dataset" ] && tag+="-$dataset"
[ -n "$epochs" ] && [ "$epochs" != 400 ] && tag+="-e$epochs"
[ -n "$subset" ] && [ "$subset" != 0 ] && tag+="-sub$subset"
[ -n "$test_subset" ] && [ "$test_subset" != 0 ] && tag+="-test$test_subset"
protocol="paper"
[ -z "$tag" ] || protocol="reduced$tag"
runs="${out:-$root/runs}/$protocol"
if [ -z "$results" ]; then
  results="$root/results"
  [ "$protocol" = paper ] || results="$root/results/$protocol"
fi

list_args=()
[ -n "$dataset" ] && list_args+=(--dataset-override "$dataset")
[ -n "$seeds" ] && list_args+=(--seeds "$seeds")
rows=$("${report[@]}" --list "${list_args[@]}" "${targets[@]}")  # validates --seeds too (exit 2)

# --- the binary ----------------------------------------------------------------------------------------------
if [ -z "$propnet" ] && [ -x "$root/build/apps/propnet" ]; then
  propnet="$root/build/apps/propnet"
fi
if [ -z "$propnet" ]; then
  if [ "$dry_run" = 1 ]; then
    propnet="$root/build/apps/propnet"  # a dry run builds nothing; the commands show where it will be
  else
    build_dir=$("$root/scripts/build.sh" --no-tests | tail -n 1)
    propnet="$build_dir/apps/propnet"
  fi
fi
if [ ! -x "$propnet" ]; then
  [ "$dry_run" = 1 ] || usage_error "no propnet binary at '$propnet'"
  estimate=0
fi

# --- the commands: one `propnet train` per row ---------------------------------------------------------------
threads=""
if [ "$jobs" -gt 1 ]; then
  threads=$(( $(nproc) / jobs ))
  [ "$threads" -ge 1 ] || threads=1
fi
commands=()
while IFS=$'\t' read -r _target config _name _arch _depth _variant _dataset _classes _channels _train _test row_seeds; do
  cmd=("$propnet" train --config "$config" --out "$runs" --seeds "$row_seeds")
  [ -n "$epochs" ] && cmd+=(--epochs "$epochs")
  [ -n "$subset" ] && cmd+=(--subset "$subset")
  [ -n "$test_subset" ] && cmd+=(--test-subset "$test_subset")
  # The configs' CIFAR folder must not leak into another data set's run: the new one's default folder instead.
  [ -n "$dataset" ] && cmd+=(--set data.dir= --dataset "$dataset")
  if [ -n "$data_root" ]; then
    cmd+=(--data-dir "$data_root")
  elif [ "$dataset" = cifar10 ] || [ "$dataset" = cifar100 ]; then
    cmd+=(--data-dir "data/$([ "$dataset" = cifar10 ] && echo cifar-10-batches-bin || echo cifar-100-binary)")
  fi
  [ -n "$device" ] && cmd+=(--device "$device")
  [ -n "$threads" ] && cmd+=(--threads "$threads" --quiet)
  commands+=("$(quote "${cmd[@]}")")
done <<< "$rows"

# --- the estimate: a short `propnet bench` per distinct network ----------------------------------------------
print_estimate() {
  if ! "$propnet" bench --help > /dev/null 2>&1; then
    echo "# no estimate: propnet bench unavailable in $propnet"
    return
  fi
  local -A ips=()
  local target config name arch depth classes channels train test row_seeds key bench_args json
  local per_target="" total=0 bench_device="${device:-auto}"
  echo "# estimate: 'propnet bench' times ${bench_steps} training steps (batch 64, after 1 warm-up step) per network on" \
       "device ${device:-auto}; an epoch = train images / images_per_s + test images / (3 x images_per_s) (the test" \
       "pass is forward only, about a third of a training step); time = epochs x that x seeds. Data loading and" \
       "checkpoints are not counted."
  while IFS=$'\t' read -r target config name arch depth _ _ classes channels train test row_seeds; do
    key="$arch-$depth-k$channels"  # the classes change only the last layer: one benchmark serves both
    if [ -z "${ips[$key]:-}" ]; then
      bench_args=(bench --net "$arch" --depth "$depth" --classes "$classes" --in-channels "$channels"
                  --batch-size 64 --steps "$bench_steps" --warmup 1 --json)
      [ -n "$device" ] && bench_args+=(--device "$device")
      if ! json=$("$propnet" "${bench_args[@]}" 2> /dev/null); then
        echo "# no estimate: '$propnet ${bench_args[*]}' failed"
        return
      fi
      # First line: images/s for the arithmetic; second: what was measured, for the reader.
      local parsed
      parsed=$("$python" -c '
import json, sys
d = json.loads(sys.stdin.read())
print(d["images_per_s"])
print(d["device"])
print("#   {}: {:.1f} images/s, step p50 {:.0f} ms, peak {:.0f} MB on {} (torch {})".format(
    sys.argv[1], d["images_per_s"], d["step_ms_p50"], d["peak_mem_mb"], d["device"], d["torch_version"]))
' "$key" <<< "$json")
      ips[$key]=$(sed -n 1p <<< "$parsed")
      bench_device=$(sed -n 2p <<< "$parsed")
      sed -n 3p <<< "$parsed"
    fi
    [ -z "$subset" ] || [ "$subset" = 0 ] || [ "$subset" -ge "$train" ] || train="$subset"
    [ -z "$test_subset" ] || [ "$test_subset" = 0 ] || [ "$test_subset" -ge "$test" ] || test="$test_subset"
    local n_seeds
    n_seeds=$(tr ',' '\n' <<< "$row_seeds" | wc -l)
    local row_epochs="${epochs:-$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1])).get("train", {}).get("epochs", 400))' "$config")}"
    local seconds
    seconds=$(awk -v e="$row_epochs" -v s="$n_seeds" -v tr="$train" -v te="$test" -v r="${ips[$key]}" \
                  'BEGIN { printf "%.0f", e * s * (tr / r + te / (3 * r)) }')
    per_target+="$target $seconds"$'\n'
    total=$((total + seconds))
    awk -v n="$name" -v s="$n_seeds" -v e="$row_epochs" -v tr="$train" -v te="$test" -v r="${ips[$key]}" -v t="$seconds" \
      'BEGIN { printf "#   %s: %d seeds x %d epochs x (%d + %d/3 images) / %.1f images/s = %.2f h\n", n, s, e, tr, te, r, t / 3600 }' 
  done <<< "$rows"
  awk 'NF { t[$1] += $2; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
       END { for (i = 1; i <= n; i++) printf "# %s: %.2f device-hours\n", order[i], t[order[i]] / 3600 }' \
    <<< "$per_target"
  echo "# total: $(awk -v s="$total" 'BEGIN { printf "%.2f", s / 3600 }') hours on one $bench_device" \
       "(devices running seeds in parallel divide it)"
}

if [ "$dry_run" = 1 ]; then
  echo "# runs: $runs"
  echo "# results: $results"
  printf '%s\n' "${commands[@]}"
  quote "${report[@]}" --runs "$runs" --results "$results" "${targets[@]}"
  if [ "$estimate" = 1 ]; then
    print_estimate
  elif [ ! -x "$propnet" ]; then
    echo "# no estimate: no propnet binary at $propnet yet (scripts/build.sh builds it)"
  fi
  exit 0
fi

# --- the runs ------------------------------------------------------------------------------------------------
cd "$root"  # the configs' data folders (data/...) are relative to the repository root
mkdir -p "$runs"
status=0
# Ctrl-C reaches every propnet process, which checkpoints and exits; then stop here instead of reporting.
interrupted=0
trap 'interrupted=130' INT
trap 'interrupted=143' TERM
if [ "$jobs" -gt 1 ]; then
  # Rows run in parallel, never two seeds of one row: each process owns its run folder.
  # shellcheck disable=SC2016  # $1 is expanded by the inner bash
  printf '%s\0' "${commands[@]}" | xargs -0 -n 1 -P "$jobs" bash -c 'echo "==> $1" >&2; eval "$1"' _ || status=1
else
  for command in "${commands[@]}"; do
    echo "==> $command" >&2
    rc=0
    bash -c "$command" || rc=$?
    case "$rc" in
      0) ;;
      130|143) interrupted="$rc" ;;
      *) status=1 ;;  # a failed row: the next rows still run; the report shows what exists
    esac
    [ "$interrupted" = 0 ] || break
  done
fi
if [ "$interrupted" != 0 ]; then
  echo "reproduce.sh: interrupted; rerun the same command to resume" >&2
  exit "$interrupted"
fi

"${report[@]}" --runs "$runs" --results "$results" "${targets[@]}"
for target in $(cut -f1 <<< "$rows" | uniq); do
  echo
  cat "$results/$target.md"
done
[ "$status" = 0 ] || { echo "reproduce.sh: some rows failed; see their train.log under $runs" >&2; exit 1; }
