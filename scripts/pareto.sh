#!/usr/bin/env bash
# Compares ReLU masks of one network at one budget: every arm's masks retrained from scratch with the same
# training seeds, then scripts/report pareto writes the table, the CSV and the plot (accuracy vs ReLU elements).
#
#   scripts/pareto.sh --net NET --depth D --keep K [options] [-- ARGS for every propnet search and train]
#
# Arms (--arms, comma-separated; default paired,paper,complement,random,gates,greedy,shuffled):
#   paired       every ReLU kept (the 1:1 baseline)
#   paper        the paper's mask for the network (--variant proportional: 01 per block for plain/preresnet)
#   complement   that mask with every bit flipped (10 per block)
#   random       --random R masks with exactly K sites (propnet search --method random, seed 0)
#   exhaustive   every mask with exactly K sites (propnet search --method exhaustive; C(N, K) of them)
#   gates        the masks `propnet search --method gates` finds, one per search seed
#   greedy       the same with --method greedy
#   shuffled     each searched mask permuted within its stages (same per-stage counts; Frankle et al. 2021)
# A mask that two arms share (say, a search that finds the paper's mask) is trained once and counts for both.
#
# Options:
#   --net NET --depth D      the network (as in propnet train)
#   --keep K                 sites kept by the random, exhaustive and searched masks
#   --arms LIST              the arms above
#   --random R               random masks (default 8)
#   --seeds LIST             training seeds, the same for every mask (default 0-2), e.g. 0-4 or 0,1
#   --search-seeds LIST      search seeds of gates/greedy (default 0-2)
#   --min-keep-per-stage M   every generated and searched mask keeps at least M sites per stage (propnet search's
#                            default: 1); 0 lets exhaustive list all C(N, K) masks
#   --dataset DS             fashion-mnist (default), cifar10, cifar100
#   --subset N               train on the first N training images (default all)
#   --test-subset N          test on the first N test images (default all)
#   --val-split N            validation images the searches hold out of the training images (default 5000, or
#                            a fifth of --subset); the retraining uses all the training images, as train does
#   --epochs E               epochs of every training and search (default 400, the paper's)
#   --jobs N                 processes at once (default 1); each gets --threads (cores / N) unless ARGS set it
#   --gpus LIST              pin job slot i to GPU LIST[i mod len] (CUDA_VISIBLE_DEVICES; pass -- --device cuda),
#                            e.g. --gpus 0,1,2,3 --jobs 4
#   --out DIR                root of the experiment folders (default runs/pareto)
#   --name NAME              the experiment folder (default <net>-<depth>-<dataset>-k<K>[-e<E>][-sub<N>][-test<M>])
#   --results DIR            where the report goes (default results/pareto/<name>)
#   --propnet PATH           the propnet binary (default: $PROPNET, else build/apps/propnet)
#   --dry-run                print the commands and an estimate from `propnet bench` (per network, on --device)
#   --no-estimate            with --dry-run: the commands only
#   --rate R                 with --dry-run: estimate from R training images/s per job instead of `propnet bench`
#                            (e.g. what `propnet bench --device cuda` measured on the machine that will run it)
#
# The folder <out>/<name>/ holds command.txt, sites.json (propnet info --sites of the paired network), arms.tsv
# (arm, label, mask), searches/<method>/seed-<s>/ (propnet search runs) and train/<mask>/seed-<s>/ (propnet train
# runs). Finished seeds are skipped and interrupted ones resumed: rerun the same command to continue.
#
# Exit codes: 0 done, 1 some run failed (the others still ran; the report covers what exists), 2 bad usage,
# 130/143 interrupted.
set -euo pipefail
invocation=("scripts/pareto.sh" "$@")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage_error() { echo "pareto.sh: $*; see --help" >&2; exit 2; }
need_value() { if [ $# -lt 2 ] || [ -z "$2" ]; then usage_error "$1 needs a value"; fi; }
need_count() { [[ "$2" =~ ^[0-9]+$ ]] || usage_error "$1: expected a non-negative integer (got '$2')"; }
# shellcheck source=lib.sh
source "$root/scripts/lib.sh"  # quote
# "0-2,5" -> "0 1 2 5"
expand_seeds() {
  local option="$1" list="$2" part first last out=()
  IFS=',' read -r -a parts <<< "$list"
  for part in "${parts[@]}"; do
    if [[ "$part" =~ ^([0-9]+)-([0-9]+)$ ]]; then first=${BASH_REMATCH[1]} last=${BASH_REMATCH[2]}
    elif [[ "$part" =~ ^[0-9]+$ ]]; then first=$part last=$part
    else usage_error "$option: expected a list such as 0-4, 0,2,5 or 0-2,7 (got '$list')"; fi
    [ "$last" -ge "$first" ] || usage_error "$option: expected a list such as 0-4, 0,2,5 or 0-2,7 (got '$list')"
    for ((s = first; s <= last; s++)); do out+=("$s"); done
  done
  [ "$(printf '%s\n' "${out[@]}" | sort -u | wc -l)" -eq "${#out[@]}" ] || usage_error "$option: a seed repeats in '$list'"
  echo "${out[*]}"
}

net="" depth="" keep="" arms="paired,paper,complement,random,gates,greedy,shuffled" random=8 seeds="0-2"
search_seeds="0-2" min_keep="" dataset="fashion-mnist" subset="" test_subset="" val_split="" epochs="" jobs=1 out="" name=""
results="" propnet="${PROPNET:-}" dry_run=0 estimate=1 gpus="" rate=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    --net) need_value "$@"; net="$2"; shift 2 ;;
    --depth) need_value "$@"; need_count "$1" "$2"; depth="$2"; shift 2 ;;
    --keep) need_value "$@"; need_count "$1" "$2"; keep="$2"; shift 2 ;;
    --arms) need_value "$@"; arms="$2"; shift 2 ;;
    --random) need_value "$@"; need_count "$1" "$2"; random="$2"; shift 2 ;;
    --seeds) need_value "$@"; seeds="$2"; shift 2 ;;
    --search-seeds) need_value "$@"; search_seeds="$2"; shift 2 ;;
    --min-keep-per-stage) need_value "$@"; need_count "$1" "$2"; min_keep="$2"; shift 2 ;;
    --dataset)
      need_value "$@"
      case "$2" in cifar10|cifar100|fashion-mnist) dataset="$2" ;;
        *) usage_error "--dataset: expected fashion-mnist, cifar10 or cifar100 (got '$2')" ;; esac
      shift 2 ;;
    --subset) need_value "$@"; need_count "$1" "$2"; subset="$2"; shift 2 ;;
    --test-subset) need_value "$@"; need_count "$1" "$2"; test_subset="$2"; shift 2 ;;
    --val-split) need_value "$@"; need_count "$1" "$2"; val_split="$2"; shift 2 ;;
    --epochs) need_value "$@"; need_count "$1" "$2"; [ "$2" -ge 1 ] || usage_error "--epochs: expected >= 1"
              epochs="$2"; shift 2 ;;
    --jobs|-P) need_value "$@"; need_count "$1" "$2"; [ "$2" -ge 1 ] || usage_error "--jobs: expected >= 1"
               jobs="$2"; shift 2 ;;
    --out) need_value "$@"; out=$(realpath -m "$2"); shift 2 ;;
    --name) need_value "$@"; [[ "$2" =~ ^[A-Za-z0-9_.+-]+$ ]] || usage_error "--name: letters, digits, _.+- only"
            name="$2"; shift 2 ;;
    --results) need_value "$@"; results=$(realpath -m "$2"); shift 2 ;;
    --propnet) need_value "$@"; propnet=$(realpath -m "$2"); shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --no-estimate) estimate=0; shift ;;
    --gpus) need_value "$@"; [[ "$2" =~ ^[0-9]+(,[0-9]+)*$ ]] || usage_error "--gpus: expected a list such as 0,1,2,3 (got '$2')"
            gpus="$2"; shift 2 ;;
    --rate) need_value "$@"; [[ "$2" =~ ^[0-9]+(\.[0-9]+)?$ ]] && [ "$2" != 0 ] || usage_error "--rate: expected images/s > 0 (got '$2')"
            rate="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) usage_error "unknown option '$1'" ;;
  esac
