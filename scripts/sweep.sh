#!/usr/bin/env bash
# Runs a list of (config, seed) training jobs, at most P at a time, each pinned to one GPU or one set of CPU cores.
#
#   scripts/sweep.sh [options] JOBS_FILE [-- EXTRA propnet train ARGS]
#
# JOBS_FILE: one job per line, "CONFIG SEED [propnet train args...]"; blank lines and '#' comments are skipped.
#   configs/paper/table2/preresnet-110-paired-c100.json 0
#   configs/paper/table2/preresnet-110-paired-c100.json 1 --data-dir data/cifar-100-binary
# Each job is `propnet train --config CONFIG --seeds SEED [args] [EXTRA]`, its output in STATE/logs/<job>.log.
# A job that exits 0 leaves STATE/done/<job>; rerunning the same command skips those, and propnet resumes
# interrupted ones from their checkpoints, so an interrupted or partly failed sweep continues where it stopped.
#
# Options:
#   -P, --parallel N     at most N jobs at once (default: one per GPU of --gpus, else 1)
#   --gpus LIST          GPUs to pin jobs to, e.g. 0,1,2,3 (default: every GPU nvidia-smi lists); each running job
#                        sees only its own (CUDA_VISIBLE_DEVICES=<one>) and trains on cuda:0
#   --cpu                train on CPUs: no GPU pinning; job slot i gets cores [i*K, (i+1)*K) (taskset) and --threads K
#   --cpus-per-job K     with --cpu: cores per job (default: all cores / P)
#   --only I             run only job I (0-based, comments not counted): one task of a SLURM job array
#   --state DIR          markers and logs (default sweep-state)
#   --propnet PATH       the propnet binary (default: $PROPNET, else build/apps/propnet, else propnet on PATH)
#   --dry-run            print each job's command, environment and pinning; run nothing
#
# Exit codes: 0 every job done, 1 some job failed (the others still ran), 2 bad usage, 130 interrupted.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage_error() { echo "sweep.sh: $*; see --help" >&2; exit 2; }
need_value() { if [ $# -lt 2 ] || [ -z "$2" ]; then usage_error "$1 needs a value"; fi; }

parallel="" gpus="" cpu=0 cpus_per_job="" only="" state="sweep-state" propnet="${PROPNET:-}" dry_run=0 jobs_file=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -P|--parallel) need_value "$@"; parallel="$2"; shift 2 ;;
    --gpus) need_value "$@"; gpus="$2"; shift 2 ;;
    --cpu) cpu=1; shift ;;
    --cpus-per-job) need_value "$@"; cpus_per_job="$2"; shift 2 ;;
    --only) need_value "$@"; only="$2"; shift 2 ;;
    --state) need_value "$@"; state="$2"; shift 2 ;;
    --propnet) need_value "$@"; propnet="$2"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -*) usage_error "unknown option $1" ;;
    *) [ -z "$jobs_file" ] || usage_error "one JOBS_FILE expected (got \"$jobs_file\" and \"$1\")"; jobs_file="$1"; shift ;;
  esac
done
[ -n "$jobs_file" ] || usage_error "JOBS_FILE missing"
[ -f "$jobs_file" ] || usage_error "no such jobs file \"$jobs_file\""
is_count() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }
[ -z "$parallel" ] || is_count "$parallel" || usage_error "--parallel: expected an integer >= 1 (got \"$parallel\")"
[ -z "$cpus_per_job" ] || is_count "$cpus_per_job" || usage_error "--cpus-per-job: expected an integer >= 1 (got \"$cpus_per_job\")"
[ -z "$only" ] || [[ "$only" =~ ^[0-9]+$ ]] || usage_error "--only: expected a job index >= 0 (got \"$only\")"
[ "$cpu" -eq 1 ] || [ -z "$cpus_per_job" ] || usage_error "--cpus-per-job needs --cpu"
[ "$cpu" -eq 0 ] || [ -z "$gpus" ] || usage_error "--gpus and --cpu are exclusive"

if [ -z "$propnet" ]; then
  if [ -x "$root/build/apps/propnet" ]; then propnet="$root/build/apps/propnet"; else propnet=propnet; fi
fi

# Jobs: "CONFIG SEED [args]" lines.
job_lines=()
while IFS= read -r line || [ -n "$line" ]; do
  line="${line%%#*}"
  [ -n "${line//[[:space:]]/}" ] || continue
  read -r -a fields <<< "$line"
  [ "${#fields[@]}" -ge 2 ] || usage_error "$jobs_file: expected \"CONFIG SEED [args]\" (got \"$line\")"
  [[ "${fields[1]}" =~ ^[0-9]+$ ]] || usage_error "$jobs_file: expected a seed >= 0 after ${fields[0]} (got \"${fields[1]}\")"
  job_lines+=("$line")
done < "$jobs_file"
[ "${#job_lines[@]}" -gt 0 ] || usage_error "$jobs_file holds no job"
if [ -n "$only" ]; then
  [ "$only" -lt "${#job_lines[@]}" ] || usage_error "--only $only: the jobs file holds ${#job_lines[@]} jobs"
fi

