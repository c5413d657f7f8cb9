"""Results store: expensive results saved under ``data/<scale>/<experiment>/<key>/``.

A result is a set of tidy tables (CSV), arrays (one ``.npz``) and a JSON provenance
record. The key is a hash of the config and seed, so a changed config never picks up a
stale result. The provenance lists every file with its SHA-256; loading verifies them,
so a truncated or edited file raises :class:`CorruptResultError` instead of drawing a
wrong figure. A result directory is written whole under a temporary name and renamed
into place, so readers never see half a result.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import Config, check_choice, check_scale
from ..runtime import provenance, writes_files

PROVENANCE_FILE = "provenance.json"
ARRAYS_FILE = "arrays.npz"


# What to do about a stored result: "missing" computes it when it is missing or stale (the
# default, also spelled False), "always" recomputes it (True), "never" refuses to compute
# (the figure check: regenerate figures from the committed results only).
RECOMPUTE = ("missing", "always", "never")


class CorruptResultError(RuntimeError):
    """A stored result is incomplete or does not match its recorded checksums."""


class MissingResultError(RuntimeError):
    """``recompute="never"`` and the result is missing or stale."""


def recompute_policy(recompute: bool | str) -> str:
    """One of :data:`RECOMPUTE`; the booleans of the notebooks' ``recompute`` parameter map to
    "always" (True) and "missing" (False)."""
    if isinstance(recompute, bool):
        return "always" if recompute else "missing"
    check_choice("recompute", recompute, RECOMPUTE)
    return recompute


@dataclass
class Result:
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def describe(self) -> str:
        """Where the result lives and what it cost: the line each notebook prints."""
        device = self.provenance["device"]["device_kind"]
        where = f"{len(self.provenance['pieces'])} pieces in {self.path}" if "pieces" in self.provenance else self.path
        return f"result: {where}  ({self.provenance['wall_time_s']:.0f} s on {device})"

    @classmethod
    def merge(cls, pieces: list[Result]) -> Result:
        """One result from stored pieces of one experiment: tables concatenated, arrays joined
        (a name may appear in one piece only), each piece's provenance kept."""
        tables = {
            name: pd.concat([p.tables[name] for p in pieces if name in p.tables], ignore_index=True)
            for name in dict.fromkeys(n for p in pieces for n in p.tables)
        }
        arrays: dict[str, np.ndarray] = {}
        for piece in pieces:
            clash = set(arrays) & set(piece.arrays)
            if clash:
                raise ValueError(f"pieces of one result both store the array(s) {sorted(clash)}")
            arrays.update(piece.arrays)
        provenance = {
            "pieces": [p.provenance for p in pieces],
            "device": pieces[0].provenance["device"],
            "wall_time_s": sum(p.provenance["wall_time_s"] or 0.0 for p in pieces),
        }
        inputs = [p.provenance.get("inputs") for p in pieces]
        if inputs[0] is not None and all(i == inputs[0] for i in inputs):  # the pieces' shared inputs, e.g. checksums
            provenance["inputs"] = inputs[0]
        return cls(tables=tables, arrays=arrays, provenance=provenance, path=pieces[0].path.parent)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def result_key(config: Config, seed: int) -> str:
    return hashlib.sha256(f"{config.key()}:{int(seed)}".encode()).hexdigest()[:16]


