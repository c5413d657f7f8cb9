"""The outer loop shared by meta-gradient and ES meta-training: chunks, progress, checkpoints.

An outer step is a pure ``step(state) -> (state, metrics)``. The loop jits ``lax.scan``
of it over ``chunk`` steps, shows a progress bar with the latest metrics, and after each
chunk writes a checkpoint (state, metrics so far, steps done). Started again with the
same ``checkpoint_dir`` it resumes from the last checkpoint, so a killed run ends with
the same state as one that was never interrupted.

A metric named ``nonfinite`` (1 where a step met NaN or inf and skipped its update) is
summed, shown on the bar and reported with a warning at the end.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import jax
import numpy as np

from ..runtime import project_root, writes_files

State = TypeVar("State")
StepFn = Callable[[Any], tuple[Any, dict[str, jax.Array]]]

STATE_FILE, METRICS_FILE, META_FILE = "state.npz", "metrics.npz", "checkpoint.json"
NONFINITE = "nonfinite"


@contextlib.contextmanager
def run_checkpoints(*parts: str) -> Iterator[Path]:
    """A checkpoint directory, ``.cache/<parts...>``, for one meta-training run while it lasts,
    so that a killed notebook resumes the run; removed once the run is done (the result store
    keeps the outcome), with its parent once empty. In a run over several hosts process 0
    wrote it and removes it."""
    directory = project_root().joinpath(".cache", *parts)
    yield directory
    if writes_files():
        shutil.rmtree(directory, ignore_errors=True)
        with contextlib.suppress(OSError):
            directory.parent.rmdir()


class CheckpointMismatchError(RuntimeError):
    """A checkpoint directory holds a run with another fingerprint or state structure."""


def save_checkpoint(
    directory: Path, state: Any, metrics: dict[str, np.ndarray], steps_done: int, fingerprint: str
) -> None:
    """Write a checkpoint whole under a temporary name and swap it in, so a kill never leaves half a one."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    leaves = jax.tree.leaves(jax.device_get(state))
    is_key = [jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key) for leaf in leaves]
    arrays = {
        f"leaf_{i}": np.asarray(jax.random.key_data(x) if k else x) for i, (x, k) in enumerate(zip(leaves, is_key))
    }
    np.savez(staging / STATE_FILE, **arrays)
    np.savez(staging / METRICS_FILE, **metrics)
    meta = {"steps_done": steps_done, "fingerprint": fingerprint, "num_leaves": len(leaves), "key_leaves": is_key}
    (staging / META_FILE).write_text(json.dumps(meta))
    previous = directory.with_name(f".{directory.name}.old")
    if directory.exists():
        directory.rename(previous)
    staging.rename(directory)
    shutil.rmtree(previous, ignore_errors=True)


def load_checkpoint(directory: Path, template: Any, fingerprint: str) -> tuple[Any, dict[str, np.ndarray], int]:
    """``(state, metrics, steps_done)`` from ``directory``, shaped like ``template``."""
    meta = json.loads((directory / META_FILE).read_text())
    leaves, treedef = jax.tree.flatten(template)
    if meta["fingerprint"] != fingerprint:
        raise CheckpointMismatchError(
            f"checkpoint in {directory} belongs to another run (fingerprint {meta['fingerprint']!r}, "
            f"this run {fingerprint!r}); use another checkpoint_dir or delete it"
        )
    if meta["num_leaves"] != len(leaves):
        raise CheckpointMismatchError(
            f"checkpoint in {directory} has {meta['num_leaves']} state leaves, this run {len(leaves)}"
        )
    with np.load(directory / STATE_FILE) as stored:
        restored = [
            jax.random.wrap_key_data(stored[f"leaf_{i}"], impl=jax.random.key_impl(t))
            if is_key
            else jax.numpy.asarray(stored[f"leaf_{i}"])
            for i, (t, is_key) in enumerate(zip(leaves, meta["key_leaves"]))
        ]
    with np.load(directory / METRICS_FILE) as stored:
        metrics = {k: stored[k] for k in stored.files}
    return jax.tree.unflatten(treedef, restored), metrics, int(meta["steps_done"])


@functools.lru_cache(maxsize=16)
def _chunk_runner(step: StepFn) -> Callable:
    """``step`` scanned over a static number of steps, jitted once per step function (reruns reuse it)."""

    def scan_steps(state, length):
        return jax.lax.scan(lambda s, _: step(s), state, None, length=length)

    return jax.jit(scan_steps, static_argnums=1)


def run_outer_loop(
    step: StepFn,
    state: State,
    num_steps: int,
    *,
    chunk: int = 10,
    checkpoint_dir: str | os.PathLike | None = None,
    fingerprint: str = "",
    desc: str = "meta-training",
    show: Sequence[str] = (),
    progress: bool = True,
) -> tuple[State, dict[str, np.ndarray]]:
    """Run ``num_steps`` outer steps; returns the final state and each metric stacked over steps.

    ``fingerprint`` (e.g. the config key) guards against resuming another run's
    checkpoint; ``show`` names the metrics printed on the progress bar.
    """
    from tqdm import tqdm

    if chunk < 1 or num_steps < 0:
        raise ValueError(
            f"run_outer_loop needs chunk >= 1 and num_steps >= 0 (got chunk={chunk}, num_steps={num_steps})"
        )
    directory = Path(checkpoint_dir) if checkpoint_dir is not None else None
    metrics: dict[str, np.ndarray] = {}
    done = 0
    if directory is not None and (directory / META_FILE).exists():
        state, metrics, done = load_checkpoint(directory, state, fingerprint)

    run_chunk = _chunk_runner(step)
    with tqdm(total=num_steps, initial=done, desc=desc, disable=not progress, unit="step") as bar:
        while done < num_steps:
            length = min(chunk, num_steps - done)
            state, new = jax.device_get(run_chunk(state, length))
            metrics = {k: np.concatenate([metrics[k], v]) if k in metrics else np.asarray(v) for k, v in new.items()}
            done += length
            if directory is not None and writes_files():  # several hosts: process 0 writes for all
                save_checkpoint(directory, state, metrics, done, fingerprint)
            bar.update(length)
            shown = {k: f"{float(np.mean(metrics[k][-length:])):.3g}" for k in show if k in metrics}
            if NONFINITE in metrics:
                shown[NONFINITE] = int(metrics[NONFINITE].sum())
            bar.set_postfix(shown)
    skipped = int(metrics[NONFINITE].sum()) if NONFINITE in metrics else 0
    if skipped:
        warnings.warn(
            f"{desc}: {skipped} of {num_steps} outer steps met NaN/inf and skipped their update", stacklevel=2
        )
    return state, metrics