# Slots: one GPU each, or one core range each.
slot_gpu=()
if [ "$cpu" -eq 0 ]; then
  if [ -n "$gpus" ]; then
    IFS=, read -r -a slot_gpu <<< "$gpus"
  elif command -v nvidia-smi > /dev/null 2>&1; then
    mapfile -t slot_gpu < <(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null || true)
  fi
  [ "${#slot_gpu[@]}" -gt 0 ] || usage_error "no GPU found; pass --gpus LIST, or --cpu to train on CPUs"
  parallel="${parallel:-${#slot_gpu[@]}}"
  [ "$parallel" -le "${#slot_gpu[@]}" ] || usage_error "--parallel $parallel exceeds the ${#slot_gpu[@]} GPUs (one job per GPU)"
else
  parallel="${parallel:-1}"
  cores=$(nproc)
  cpus_per_job="${cpus_per_job:-$(( cores / parallel > 0 ? cores / parallel : 1 ))}"
fi

job_key() {  # a file name for job $1: config stem, seed, and a hash of the whole line
  local -a f
  read -r -a f <<< "${job_lines[$1]}"
  local stem; stem=$(basename "${f[0]}" .json)
  echo "$(printf '%03d' "$1")-${stem}-seed${f[1]}-$(printf '%s' "${job_lines[$1]} ${extra[*]:-}" | cksum | cut -d' ' -f1)"
}

mkdir -p "$state/done" "$state/logs"
declare -a slot_pid slot_job
for ((s = 0; s < parallel; s++)); do slot_pid[s]=""; slot_job[s]=""; done
failed=()
interrupted=0
trap 'interrupted=1' INT TERM

record() {  # job in slot $1 ended with status $2
  local s="$1" rc="$2" j="${slot_job[$1]}"
  if [ "$rc" -eq 0 ]; then
    : > "$state/done/$(job_key "$j")"
    echo "sweep: job $j done: ${job_lines[$j]}"
  else
    failed+=("$j")
    echo "sweep: job $j failed (exit $rc; log $state/logs/$(job_key "$j").log): ${job_lines[$j]}" >&2
  fi
  slot_pid[s]=""
}

collect() {  # waits for one running job and records it; false when a signal interrupted the wait
  local pid="" rc=0 s
  wait -n -p pid || rc=$?
  [ -n "$pid" ] || return 1
  for ((s = 0; s < parallel; s++)); do
    if [ "${slot_pid[s]}" = "$pid" ]; then record "$s" "$rc"; return 0; fi
  done
  return 0
}

running() {
  local s
  for ((s = 0; s < parallel; s++)); do [ -z "${slot_pid[s]}" ] || return 0; done
  return 1
}

run_in_slot() {  # starts job $2 in slot $1
  local s="$1" j="$2"
  local -a f
  read -r -a f <<< "${job_lines[$j]}"
  local -a cmd=("$propnet" train --config "${f[0]}" --seeds "${f[1]}" "${f[@]:2}" "${extra[@]}")
  local -a env_prefix=()
  local where
  if [ "$cpu" -eq 0 ]; then
    env_prefix=(env "CUDA_VISIBLE_DEVICES=${slot_gpu[s]}")
    cmd+=(--device cuda:0)
    where="GPU ${slot_gpu[s]}"
  else
    local first=$(( (s * cpus_per_job) % $(nproc) )) last
    last=$(( first + cpus_per_job - 1 ))
    cmd+=(--threads "$cpus_per_job" --device cpu)
    if command -v taskset > /dev/null 2>&1; then env_prefix=(taskset -c "$first-$last"); fi
    where="cores $first-$last"
  fi
  if [ "$dry_run" -eq 1 ]; then
    echo "job $j ($where): ${env_prefix[*]} ${cmd[*]}"
    return
  fi
  echo "sweep: job $j on $where: ${job_lines[$j]}"
  "${env_prefix[@]}" "${cmd[@]}" > "$state/logs/$(job_key "$j").log" 2>&1 &
  slot_pid[s]=$!
  slot_job[s]=$j
}

skipped=0
for ((j = 0; j < ${#job_lines[@]}; j++)); do
  [ -z "$only" ] || [ "$j" -eq "$only" ] || continue
  if [ -f "$state/done/$(job_key "$j")" ]; then skipped=$((skipped + 1)); continue; fi
  while [ "$interrupted" -eq 0 ]; do  # a free slot
    free=""
    for ((s = 0; s < parallel; s++)); do
      if [ -z "${slot_pid[s]}" ]; then free=$s; break; fi
    done
    [ -z "$free" ] || break
    collect || true
  done
  [ "$interrupted" -eq 0 ] || break
  run_in_slot "$free" "$j"
done
# Drain; on an interrupt pass it on, and let each job write its checkpoint.
signalled=0
while running; do
  if [ "$interrupted" -eq 1 ] && [ "$signalled" -eq 0 ]; then
    for ((s = 0; s < parallel; s++)); do [ -z "${slot_pid[s]}" ] || kill -INT "${slot_pid[s]}" 2>/dev/null || true; done
    signalled=1
  fi
  collect || true
done
[ "$skipped" -eq 0 ] || echo "sweep: $skipped job(s) already done (markers in $state/done)"
if [ "$interrupted" -eq 1 ]; then echo "sweep: interrupted; rerun the same command to continue" >&2; exit 130; fi
if [ "${#failed[@]}" -gt 0 ]; then echo "sweep: ${#failed[@]} job(s) failed: ${failed[*]}; rerun to retry them" >&2; exit 1; fi
exit 0