class ResultStore:
    """Reads and writes results below ``root`` (normally the project's ``data/``)."""

    def __init__(self, root: str | os.PathLike, scale: str):
        self.root = Path(root)
        self.scale = check_scale(scale)

    def path(self, experiment: str, config: Config, seed: int) -> Path:
        return self.root / self.scale / experiment / result_key(config, seed)

    def save(
        self,
        experiment: str,
        config: Config,
        seed: int,
        tables: Mapping[str, pd.DataFrame],
        arrays: Mapping[str, np.ndarray] | None = None,
        wall_time_s: float | None = None,
        **extra: Any,
    ) -> Result:
        final = self.path(experiment, config, seed)
        described = {
            "experiment": experiment,
            "scale": self.scale,
            "seed": int(seed),
            "key": final.name,
            "config_class": type(config).__name__,
            "config": config.to_dict(),
            "wall_time_s": wall_time_s,
            **extra,
        }
        arrays = {k: np.asarray(v) for k, v in (arrays or {}).items()}
        if not writes_files():  # several hosts: process 0 stores the result every process computed
            return Result(tables=dict(tables), arrays=arrays, provenance=provenance(**described))
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
        try:
            files: dict[str, str] = {}
            for name, table in tables.items():
                table.to_csv(staging / f"{name}.csv", index=False)
                files[f"{name}.csv"] = file_sha256(staging / f"{name}.csv")
            if arrays:
                buffer = io.BytesIO()
                np.savez(buffer, **arrays)
                (staging / ARRAYS_FILE).write_bytes(buffer.getvalue())
                files[ARRAYS_FILE] = file_sha256(staging / ARRAYS_FILE)
            record = provenance(**described, tables={name: list(t.columns) for name, t in tables.items()}, files=files)
            (staging / PROVENANCE_FILE).write_text(json.dumps(record, indent=2, sort_keys=True, default=str))
            if final.exists():  # recompute: move the old result aside, then swap in the new one
                trash = final.with_name(f".{final.name}.old-{os.getpid()}")
                os.replace(final, trash)
                os.replace(staging, final)
                shutil.rmtree(trash)
            else:
                os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return self.read(final)

    def load(self, experiment: str, config: Config, seed: int) -> Result | None:
        """The stored result for this config and seed, or None when there is none."""
        path = self.path(experiment, config, seed)
        return self.read(path) if path.exists() else None

    def read(self, path: Path) -> Result:
        """The result stored at ``path``, its files checked against their recorded checksums."""
        hint = "delete it or rerun with recompute=True"
        try:
            record = json.loads((path / PROVENANCE_FILE).read_text())
            files = record["files"]
        except (OSError, ValueError, KeyError) as err:
            raise CorruptResultError(f"{path}: missing or unreadable {PROVENANCE_FILE} ({err}); {hint}") from err
        for name, digest in files.items():
            file = path / name
            if not file.exists():
                raise CorruptResultError(f"{file} is missing; {hint}")
            if file_sha256(file) != digest:
                raise CorruptResultError(f"{file} does not match its recorded checksum (truncated or edited); {hint}")
        tables = {name.removesuffix(".csv"): pd.read_csv(path / name) for name in files if name.endswith(".csv")}
        arrays = {}
        if ARRAYS_FILE in files:
            with np.load(path / ARRAYS_FILE) as npz:
                arrays = {k: npz[k] for k in npz.files}
        return Result(tables=tables, arrays=arrays, provenance=record, path=path)


def cached(
    store: ResultStore,
    experiment: str,
    config: Config,
    seed: int,
    compute: Callable[[], tuple[Mapping[str, pd.DataFrame], Mapping[str, np.ndarray]]],
    recompute: bool | str = False,
    inputs: Mapping[str, str] | None = None,
    announce: Callable[[str, Result | None], None] | None = None,
) -> Result:
    """The stored result when its key matches, else ``compute()`` (timed) saved and returned.

    ``compute`` returns ``(tables, arrays)``. ``inputs`` describes what the result was
    computed from beyond its config (e.g. input files' checksums): a stored result with a
    different record is stale and recomputed. ``recompute`` is a policy of :data:`RECOMPUTE`.
    ``announce(what, stored or None)`` is told "loaded", or "computing" before computing.
    """
    policy = recompute_policy(recompute)
    record = dict(inputs) if inputs is not None else None
    stored = store.load(experiment, config, seed)
    current = stored is not None and stored.provenance.get("inputs") == record
    if policy != "always" and current:
        if announce is not None:
            announce("loaded", stored)
        return stored
    if policy == "never":
        where = store.path(experiment, config, seed)
        if stored is None:
            why = "is missing"
        else:
            old, new = stored.provenance.get("inputs") or {}, record or {}
            why = f"is stale (its {sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))} differ)"
        raise MissingResultError(
            f"{experiment} [{store.scale}, seed {seed}]: the stored result {where} {why}; "
            "recompute='never' refuses to compute it (run `make reproduce` to compute it)"
        )
    if announce is not None:  # before computing, with the stored (stale or replaced) result if any
        announce("computing", stored)
    start = time.perf_counter()
    tables, arrays = compute()
    extra = {"inputs": record} if record is not None else {}
    return store.save(experiment, config, seed, tables, arrays, wall_time_s=time.perf_counter() - start, **extra)
