"""Process-wide JAX setup and provenance of a run.

Importing :mod:`l2o4rl` calls :func:`configure_jax` once: a persistent compilation
cache (so repeated runs and CI skip recompiling) and, on CPU, one XLA host device per
core so that work sharded over devices uses every core.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
TRACKED_PACKAGES = (
    "jax",
    "jaxlib",
    "flax",
    "optax",
    "evosax",
    "gymnax",
    "brax",
    "craftax",
    "numpy",
    "pandas",
    "matplotlib",
    "seaborn",
    "papermill",
    "jupytext",
)


def project_root() -> Path:
    """The checkout holding ``notebooks/``: ``$L2O4RL_ROOT``, else the source tree, else the cwd."""
    if "L2O4RL_ROOT" in os.environ:
        return Path(os.environ["L2O4RL_ROOT"]).resolve()
    source_root = PACKAGE_DIR.parents[1]  # lib/l2o4rl -> repo root (editable install)
    if (source_root / "notebooks").is_dir():
        return source_root
    return Path.cwd().resolve()


def anchors_dir() -> Path:
    """The OPEN and Optim4RL authors' published data: ``$L2O4RL_ANCHORS``, else
    ``shared/anchors`` beside the checkout (it may be absent: what reads it then skips)."""
    if "L2O4RL_ANCHORS" in os.environ:
        return Path(os.environ["L2O4RL_ANCHORS"]).resolve()
    return project_root().parent / "shared" / "anchors"


def _jax_backends_started() -> bool:
    from jax._src import xla_bridge  # no public accessor; XLA_FLAGS are read when backends start

    return xla_bridge.backends_are_initialized()


# XLA compiles for the host's widest vector instructions, and AVX-512 sums floats in another
# order than AVX2: on an AVX-512 host the stored results, computed on AVX2 hosts, reproduced only
# to rounding (lr_sweep's Catch piece: 0.004 apart) until capped, then bit for bit.
X86_MAX_ISA = "AVX2"


def _set_xla_flags() -> None:
    """One XLA host device per core, and on x86 XLA's code capped at AVX2 (:data:`X86_MAX_ISA`),
    unless the user's XLA_FLAGS say otherwise.

    Must happen before jax starts its backends (gymnax, and so most of this package, starts
    them on import); later, a warning says it changed nothing.
    """
    if "jax" in sys.modules and _jax_backends_started():
        warnings.warn(
            "l2o4rl.configure_jax() ran after jax started its backends: XLA_FLAGS left as they are (call "
            "it before importing l2o4rl's submodules or gymnax for one CPU device per core)",
            stacklevel=3,
        )
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        flags = f"{flags} --xla_force_host_platform_device_count={cores}"
    if platform.machine().lower() in ("x86_64", "amd64") and "xla_cpu_max_isa" not in flags:
        flags = f"{flags} --xla_cpu_max_isa={X86_MAX_ISA}"
    os.environ["XLA_FLAGS"] = flags.strip()


def configure_jax() -> None:
    """Set XLA's flags (:func:`_set_xla_flags`) and enable the persistent compilation cache in
    ``$L2O4RL_CACHE_DIR`` (default ``.cache/jax``)."""
    _set_xla_flags()
    import jax

    cache_dir = os.environ.get("L2O4RL_CACHE_DIR", str(project_root() / ".cache" / "jax"))
    jax.config.update("jax_compilation_cache_dir", cache_dir)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def writes_files() -> bool:
    """Whether this process writes results, checkpoints and shipped optimizers. In a run over
    several hosts (``jax.distributed.initialize``) every process computes the same replicated
    state, and only process 0 writes, so that hosts sharing a filesystem do not race."""
    import jax

    return jax.process_index() == 0


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def device_description() -> dict[str, Any]:
    import jax

    devices = jax.devices()
    return {
        "backend": jax.default_backend(),
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
        "process_count": jax.process_count(),
        "host": platform.node(),
        "cpu_count": os.cpu_count(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),  # e.g. the ISA cap, which float rounding depends on
        "machine": platform.machine(),
    }


def git_commit(root: Path | None = None) -> str:
    """HEAD's hash, with ``+dirty`` when the tree has uncommitted changes; 'unknown' outside git."""
    root = root or project_root()
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def provenance(**fields: Any) -> dict[str, Any]:
    """Everything needed to tell where a result came from, plus the caller's fields."""
    return {
        **fields,
        "versions": package_versions(),
        "device": device_description(),
        "git_commit": git_commit(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``fn()``'s value (blocked until ready) and the seconds it took."""
    import jax  # not at the top: configure_jax must run before jax starts

    start = time.perf_counter()
    value = jax.block_until_ready(fn())
    return value, time.perf_counter() - start
