import json
import os
import subprocess
import sys

import pytest

from l2o4rl.config import ConfigError
from l2o4rl.repro.notebooks import NotebookError, discover, drift, run_notebook, select, sync

HEADER = """# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""

ECHO_PARAMETERS = (
    HEADER
    + """
# %% tags=["parameters"]
scale = "cpu"
seed = 0
recompute = False
data_dir = "../data"
figures_dir = "../figures"

# %%
import json, pathlib
pathlib.Path(data_dir, "parameters.json").write_text(
    json.dumps(dict(scale=scale, seed=seed, recompute=recompute, data_dir=data_dir, figures_dir=figures_dir)))
"""
)

FAILING = (
    HEADER
    + """
# %% tags=["parameters"]
scale = "cpu"

# %%
x = 1

# %%
assert x == 2, "the claim does not hold"
"""
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A throwaway project root holding its own notebooks/."""
    (tmp_path / "notebooks").mkdir()
    monkeypatch.setenv("L2O4RL_ROOT", str(tmp_path))
    return tmp_path


def test_parameters_are_injected(project):
    notebook = project / "notebooks" / "01_echo.py"
    notebook.write_text(ECHO_PARAMETERS)
    data = project / "d"
    data.mkdir()
    out = run_notebook(
        notebook, scale="quick", seed=3, recompute=True, data_dir=data, figures_dir=project / "f", progress=False
    )
    params = json.loads((data / "parameters.json").read_text())
    assert params == {
        "scale": "quick",
        "seed": 3,
        "recompute": True,
        "data_dir": str(data.resolve()),
        "figures_dir": str((project / "f").resolve()),
    }
    assert out == project / "build" / "quick" / "01_echo.ipynb" and out.exists()


def test_failing_notebook_names_notebook_and_cell(project):
    notebook = project / "notebooks" / "02_fails.py"
    notebook.write_text(FAILING)
    with pytest.raises(
        NotebookError,
        match=r"notebook 02_fails failed in cell 3 \('assert x == 2, .*AssertionError: the claim does not hold",
    ):
        run_notebook(notebook, scale="quick", progress=False)


def test_cli_exits_nonzero_naming_the_failing_notebook(project):
    (project / "notebooks" / "02_fails.py").write_text(FAILING)
    env = {**os.environ, "L2O4RL_ROOT": str(project)}
    proc = subprocess.run(
        [sys.executable, "-m", "l2o4rl.repro.notebooks", "run", "--scale", "quick", "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "notebook 02_fails failed in cell 3" in proc.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "l2o4rl.repro.notebooks", "run", "07"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "unknown notebook '07'; valid choices: '02_fails'" in bad.stderr


def test_cli_stored_only_injects_recompute_never_and_streams_the_notebooks_stderr(project):
    (project / "notebooks" / "01_echo.py").write_text(
        ECHO_PARAMETERS + "\n# %%\nimport sys\nprint('exp [cpu, seed 0, key k]: loaded', file=sys.stderr)\n"
    )
    data = project / "d"
    data.mkdir()
    env = {**os.environ, "L2O4RL_ROOT": str(project)}
    run = [sys.executable, "-m", "l2o4rl.repro.notebooks", "run", "--no-progress", "--data-dir", str(data)]
    proc = subprocess.run(run + ["--stored-only"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((data / "parameters.json").read_text())["recompute"] == "never"
    assert "exp [cpu, seed 0, key k]: loaded" in proc.stderr  # while it runs, not only in the executed copy
    both = subprocess.run(run + ["--stored-only", "--recompute"], env=env, capture_output=True, text=True)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_notebook_without_parameters_cell_is_refused(project):
    notebook = project / "notebooks" / "03_plain.py"
    notebook.write_text(HEADER + "\n# %%\nx = 1\n")
    with pytest.raises(NotebookError, match="03_plain has no cell tagged 'parameters'"):
        run_notebook(notebook, scale="quick", progress=False)


def test_select_by_name_or_prefix(project):
    for name in ("00_a", "01_b"):
        (project / "notebooks" / f"{name}.py").write_text(HEADER)
    (project / "notebooks" / "helper.py").write_text("")  # not a notebook: no NN_ prefix
    available = discover(project / "notebooks")
    assert list(available) == ["00_a", "01_b"]
    assert select([], available) == ["00_a", "01_b"]
    assert select(["01", "00_a"], available) == ["01_b", "00_a"]
    with pytest.raises(ConfigError, match="unknown notebook 'b'"):
        select(["b"], available)


def test_drift_detection(project):
    notebook = project / "notebooks" / "01_echo.py"
    notebook.write_text(ECHO_PARAMETERS)
    assert drift(notebook) == "01_echo.ipynb is missing"
    sync(notebook)
    assert drift(notebook) is None
    notebook.write_text(ECHO_PARAMETERS + "\n# %%\nprint('new cell')\n")
    assert drift(notebook) == "01_echo.ipynb and 01_echo.py differ"
    sync(notebook)
    ipynb = json.loads(notebook.with_suffix(".ipynb").read_text())
    ipynb["cells"][-1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "new cell\n"}]
    notebook.with_suffix(".ipynb").write_text(json.dumps(ipynb))
    assert drift(notebook) == "01_echo.ipynb holds outputs; commit it without them"


def test_importing_the_package_changes_nothing_and_configure_jax_does_what_it_says(tmp_path):
    script = (
        "import os, l2o4rl, l2o4rl.tasks, jax, warnings\n"
        "assert 'XLA_FLAGS' not in os.environ and jax.config.jax_compilation_cache_dir is None\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    l2o4rl.configure_jax()\n"
        "assert 'after jax started its backends' in str(caught[0].message)\n"
        "assert jax.config.jax_compilation_cache_dir == os.environ['L2O4RL_CACHE_DIR']\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | {"L2O4RL_CACHE_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", script], check=True, env=env)
    fresh = (
        "import l2o4rl, os\nl2o4rl.configure_jax()\nimport jax\n"
        "assert jax.device_count() == len(os.sched_getaffinity(0)), jax.devices()\n"
        "import platform\n"
        "capped = '--xla_cpu_max_isa=AVX2' in os.environ['XLA_FLAGS']\n"
        "assert capped == (platform.machine().lower() in ('x86_64', 'amd64')), os.environ['XLA_FLAGS']\n"
    )
    subprocess.run([sys.executable, "-c", fresh], check=True, env=env)


@pytest.mark.filterwarnings("ignore:l2o4rl.configure_jax:UserWarning")  # jax has started in this process
def test_a_notebook_session_checks_its_parameters_and_loads_at_its_scale(tmp_path):
    from l2o4rl import experiments
    from l2o4rl.repro.notebooks import start
    from l2o4rl.repro.store import MissingResultError

    with pytest.raises(ConfigError, match="quick"):
        start("huge", 0, tmp_path, False)
    with pytest.raises(ConfigError, match="never"):
        start("quick", 0, tmp_path, "sometimes")
    session = start("quick", 3, tmp_path, "never")
    assert session.config("random_baseline") == experiments.get("random_baseline").config("quick")
    with pytest.raises(MissingResultError, match=r"random_baseline \[quick, seed 3\]"):
        session.load("random_baseline")
    with pytest.raises(MissingResultError, match=r"seed 5"):
        session.load("random_baseline", 5)
