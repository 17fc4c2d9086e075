# Shell helpers shared by the scripts (sourced, not run).

# Its arguments as one command line, shell-quoted only where needed, so that printed commands read like typed ones.
quote() {
  local arg quoted=()
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./:=,+-]+$ ]]; then quoted+=("$arg"); else quoted+=("$(printf "%q" "$arg")"); fi
  done
  echo "${quoted[*]}"
}