done
[ -n "$net" ] || usage_error "--net is required"
[ -n "$depth" ] || usage_error "--depth is required"
declare -A arm_on=()
IFS=',' read -r -a arm_list <<< "$arms"
for arm in "${arm_list[@]}"; do
  case "$arm" in
    paired|paper|complement|random|exhaustive|gates|greedy|shuffled) arm_on[$arm]=1 ;;
    *) usage_error "--arms: unknown arm '$arm' (expected paired, paper, complement, random, exhaustive, gates, greedy, shuffled)" ;;
  esac
done
needs_keep=0
for arm in random exhaustive gates greedy; do [ -z "${arm_on[$arm]:-}" ] || needs_keep=1; done
[ "$needs_keep" = 0 ] || [ -n "$keep" ] || usage_error "--keep is required by the random, exhaustive, gates and greedy arms"
[ -z "${arm_on[shuffled]:-}" ] || [ -n "${arm_on[gates]:-}${arm_on[greedy]:-}" ] ||
  usage_error "--arms: shuffled permutes the searched masks, so it needs gates or greedy"
seed_words=$(expand_seeds --seeds "$seeds") || exit 2
read -r -a train_seeds <<< "$seed_words"
seed_words=$(expand_seeds --search-seeds "$search_seeds") || exit 2
read -r -a search_seed_list <<< "$seed_words"
searching=0
[ -z "${arm_on[gates]:-}${arm_on[greedy]:-}" ] || searching=1

