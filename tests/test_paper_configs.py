"""Every ``paper``-scale configuration runs end to end on a CPU with its budgets shrunk and its
shapes kept (population, envs, batch sizes, networks, seeds), so that a GPU run cannot fail on
a shape, a dtype or a missing key that a CPU run could have shown.

Slow: the paper's shapes (2048 Brax envs, ES populations of 64 over 64 MinAtar envs) cost
minutes per experiment even for one update. Each run is a subprocess that dumps XLA's
compiled programs; the largest program's memory (XLA's buffer assignment: arguments,
outputs and temporaries) is what a device needs at full scale, except for outputs that grow
with the budget (per-update metrics, recorded gradients), and is written to
``build/paper_memory.csv``. A program larger than this host's memory is still compiled and
reported; the run then repeats with the meta-gradient's CPU agent groups.
"""

import csv
import os
import re
import subprocess
import sys

import pytest

from l2o4rl import experiments
from l2o4rl.repro.registry import BUDGETS
from l2o4rl.runtime import project_root

SMOKE_RUN = """
import shutil, sys
from pathlib import Path
import l2o4rl
l2o4rl.configure_jax()
import numpy as np
from l2o4rl import experiments
from l2o4rl.meta import gradient
name, data, piece, grouped = sys.argv[1], Path(sys.argv[2]), sys.argv[4], sys.argv[5] == "grouped"
if not grouped:  # every agent at once, as on a GPU: the memory reported is a GPU's
    gradient.CPU_AGENT_GROUP = 2**31
else:  # a host short of memory for the paper's agents also rematerialises each agent group
    gradient.REMAT_GROUPS = True
experiment = experiments.get(name)
overrides = experiment.smoke(experiment.config("paper"))
if piece != "all":  # one stored piece of the shrunk run
    overrides = {**overrides, **experiment.pieces(experiment.config("paper", **overrides))[int(piece)]}
if "trained_from" in overrides:  # the committed trained optimizers stand in for the paper's (same shapes)
    source = Path(sys.argv[3]) / overrides["trained_from"] / "trained_optimizers"
    shutil.copytree(source, data / overrides["trained_from"] / "trained_optimizers")
result = experiment.load_or_run("paper", 0, data, **overrides)
assert result.tables and all(len(table) for table in result.tables.values()), "an empty table"
for table_name, table in result.tables.items():
    assert not np.isinf(table.select_dtypes("number").to_numpy(dtype=float)).any(), f"infinities in {table_name}"
assert all(np.isfinite(a).all() for a in result.arrays.values() if a.dtype.kind == "f"), "non-finite arrays"
"""
TOTAL = re.compile(r"Total bytes: (\d+)")
HOST_MEMORY = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def test_every_experiment_shrinks_only_budgets_of_its_paper_config():
    for name, experiment in experiments.EXPERIMENTS.items():
        assert experiment.smoke is not None, f"{name} has no smoke run of its paper config"
        overrides = experiment.smoke(experiment.config("paper"))
        assert set(overrides) <= BUDGETS, f"{name}'s smoke run changes {sorted(set(overrides) - BUDGETS)}, not budgets"
        experiment.config("paper", **overrides)  # validates


def test_a_smoke_budget_lets_every_fixed_length_episode_end():
    """Freeway's episodes all last 2,500 steps: a one-update smoke run would report no return,
    and the ES would have no Adam return to normalise its fitness by (the smoke run found it)."""
    from l2o4rl.tasks import get_task

    checked = 0
    for experiment in experiments.EXPERIMENTS.values():
        cfg = experiment.config("paper")
        budgets = experiment.smoke(cfg).get("total_timesteps")
        if not hasattr(cfg, "tasks") or not isinstance(budgets, tuple):
            continue
        for task, steps in zip(cfg.tasks, budgets):
            episode = get_task(task).episode_steps
            if episode:
                shape = get_task(task).at(**get_task(task).scaled(getattr(cfg, "a2c_envs", None)))
                assert steps // shape.num_envs >= episode, (experiment.name, task, steps)
                checked += 1
    assert checked >= 2  # minatar_adam and open_es_single run Freeway at paper scale


