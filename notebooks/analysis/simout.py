"""Loading `sim` outputs for the analysis notebooks (polars + matplotlib).

Every notebook reads its data directory from an environment variable (see README.md); a
relative path is taken from this folder (notebooks/analysis). Tables are read from Parquet
when present, else from the CSV twin (the columns are documented in traces/README.md and
scenarios/README.md).
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
TIERS = ("bronze", "silver", "gold")
TIER_COLOURS = {"bronze": "#b0793f", "silver": "#8f9aa6", "gold": "#d4a017"}


def data_dir(env: str, default: str) -> Path:
    """The directory named by `env`, else `default`; relative paths are from notebooks/analysis."""
    p = Path(os.environ.get(env) or default).expanduser()
    return p if p.is_absolute() else (HERE / p)


def require(path: Path, what: str, command: str) -> Path:
    """Stop with a readable message when an output directory is missing."""
    if not path.exists():
        raise FileNotFoundError(
            f"{what} not found at {path}.\nProduce it with (from the repository root):\n  {command}\n"
            "or point the environment variable at existing outputs (see notebooks/analysis/README.md)."
        )
    return path


def read_table(run_dir: Path, name: str) -> pl.DataFrame:
    """`<run_dir>/<name>.parquet`, or `<name>.csv` when the Parquet file is absent."""
    pq = run_dir / f"{name}.parquet"
    if pq.exists():
        return pl.read_parquet(pq)
    return pl.read_csv(run_dir / f"{name}.csv", infer_schema_length=None)


def read_summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def compare_runs(cmp_dir: Path) -> list[tuple[str, Path]]:
    """(policy, run directory) for each policy of a `sim compare` output, in the order it ran.

    The manifest's run paths are absolute where they were written; only their last component is
    used, so a moved or copied compare directory still loads.
    """
    manifest = cmp_dir / "manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        return [(p, cmp_dir / Path(r).name) for p, r in zip(m["policies"], m["runs"])]
    runs = []
    for d in sorted(cmp_dir.iterdir()):
        if (d / "summary.json").exists():
            runs.append((read_summary(d)["policy"], d))
    return runs


def read_compare(cmp_dir: Path) -> pl.DataFrame:
    """`compare.parquet` (or `.csv`): one row per policy."""
    return read_table(cmp_dir, "compare")


def stack(cmp_dir: Path, name: str) -> pl.DataFrame:
    """One table (`jobs` or `timeseries`) of every policy of a compare, with a `policy` column first."""
    frames = []
    for policy, run in compare_runs(cmp_dir):
        df = read_table(run, name)
        frames.append(df.select(pl.lit(policy).alias("policy"), pl.all()))
    return pl.concat(frames, how="vertical_relaxed")


def summaries(cmp_dir: Path) -> dict[str, dict]:
    return {policy: read_summary(run) for policy, run in compare_runs(cmp_dir)}


# --- policy names -------------------------------------------------------------------------

def overrides(policy: str) -> dict[str, str]:
    """`tiered-burst@keep-alive=10m,burst-after=15m` -> {'keep-alive': '10m', 'burst-after': '15m'}."""
    if "@" not in policy:
        return {}
    out = {}
    for kv in policy.split("@", 1)[1].split(","):
        k, _, v = kv.partition("=")
        out[k.strip()] = v.strip()
    return out


def base(policy: str) -> str:
    return policy.split("@", 1)[0]


def minutes(duration: str) -> float:
    """'90s' / '10m' / '2h' (or a bare number of minutes) -> minutes."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([smh]?)\s*", duration)
    if not m:
        raise ValueError(f"not a duration: {duration!r}")
    value, unit = float(m.group(1)), m.group(2) or "m"
    return value * {"s": 1 / 60, "m": 1.0, "h": 60.0}[unit]


# tiered-burst's default threshold (scenarios/README.md: "burst after 30 min")
TIERED_BURST_DEFAULT_MIN = 30.0


def burst_after_from_run(run_dir: Path) -> float | None:
    """The burst threshold in minutes as the run's manifest records it (`policy_parameters.burst`):
    0 for mode `always`, inf for `never`, the constant wait for `threshold`; None for other
    waiting rules (Starburst's) or when the manifest does not say."""
    try:
        burst = json.loads((run_dir / "manifest.json").read_text())["policy_parameters"]["burst"]
    except (OSError, KeyError, TypeError, ValueError):
        return None
    mode = burst.get("mode")
    if mode == "always":
        return 0.0
    if mode == "never":
        return math.inf
    wait = burst.get("wait") or {}
    if mode == "threshold" and isinstance(wait, dict) and "constant" in wait:
        return wait["constant"]["wait"] / 60000
    return None


def burst_after_min(policy: str) -> float | None:
    """The burst threshold from the policy's name alone (fallback when there is no manifest):
    0 for always-burst, inf for never-burst, the `burst-after` override or 30 for tiered-burst;
    None otherwise."""
    b, ov = base(policy), overrides(policy)
    if "burst-after" in ov:
        return minutes(ov["burst-after"])
    if b == "always-burst":
        return 0.0
    if b == "never-burst":
        return math.inf
    if b == "tiered-burst":
        return TIERED_BURST_DEFAULT_MIN
    return None


def keep_alive_min(policy: str) -> float | None:
    """Keep-alive window in minutes from the policy's name (0 when not overridden, i.e. the
    scenario's default); None for static-notebook, which holds a GPU per open session."""
    if base(policy) == "static-notebook":
        return None
    ov = overrides(policy)
    return minutes(ov["keep-alive"]) if "keep-alive" in ov else 0.0


# --- small statistics -----------------------------------------------------------------------

def pareto_front(cost, benefit) -> list[bool]:
    """True for points no other point dominates (cost no higher AND benefit no lower, one strictly)."""
    pts = list(zip(cost, benefit))
    out = []
    for i, (c, b) in enumerate(pts):
        dominated = any(
            (c2 <= c and b2 >= b) and (c2 < c or b2 > b) for j, (c2, b2) in enumerate(pts) if j != i
        )
        out.append(not dominated)
    return out


def jain(values) -> float:
    """Jain's fairness index (sum x)^2 / (n * sum x^2): 1 = equal, 1/n = one gets everything."""
    xs = [float(v) for v in values]
    sq = sum(x * x for x in xs)
    return (sum(xs) ** 2) / (len(xs) * sq) if sq > 0 else float("nan")


def ecdf_share_of_all(values_ms, total: int):
    """Sorted values (minutes) and the share of `total` at or below each: a CDF over all submitted
    jobs, so jobs that never started keep the curve below 1 (as the HTML report draws it)."""
    xs = sorted(v / 60000 for v in values_ms)
    ys = [(i + 1) / total for i in range(len(xs))]
    return xs, ys


def savefig(fig, name: str) -> None:
    """Also write the figure to $ANALYSIS_FIG_DIR/<name>.png when that variable is set."""
    d = os.environ.get("ANALYSIS_FIG_DIR")
    if d:
        Path(d).mkdir(parents=True, exist_ok=True)
        fig.savefig(Path(d) / f"{name}.png", dpi=110, bbox_inches="tight")