python="${PYTHON:-}"
if [ -z "$python" ]; then python=python3; [ -x /usr/bin/python3 ] && python=/usr/bin/python3; fi

if [ -z "$propnet" ] && [ -x "$root/build/apps/propnet" ]; then propnet="$root/build/apps/propnet"; fi
[ -n "$propnet" ] || propnet="$root/build/apps/propnet"
[ -x "$propnet" ] || usage_error "no propnet binary at '$propnet' (scripts/build.sh builds it, or pass --propnet)"

# One thread per job unless the user chose: parallel single-thread processes beat one process sharing threads.
threads_args=()
if [[ " ${extra[*]} " != *" --threads "* ]]; then
  threads=$(( $(nproc) / jobs )); [ "$threads" -ge 1 ] || threads=1
  threads_args=(--threads "$threads")
fi
data_args=(--dataset "$dataset")
[ -z "$subset" ] || data_args+=(--subset "$subset")
[ -z "$test_subset" ] || data_args+=(--test-subset "$test_subset")
[ -z "$epochs" ] || data_args+=(--epochs "$epochs")
if [ -z "$val_split" ]; then
  val_split=5000
  [ -z "$subset" ] || [ "$subset" = 0 ] || val_split=$((subset / 5))
fi

if [ -z "$name" ]; then
  name="$net-$depth-$dataset"
  [ -z "$keep" ] || name+="-k$keep"
  [ -z "$epochs" ] || name+="-e$epochs"
  [ -z "$subset" ] || [ "$subset" = 0 ] || name+="-sub$subset"
  [ -z "$test_subset" ] || [ "$test_subset" = 0 ] || name+="-test$test_subset"
fi
dir="${out:-$root/runs/pareto}/$name"
[ -n "$results" ] || results="$root/results/pareto/$name"
net_args=(--net "$net" --depth "$depth")

# --- the network's sites and the fixed masks -----------------------------------------------------------------
classes=10; [ "$dataset" != cifar100 ] || classes=100
channels=3; [ "$dataset" != fashion-mnist ] || channels=1
sites_json=$("$propnet" info "${net_args[@]}" --classes "$classes" --in-channels "$channels" --sites --json) ||
  usage_error "propnet info ${net_args[*]} failed"
