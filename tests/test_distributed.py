"""ES over two processes (``jax.distributed`` on CPU, gloo collectives) computes what one
process computes, and only process 0 writes checkpoints and results."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
from es_run import run

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_run_the_es_of_one_and_only_process_0_writes(tmp_path):
    port = free_port()
    workers = [
        subprocess.Popen(
            [sys.executable, str(HERE / "es_worker.py"), str(i), "2", str(port), str(tmp_path)],
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    for worker in workers:
        output, _ = worker.communicate(timeout=600)
        assert worker.returncode == 0, output[-3000:]
    first, second = (json.loads((tmp_path / f"process_{i}.json").read_text()) for i in range(2))
    assert (first["process_index"], second["process_index"]) == (0, 1)
    assert first["device_count"] == second["device_count"] == 4  # the population spans both processes
    assert first["fitness_mean"] == second["fitness_mean"] and first["mean"] == second["mean"]

    alone, stored = run(tmp_path / "alone" / "checkpoint", tmp_path / "alone" / "data", devices=jax.devices()[:1])
    np.testing.assert_allclose(first["fitness_mean"], alone.metrics["fitness_mean"], rtol=1e-6)
    np.testing.assert_allclose(first["mean"], stored.arrays["mean"], rtol=1e-5, atol=1e-7)
    assert np.ptp(first["fitness_mean"]) > 0 or np.ptp(first["mean"]) > 0  # the run moved

    # process 0 wrote its checkpoint and result; process 1 wrote neither
    assert first["stored_at"] and Path(first["stored_at"]).is_dir()
    assert (tmp_path / "process_0" / "checkpoint" / "checkpoint.json").exists()
    assert second["stored_at"] is None and not (tmp_path / "process_1").exists()
