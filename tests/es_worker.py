"""One process of the two-process ES run in tests/test_distributed.py (not a test itself).

    python tests/es_worker.py PROCESS_ID NUM_PROCESSES PORT OUT_DIR

Joins a ``jax.distributed`` CPU cluster (gloo collectives, 2 local devices each), meta-trains
OPEN by ES with checkpoints in ``OUT_DIR/process_<id>/checkpoint`` and stores the result in
``OUT_DIR/process_<id>/data`` (each process its own folders, as hosts without a shared
filesystem would have), then writes what it computed to ``OUT_DIR/process_<id>.json``.
"""

import json
import os
import sys
from pathlib import Path

process_id, num_processes, port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"

import jax  # noqa: E402

jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(coordinator_address=f"localhost:{port}", num_processes=num_processes, process_id=process_id)

from es_run import run  # noqa: E402  (beside this file)

mine = out / f"process_{process_id}"
result, stored = run(mine / "checkpoint", mine / "data")
record = {
    "process_index": jax.process_index(),
    "device_count": jax.device_count(),
    "fitness_mean": result.metrics["fitness_mean"].tolist(),
    "mean": stored.arrays["mean"].tolist(),
    "stored_at": str(stored.path) if stored.path else None,
}
(out / f"process_{process_id}.json").write_text(json.dumps(record))