# The paper's mask as one bit per maskable site (info's relu_mask is the block pattern, e.g. 01).
paper_mask=$("$propnet" info "${net_args[@]}" --variant proportional --sites --json | "$python" -c '
import json, sys
sites = [s for s in json.load(sys.stdin)["sites"] if not s["fixed"]]
print("".join("1" if s["kept"] else "0" for s in sorted(sites, key=lambda s: s["mask_bit"])))')
n_sites=${#paper_mask}
if [ -n "$keep" ] && { [ "$keep" -lt 1 ] || [ "$keep" -gt "$n_sites" ]; }; then
  usage_error "--keep $keep: expected 1 to $n_sites, the network's maskable sites"
fi
all_ones=$(printf '1%.0s' $(seq "$n_sites"))
complement=$(tr 01 10 <<< "$paper_mask")

searches="$dir/searches"
search_cmd() {  # method seeds: the propnet search command
  local -a cmd=("$propnet" search "${net_args[@]}" --method "$1" --keep "$keep" --search-seeds "$2"
                --out "$searches" --name "$1" "${data_args[@]}")
  [ -z "$min_keep" ] || cmd+=(--min-keep-per-stage "$min_keep")
  case "$1" in gates|greedy) cmd+=(--val-split "$val_split" "${threads_args[@]}" --quiet) ;; random) cmd+=(--count "$random") ;; esac
  quote "${cmd[@]}" "${extra[@]}"
}
search_dir() { echo "$searches/$1/seed-$2"; }
train_cmd() {  # mask seed
  quote "$propnet" train "${net_args[@]}" --relu-mask "$1" --seeds "$2" --out "$dir/train" --name "$1" \
        "${data_args[@]}" "${threads_args[@]}" --quiet "${extra[@]}"
}

# --- commands ------------------------------------------------------------------------------------------------
generate=()   # instant: random and exhaustive masks (no data read)
first=()      # searches, and the trainings of the masks known before any search
[ -z "${arm_on[random]:-}" ] || generate+=("$(search_cmd random 0)")
[ -z "${arm_on[exhaustive]:-}" ] || generate+=("$(search_cmd exhaustive 0)")
for method in gates greedy; do
  [ -z "${arm_on[$method]:-}" ] || for s in "${search_seed_list[@]}"; do first+=("$(search_cmd "$method" "$s")"); done
done

# arms.tsv lines (arm, label, mask): the masks that need no propnet run, then those generated before any search;
# the searched ones are added after the searches.
given_arms() {
  [ -z "${arm_on[paired]:-}" ] || printf 'paired\tpaired\t%s\n' "$all_ones"
  [ -z "${arm_on[paper]:-}" ] || printf 'paper\tpaper (2:1)\t%s\n' "$paper_mask"
  [ -z "${arm_on[complement]:-}" ] || printf 'complement\tcomplement\t%s\n' "$complement"
}
fixed_arms() {
  given_arms
  local arm i mask
  for arm in random exhaustive; do
    [ -n "${arm_on[$arm]:-}" ] || continue
    i=0
    while read -r mask; do
      [ -n "$mask" ] || continue
      printf '%s\t%s %d\t%s\n' "$arm" "$arm" "$i" "$mask"; i=$((i + 1))
    done < "$(search_dir "$arm" 0)/masks.txt"
  done
}
# Searched masks and their stage shuffles; the shuffle's seed is the search seed, so a rerun shuffles alike.
searched_arms() {
  "$python" - "$searches" "${arm_on[gates]:+gates}" "${arm_on[greedy]:+greedy}" \
            "${arm_on[shuffled]:+shuffled}" "${search_seed_list[*]}" <<'PY'
import json, os, random, sys
searches, gates, greedy, shuffled, seeds = sys.argv[1:]
for method in [m for m in (gates, greedy) if m]:
    for seed in map(int, seeds.split()):
        path = os.path.join(searches, method, f"seed-{seed}", "search.json")
        if not os.path.exists(path):
            continue  # a failed or unfinished search: its arms are missing, and the report says so
        found = json.load(open(path))
        mask = found["relu_mask"]
        print(f"{method}\t{method} s{seed}\t{mask}")
        if shuffled:
            by_stage = {}
            for site in found["sites"]:
                by_stage.setdefault(site["stage"], []).append(site["mask_bit"])
            bits = list(mask)
            rng = random.Random(seed)
            for positions in by_stage.values():
                kept = [mask[p] for p in positions]
                rng.shuffle(kept)
                for p, b in zip(positions, kept):
                    bits[p] = b
            print(f"shuffled\tshuffled {method} s{seed}\t{''.join(bits)}")
PY
}
train_commands_for() {  # [SKIP]: arms.tsv lines on stdin -> one train command per mask and seed, each mask once;
  local skip="${1:-0}" arm label mask s   # the masks of the first SKIP lines were trained already
  local -A trained=()
  while IFS=$'\t' read -r arm label mask; do
    if [ "$skip" -gt 0 ]; then skip=$((skip - 1)); trained[$mask]=1; continue; fi
    [ -z "${trained[$mask]:-}" ] || continue
    trained[$mask]=1
    for s in "${train_seeds[@]}"; do train_cmd "$mask" "$s"; done
  done
}

