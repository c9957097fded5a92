#!/usr/bin/env bash
# Execute the analysis notebooks headless on fresh, small `sim` outputs (what CI runs after
# `cargo test --workspace`). Works from any directory.
#
#   notebooks/analysis/run.sh
#
# Environment:
#   SIM_BIN           sim binary to use (default: cargo build --release -p sim, then
#                     ${CARGO_TARGET_DIR:-<repo>/target}/release/sim)
#   PYTHON            interpreter for the venv (default python3.11 if on PATH, else python3; >= 3.11)
#   ANALYSIS_OUT      where the sim outputs, executed notebooks and figures go
#                     (default notebooks/analysis/out, gitignored)
#   TRACES_DIR        public traces (default <repo>/../shared/traces; `sim pack` runs only
#                     when the openb files are there)
#   CELL_TIMEOUT      seconds per notebook cell (default 300)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

say() { printf '==> %s\n' "$*"; }
show() { printf '+ %s\n' "$*"; }

START=$SECONDS
REL=notebooks/analysis
VENV="$REL/.venv"
OUT="${ANALYSIS_OUT:-$REL/out}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
LOGS="$OUT/logs"
mkdir -p "$LOGS"

# --- Python venv (rebuilt only when requirements.txt or the interpreter changes) ------------
if [[ -z "${PYTHON:-}" ]]; then
    if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: $PYTHON is missing or older than Python 3.11; set PYTHON=/path/to/python3.11" >&2
    exit 2
fi
STAMP="$( { cat "$REL/requirements.txt"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" == "$STAMP" ]]; then
    say "reusing $VENV (requirements unchanged)"
else
    say "creating $VENV"
    rm -rf "$VENV"
    show "$PYTHON -m venv $VENV"
    "$PYTHON" -m venv "$VENV"
    show "$VENV/bin/python -m pip install --quiet -r $REL/requirements.txt"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REL/requirements.txt"
    echo "$STAMP" > "$VENV/.requirements.sha256"
fi
PY="$VENV/bin/python"

# --- the sim binary --------------------------------------------------------------------------
if [[ -n "${SIM_BIN:-}" ]]; then
    SIM="$SIM_BIN"
else
    show "cargo build --release -p sim"
    cargo build --release -p sim
    SIM="${CARGO_TARGET_DIR:-$ROOT/target}/release/sim"
fi
if [[ ! -x "$SIM" ]]; then
    echo "error: sim binary not found or not executable: $SIM" >&2
    exit 2
fi
say "sim: $SIM"

# Run one sim command, its output to $LOGS/<name>.log (shown when it fails).
sim() {
    local name=$1
    shift
    show "sim $*"
    if ! "$SIM" "$@" >"$LOGS/$name.log" 2>&1; then
        echo "error: sim $* failed; its output ($LOGS/$name.log):" >&2
        tail -n 40 "$LOGS/$name.log" >&2
        exit 1
    fi
}

# --- small, fresh outputs (the same commands each notebook's first cell states) ---------------
say "sim outputs -> $OUT"
rm -rf "$OUT/notebook-day-run" "$OUT/notebook-day-compare" "$OUT/deadline-week-baselines" \
    "$OUT/deadline-week-compare" "$OUT/openb-pack" "$OUT/executed" "$OUT/figures"

sim notebook-day-run --scenario notebook-day --out "$OUT/notebook-day-run"
sim notebook-day-compare compare --scenario notebook-day \
    --policies static-notebook,tiered-burst,tiered-burst@keep-alive=1m,tiered-burst@keep-alive=2m,tiered-burst@keep-alive=5m,tiered-burst@keep-alive=10m,tiered-burst@keep-alive=15m,tiered-burst@keep-alive=30m,tiered-burst@keep-alive=60m \
    --out "$OUT/notebook-day-compare"
sim deadline-week-baselines compare --scenario "$REL/scenarios/deadline-week.yaml" \
    --policies static-notebook,fifo,kueue-like,never-burst,always-burst,tiered-burst \
    --out "$OUT/deadline-week-baselines"
sim deadline-week-compare compare --scenario "$REL/scenarios/deadline-week.yaml" \
    --out "$OUT/deadline-week-compare"

TRACES_DIR="${TRACES_DIR:-$ROOT/../shared/traces}"
NODES="$TRACES_DIR/alibaba-openb/openb_node_list_gpu_node.csv"
PODS="$TRACES_DIR/alibaba-openb/openb_pod_list_default.csv"
if [[ -f "$NODES" && -f "$PODS" ]]; then
    for policy in bestfit fgd fgd-pack; do
        sim "openb-pack-$policy" pack --nodes "$NODES" --pods "$PODS" --policy "$policy" \
            --tune 1.3 --seeds 42..51 --out "$OUT/openb-pack/$policy"
    done
else
    say "no openb traces at $TRACES_DIR/alibaba-openb: skipping sim pack (06_openb_packing will say so)"
fi

# --- execute every notebook on a temporary copy --------------------------------------------
export SIM_RUN_DIR="$OUT/notebook-day-run"
export SIM_POLICIES_DIR="$OUT/deadline-week-baselines"
export SIM_KEEPALIVE_DIR="$OUT/notebook-day-compare"
export SIM_BURST_DIR="$OUT/deadline-week-compare"
export SIM_FAIRNESS_DIR="$OUT/deadline-week-compare"
export SIM_PACK_DIR="$OUT/openb-pack"
export ANALYSIS_FIG_DIR="$OUT/figures"
say "executing notebooks (executed copies -> $OUT/executed, figures -> $ANALYSIS_FIG_DIR)"
show "$PY $REL/execute.py --keep $OUT/executed"
"$PY" "$REL/execute.py" --keep "$OUT/executed"
say "done in $((SECONDS - START)) s"
