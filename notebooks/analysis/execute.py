"""Execute the analysis notebooks headless (run by run.sh inside notebooks/analysis/.venv).

    python execute.py [--timeout SECONDS] [--keep DIR] [NOTEBOOK.ipynb ...]

Refuses committed notebooks that carry outputs or execution counts, then runs each notebook on
a temporary copy (never in place) with nbclient and a per-cell timeout. Data directories come
from the environment (SIM_RUN_DIR, SIM_POLICIES_DIR, ...; see README.md). Exits 1 on the first
failing cell of any notebook, after trying all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

HERE = Path(__file__).resolve().parent


def committed_outputs(nb) -> list[str]:
    bad = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            bad.append(f"cell {i} has outputs")
        if cell.get("execution_count") is not None:
            bad.append(f"cell {i} has execution_count {cell.execution_count}")
    return bad


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("CELL_TIMEOUT", "300")),
                    help="seconds per cell (default $CELL_TIMEOUT or 300)")
    ap.add_argument("--keep", type=Path, help="also write the executed notebooks here")
    args = ap.parse_args()
    paths = args.notebooks or sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1

    failures = []
    for p in paths:
        problems = committed_outputs(nbformat.read(p, as_version=4))
        if problems:
            failures.append(p.name)
            print(f"FAIL {p.name}: committed with outputs ({'; '.join(problems[:3])}) — "
                  "clear them (Jupyter: Edit > Clear All Outputs) before committing", file=sys.stderr)
    if failures:
        return 1

    with tempfile.TemporaryDirectory(prefix="analysis-nb-") as tmp:
        work = Path(tmp) / "nb"
        work.mkdir()
        shutil.copy2(HERE / "simout.py", work / "simout.py")
        # A kernelspec of our own, first on JUPYTER_PATH, so the kernel is this venv's Python
        # whatever kernels the user has installed; IPython profile kept out of the run too.
        spec = Path(tmp) / "jupyter" / "kernels" / "python3"
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (analysis venv)",
            "language": "python",
        }))
        os.environ["JUPYTER_PATH"] = str(Path(tmp) / "jupyter")
        os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
        os.environ["IPYTHONDIR"] = str(Path(tmp) / "ipython")
        os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")

        for p in paths:
            copy = work / p.name
            shutil.copy2(p, copy)
            nb = nbformat.read(copy, as_version=4)
            client = NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                                    resources={"metadata": {"path": str(work)}})
            t0 = time.monotonic()
            try:
                client.execute()
                status = "ok"
            except (CellExecutionError, CellTimeoutError) as e:
                status = "FAIL"
                failures.append(p.name)
                print(f"FAIL {p.name}:\n{e}", file=sys.stderr)
            except Exception as e:  # kernel died, could not start, ...
                status = "FAIL"
                failures.append(p.name)
                print(f"FAIL {p.name}: {type(e).__name__}: {e}", file=sys.stderr)
            print(f"{status:4} {p.name} ({time.monotonic() - t0:.1f} s)", flush=True)
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, args.keep / p.name)

    if failures:
        print(f"{len(failures)} notebook(s) failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    print(f"all {len(paths)} notebooks ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