run_parallel() {  # commands as arguments; returns 1 if one failed, 130/143 if interrupted
  [ $# -gt 0 ] || return 0
  local rc=0
  # xargs numbers its slots (PARETO_SLOT): with --gpus each slot keeps one GPU for all the jobs it runs.
  # shellcheck disable=SC2016  # expanded by the inner bash
  printf '%s\0' "$@" | PARETO_GPUS="$gpus" xargs -0 -n 1 -P "$jobs" --process-slot-var=PARETO_SLOT bash -c '
    if [ -n "$PARETO_GPUS" ]; then
      IFS=, read -r -a gpus <<< "$PARETO_GPUS"
      export CUDA_VISIBLE_DEVICES="${gpus[$((PARETO_SLOT % ${#gpus[@]}))]}"
    fi
    echo "==> ${CUDA_VISIBLE_DEVICES:+CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES }$1" >&2
    eval "$1"' _ || rc=$?
  [ "$interrupted" = 0 ] || return "$interrupted"
  [ "$rc" = 0 ] || return 1
}
exit_if_interrupted() {  # the status of run_parallel
  if [ "$1" = 130 ] || [ "$1" = 143 ]; then
    echo "pareto.sh: interrupted; rerun the same command to resume" >&2
    exit "$1"
  fi
}

if [ "$dry_run" = 1 ]; then
  echo "# experiment: $dir"
  echo "# results: $results"
  printf '%s\n' "${generate[@]}" "${first[@]}"
  mapfile -t fixed_trains < <(given_arms | train_commands_for)
  printf '%s\n' "${fixed_trains[@]}"
  later=0  # masks known only once generated or searched
  [ -z "${arm_on[random]:-}" ] || later=$((later + random))
  [ -z "${arm_on[exhaustive]:-}" ] || later=$((later + $("$python" -c \
      'import math, sys; print(math.comb(int(sys.argv[1]), int(sys.argv[2])))' "$n_sites" "$keep")))
  searched=0
  for method in gates greedy; do [ -z "${arm_on[$method]:-}" ] || searched=$((searched + ${#search_seed_list[@]})); done
  later=$((later + searched))
  [ -z "${arm_on[shuffled]:-}" ] || later=$((later + searched))
  if [ "$later" -gt 0 ]; then
    echo "# then one '$(train_cmd MASK SEED)' per seed of each of the $later random, exhaustive, searched and" \
         "shuffled masks (at most: a mask that arms share is trained once)"
  fi
  echo "# then: $(quote "$python" "$root/scripts/report" pareto --runs "$dir" --results "$results")"
  [ "$estimate" = 1 ] || exit 0
  runs=$(( ${#fixed_trains[@]} + later * ${#train_seeds[@]} ))
  "$python" - "$propnet" "$dataset" "${subset:-0}" "${test_subset:-0}" "${epochs:-400}" "$val_split" "$runs" \
            "$searched" "$jobs" "$classes" "$channels" "${rate:-0}" "${net_args[@]}" "${extra[@]}" <<'PY'
import json, subprocess, sys
propnet, dataset, subset, test_subset, epochs, val, runs, searches, jobs, classes, channels, rate = sys.argv[1:13]
net_args, extra = sys.argv[13:17], sys.argv[17:]
full = {"fashion-mnist": (60000, 10000), "cifar10": (50000, 10000), "cifar100": (50000, 10000)}[dataset]
train = min(int(subset) or full[0], full[0])
test = min(int(test_subset) or full[1], full[1])
device = [extra[i + 1] for i, a in enumerate(extra[:-1]) if a == "--device"]
# A CPU step takes long enough to time 2; a GPU step needs more, after cuDNN's autotuning has settled.
steps, warmup = ("20", "5") if device and device[-1].startswith("cuda") else ("2", "1")
bench = [propnet, "bench", *net_args, "--classes", classes, "--in-channels", channels, "--batch-size", "64",
         "--steps", steps, "--warmup", warmup, "--threads", "1", "--json", *(["--device", device[-1]] if device else [])]
if float(rate) > 0:
    d = {"images_per_s": float(rate), "device": "the --rate device"}
else:
    try:
        d = json.loads(subprocess.run(bench, check=True, capture_output=True, text=True).stdout)
    except (subprocess.CalledProcessError, ValueError):
        sys.exit(f"# no estimate: '{' '.join(bench)}' failed (--rate R estimates from a throughput you measured)")
ips = d["images_per_s"]
epochs, runs, searches, jobs = int(epochs), int(runs), int(searches), int(jobs)
per_run = epochs * (train / ips + test / (3 * ips))
per_search = epochs * (train - int(val)) / ips * 1.25  # score steps / greedy rounds: measured 1.0-1.25x a run
total = runs * per_run + searches * per_search
source = "given by --rate, not measured" if float(rate) > 0 else "propnet bench, 1 thread, batch 64"
print(f"# estimate: paired network {d['images_per_s']:.0f} images/s on {d['device']} ({source}); a run = {epochs} epochs x ({train} + {test}/3 images) = {per_run / 60:.1f} min; "
      f"{runs} runs + {searches} searches (x1.25 each) = {total / 3600:.2f} h, {total / 3600 / jobs:.2f} h with "
      f"{jobs} parallel jobs (fewer ReLUs run a little faster; data loading not counted)")
PY
  exit 0
fi

# --- the runs ------------------------------------------------------------------------------------------------
cd "$root"
mkdir -p "$dir"
printf '%s\n' "$sites_json" > "$dir/sites.json"
quote "${invocation[@]}" > "$dir/command.txt"
interrupted=0
trap 'interrupted=130' INT
trap 'interrupted=143' TERM
status=0
for command in "${generate[@]}"; do
  echo "==> $command" >&2
  bash -c "$command" > /dev/null || usage_error "mask generation failed: $command"
done
fixed_arms > "$dir/arms.tsv"
fixed_lines=$(wc -l < "$dir/arms.tsv")
mapfile -t fixed_trains < <(train_commands_for < "$dir/arms.tsv")
run_parallel "${first[@]}" "${fixed_trains[@]}" || status=$?
exit_if_interrupted "$status"
if [ "$searching" = 1 ]; then
  searched_arms >> "$dir/arms.tsv"
  mapfile -t searched_trains < <(train_commands_for "$fixed_lines" < "$dir/arms.tsv")
  rc=0
  run_parallel "${searched_trains[@]}" || rc=$?
  exit_if_interrupted "$rc"
  [ "$rc" = 0 ] || status=1
fi
# The record beside the report: everything but checkpoints, so the report can be rebuilt (and the runs committed)
# where the run folders are gone: scripts/report pareto --runs RESULTS/record --results RESULTS.
record="$results/record"
rm -rf "$record"
mkdir -p "$record"
(cd "$dir" && find . -name "*.pt" -prune -o -type f -print) | while IFS= read -r file; do
  mkdir -p "$record/$(dirname "$file")"
  cp "$dir/$file" "$record/$file"
done
echo "A copy of $dir without its checkpoints (*.pt): every seed with all its epochs' metrics counts as done." \
  > "$record/RECORD"
"$python" "$root/scripts/report" pareto --runs "$dir" --results "$results"
cat "$results/pareto.md"
[ "$status" = 0 ] || { echo "pareto.sh: some runs failed; see their logs under $dir" >&2; exit 1; }
