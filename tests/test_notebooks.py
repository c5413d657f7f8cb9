"""Every notebook: its .py/.ipynb pair is in sync, and it runs at quick scale writing what it promises."""

import json

import matplotlib.image
import pytest

from l2o4rl.experiments import EXPERIMENTS, figures_of_notebook
from l2o4rl.repro.notebooks import discover, drift, run_notebook

NOTEBOOKS = discover()


def test_there_are_notebooks():
    assert "00_overview" in NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_pair_in_sync(name):
    assert drift(NOTEBOOKS[name]) is None, "run `make sync` and commit the .ipynb"


def missing_inputs(name: str) -> list[str]:
    """Files that ``name``'s experiments need at quick scale, do not ship (see README) and this machine lacks."""
    experiments = [e for e in EXPERIMENTS.values() if e.notebook == name and e.requires]
    return sorted({path for e in experiments for path in e.requires(e.config("quick"))})


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_runs_at_quick_scale(name, tmp_path):
    if missing := missing_inputs(name):
        pytest.skip(f"{name} needs files the project does not ship, absent here: {missing}")
    promised = figures_of_notebook(name)
    assert promised, f"{name} promises no figure in the experiment registry"
    data, figures = tmp_path / "data", tmp_path / "figures"
    run_notebook(
        NOTEBOOKS[name], scale="quick", data_dir=data, figures_dir=figures, build_dir=tmp_path / "build", progress=False
    )
    written = sorted(p.name for p in figures.iterdir())
    assert written == sorted(f"{f}.{ext}" for f in promised for ext in ("pdf", "png"))
    for figure in promised:
        image = matplotlib.image.imread(figures / f"{figure}.png")
        assert image.shape[0] > 100 and image.shape[1] > 100 and image.std() > 0, f"{figure}.png is blank"
        assert (figures / f"{figure}.pdf").stat().st_size > 1000
    records = [json.loads(p.read_text()) for p in data.glob("quick/*/*/provenance.json")]
    assert records and all(r["scale"] == "quick" for r in records)