def largest_program(dump_dir) -> tuple[str, int]:
    """The XLA module with the largest buffer assignment in ``dump_dir``, and its bytes."""
    sizes = {}
    for report in dump_dir.glob("*memory-usage-report.txt"):
        match = TOTAL.search(report.read_text())
        if match:
            sizes[report.name.split(".")[1]] = max(int(match.group(1)), sizes.get(report.name.split(".")[1], 0))
    module = max(sizes, key=sizes.get)
    return module, sizes[module]


def smoke_runs():
    """Every experiment, or each piece of one stored in pieces: a shrunk run of brax_generalization's
    four Brax tasks takes about 3 hours on 2 cores, more than a working session has beside other
    work, and its pieces can pass one at a time."""
    for name, experiment in sorted(experiments.EXPERIMENTS.items()):
        if experiment.pieces is None:
            yield pytest.param(name, "all", id=name)
            continue
        cfg = experiment.config("paper", **experiment.smoke(experiment.config("paper")))
        count = len(experiment.pieces(cfg))
        yield from (pytest.param(name, str(i), id=f"{name}-piece{i + 1}of{count}") for i in range(count))


def smoke_run(name, piece, where, grouped) -> subprocess.CompletedProcess:
    """The shrunk run in a subprocess with an empty compile cache, so that every program compiles
    and XLA dumps its memory report to ``where / "xla"``."""
    env = {
        **os.environ,
        "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} --xla_dump_to={where / 'xla'}".strip(),
        "L2O4RL_CACHE_DIR": str(where / "cache"),
    }
    args = [name, str(where / "data"), str(project_root() / "data"), piece, "grouped" if grouped else "all"]
    return subprocess.run([sys.executable, "-c", SMOKE_RUN, *args], env=env, capture_output=True, text=True)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "piece"), smoke_runs())
def test_the_paper_config_runs_end_to_end_with_its_budgets_shrunk(name, piece, tmp_path):
    experiment = experiments.get(name)
    if experiment.requires and (missing := experiment.requires(experiment.config("paper"))):
        pytest.skip(f"{name} needs files the project does not ship, absent here: {missing}")
    all_at_once = smoke_run(name, piece, tmp_path / "all", grouped=False)
    # Optim4RL meta-trained on big_dense_long by 512 agents at once needs 64 GiB: a GPU's memory,
    # not this host's. Its compiled program still says what it needs; the run then repeats in the
    # CPU's agent groups to check everything else end to end.
    too_big = all_at_once.returncode != 0 and "RESOURCE_EXHAUSTED" in all_at_once.stderr
    if too_big:  # before the long rerun: out of memory below this host's is a blow-up, not a GPU's need
        _, size = largest_program(tmp_path / "all" / "xla")
        assert size > HOST_MEMORY, f"out of memory below this host's memory: {all_at_once.stderr[-2000:]}"
    run = smoke_run(name, piece, tmp_path / "grouped", grouped=True) if too_big else all_at_once
    assert run.returncode == 0, run.stderr[-4000:]
    module, size = largest_program(tmp_path / "all" / "xla")
    report = project_root() / "build" / "paper_memory.csv"
    report.parent.mkdir(exist_ok=True)
    rows = [r for r in csv.DictReader(report.open())] if report.exists() else []
    earlier = [r for r in rows if r["experiment"] == name and float(r["mib"]) * 2**20 > size]
    if piece == "all" or not earlier:  # an experiment in pieces reports its largest piece's program
        rows = [r for r in rows if r["experiment"] != name] + [
            {"experiment": name, "largest_program": module, "mib": f"{size / 2**20:.1f}"}
        ]
    with report.open("w", newline="") as f:
        writer = csv.DictWriter(f, ["experiment", "largest_program", "mib"])
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: r["experiment"]))
    print(f"{name}: largest compiled program {module}, {size / 2**20:.1f} MiB")
    assert size > 0
