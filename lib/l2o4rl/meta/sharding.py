"""Splitting an ES population over every device: one code path for 1 CPU, 1 GPU or 8 GPUs.

The population axis is laid over a one-axis mesh of devices; each device trains its equal
slice of members (vmapped) and the fitness comes back as one array. On CPU,
:func:`l2o4rl.runtime.configure_jax` exposes one XLA device per core, so a population also
spreads over the cores.

Several hosts: call ``jax.distributed.initialize()`` on every host before building the
mesh (``jax.devices()`` then lists every host's devices) and run the same program on each;
the ES state is replicated (every host computes the same ask and tell), only the member
evaluations are split, and only process 0 writes checkpoints and results
(:func:`l2o4rl.runtime.writes_files`; ``tests/test_distributed.py`` runs two processes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, PartitionSpec

AXIS = "population"


def population_mesh(population_size: int, devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A mesh over ``devices`` (default: all) that splits ``population_size`` members evenly."""
    devices = list(jax.devices() if devices is None else devices)
    if population_size % len(devices):
        raise ValueError(
            f"population_size = {population_size} does not split evenly over {len(devices)} "
            f"{devices[0].platform} devices; use a multiple of {len(devices)} or pass fewer devices"
        )
    return Mesh(np.asarray(devices), (AXIS,))


def over_population(fn: Callable, mesh: Mesh | None) -> Callable:
    """``fn`` vmapped over the leading axis of every argument, each device taking its slice.

    Without a mesh (or a one-device mesh) this is plain ``jax.vmap``.
    """
    batched = jax.vmap(fn)
    if mesh is None or mesh.size == 1:
        return batched
    spec = PartitionSpec(AXIS)
    return jax.shard_map(batched, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False)
