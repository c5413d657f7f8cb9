"""Does a stored result still come from today's code? Recompute it and compare, file by file.

The figure check compares the committed figures with the committed data; nothing compared the
committed data with the code that claims to compute it. A change that reorders float sums (a
faster layout, say) alters what a long run computes without a revision, and a stored result
then no longer reproduces though every check passes. This module recomputes stored results
into a temporary store, with the same config, seed and inputs, and compares every file:
identical, or which column or array moved and by how much.

    python -m l2o4rl.repro.audit random_baseline lr_sweep/171057e19f13e073
    python -m l2o4rl.repro.audit --max-wall-s 30      # every stored cpu result that took <= 30 s

Results are bit-identical only on the stack and XLA flags they were computed with (``make
test`` lowers XLA's CPU optimisation level, which changes float rounding): run it as above,
or in a process of its own as ``tests/test_audit.py`` does.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..runtime import project_root
from .registry import EXPERIMENTS, get
from .store import PROVENANCE_FILE, MissingResultError, Result, ResultStore

COLUMNS = ["experiment", "key", "file", "status", "where", "max_abs_diff"]


def stored_results(root: Path, scale: str, targets: Sequence[str] = (), max_wall_s: float | None = None) -> list[Path]:
    """The stored results below ``root/scale`` that ``targets`` name (``experiment`` or
    ``experiment/key``; all when empty) and whose recorded wall time is at most ``max_wall_s``."""
    base = Path(root) / scale
    chosen = []
    # every experiment's directory by default, not the shipped optimizers beside them
    for target in targets or sorted(p.name for p in base.iterdir() if p.name in EXPERIMENTS):
        name, _, key = target.partition("/")
        get(name)  # an unknown experiment names the registered ones
        paths = [base / name / key] if key else sorted(base.glob(f"{name}/*/{PROVENANCE_FILE}"))
        for path in paths:
            path = path.parent if path.name == PROVENANCE_FILE else path
            if not (path / PROVENANCE_FILE).is_file():
                raise FileNotFoundError(f"no stored result at {path}")
            wall = json.loads((path / PROVENANCE_FILE).read_text()).get("wall_time_s") or 0.0
            if max_wall_s is None or wall <= max_wall_s:
                chosen.append(path)
    return chosen


class NotComparable(ValueError):
    """A stored result that cannot be recomputed like for like: stale (its inputs or revision
    changed), or its config no longer hashes to its key."""


def recompute(path: Path, data_dir: Path, into: Path) -> tuple[Result, Result]:
    """The stored result at ``path`` and the same computation run now into the store ``into``."""
    store = ResultStore(path.parents[2], path.parents[1].name)
    record = json.loads((path / PROVENANCE_FILE).read_text())  # the load below checks every file
    experiment = get(record["experiment"])
    config_class = type(experiment.configs[record["scale"]])
    if config_class.__name__ != record["config_class"]:
        now = config_class.__name__
        raise NotComparable(f"stored with {record['config_class']}, the experiment now takes {now}")
    cfg, seed = config_class.from_dict(record["config"]), record["seed"]  # JSON's lists become tuples there
    if store.path(experiment.name, cfg, seed) != path:
        raise NotComparable("its config no longer hashes to its key (a setting was added or renamed)")
    try:  # a stale result is refused before anything is computed
        stored = experiment.load_or_run_config(store, cfg, seed, data_dir, recompute="never")
    except MissingResultError as err:
        raise NotComparable(str(err)) from err
    fresh = experiment.load_or_run_config(ResultStore(into, record["scale"]), cfg, seed, data_dir, recompute="always")
    return stored, fresh


def compare(stored: Result, fresh: Result) -> pd.DataFrame:
    """One row per stored file: "identical", "differs" (the column or array that moved most,
    and by how much) or "timing" (a wall-clock table, which no rerun reproduces). :func:`audit`
    adds a "not compared" row, saying why, for a result it cannot recompute like for like."""
    name, key = stored.provenance["experiment"], stored.provenance["key"]
    timings = get(name).timings
    rows = []
    for file, digest in sorted(stored.provenance["files"].items()):
        stem = file.removesuffix(".csv")
        where, diff = "", np.nan
        if stem in timings:
            status = "timing"
        elif fresh.provenance["files"].get(file) == digest:
            status = "identical"
        elif file.endswith(".csv"):
            status, where, diff = "differs", *_largest_change(stored.tables[stem], fresh.tables.get(stem))
        else:
            status, where, diff = "differs", *_largest_change(stored.arrays, fresh.arrays)
        rows.append(dict(zip(COLUMNS, (name, key, file, status, where, diff))))
    return pd.DataFrame(rows, columns=COLUMNS)


def audit(paths: Sequence[Path], data_dir: Path) -> pd.DataFrame:
    """:func:`compare` for every stored result in ``paths``, each recomputed in a temporary store."""
    tables = []
    with tempfile.TemporaryDirectory(prefix="l2o4rl-audit-") as tmp:
        for path in paths:
            try:
                tables.append(compare(*recompute(path, data_dir, Path(tmp))))
            except NotComparable as err:
                row = (path.parent.name, path.name, "", "not compared", str(err), np.nan)
                tables.append(pd.DataFrame([dict(zip(COLUMNS, row))]))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=COLUMNS)


def _largest_change(old, new) -> tuple[str, float]:
    """The column (of a table) or array (of an ``arrays.npz``) that moved most, and how far."""
    if isinstance(old, pd.DataFrame):
        if new is None or list(old.columns) != list(new.columns) or len(old) != len(new):
            return "shape or columns", np.nan
        old, new = {c: old[c].to_numpy() for c in old}, {c: new[c].to_numpy() for c in new}
    changes = {}
    for name, before in old.items():
        after = new.get(name)
        if after is None or np.shape(after) != np.shape(before):
            return f"{name}: shape", np.nan
        if before.dtype.kind not in "fiub":
            changes[name] = 0.0 if np.array_equal(before, after) else np.inf
        else:
            changes[name] = float(np.nanmax(np.abs(before.astype(float) - after.astype(float)), initial=0.0))
    worst = max(changes, key=changes.get)
    return worst, changes[worst]


def main(argv: Sequence[str] | None = None) -> int:
    import l2o4rl.experiments  # noqa: F401  registers every experiment

    parser = argparse.ArgumentParser(prog="python -m l2o4rl.repro.audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help="experiment or experiment/key (default: every stored result)")
    parser.add_argument("--scale", default="cpu")
    parser.add_argument("--data-dir", type=Path, default=project_root() / "data")
    parser.add_argument("--max-wall-s", type=float, help="only stored results that took at most this long")
    args = parser.parse_args(argv)
    try:
        paths = stored_results(args.data_dir, args.scale, args.targets, args.max_wall_s)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"recomputing {len(paths)} stored result(s)", file=sys.stderr)
    report = audit(paths, args.data_dir)
    with pd.option_context("display.width", 200, "display.max_rows", None):
        print(report.to_string(index=False))
    return 0 if report["status"].isin(["identical", "timing"]).all() else 1


if __name__ == "__main__":
    sys.exit(main())
