"""The committed figures are what the notebooks draw from the committed ``cpu`` results.

Each notebook runs at ``cpu`` scale computing nothing (a missing or stale stored result fails
it), its ``cpu`` assertions included, and every PNG it draws is compared with the committed
one. An intended change: ``make reproduce``, look at the figures, commit them (README,
"Figures in CI").
"""

import hashlib
import json
import shutil

import pandas as pd
import pytest

from l2o4rl.repro.notebooks import FIGURE_TOLERANCE, check_figures, discover
from l2o4rl.runtime import project_root

NOTEBOOKS = discover()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_committed_results_draw_the_committed_figures(name, tmp_path):
    problems = check_figures(name, tmp_path)
    assert not problems, "\n".join(problems) + "\nintended? `make reproduce`, look at the figures, commit them"


def test_the_figure_check_names_the_figure_behind_a_changed_stored_number(tmp_path):
    """One of 14,429 random-policy CartPole episodes given a return of 400 (the stored longest is
    175): the histogram's range stretches, the mean barely moves (the cpu assertions still
    hold), and the check names that figure."""
    data = tmp_path / "data"
    shutil.copytree(project_root() / "data" / "cpu" / "random_baseline", data / "cpu" / "random_baseline")
    (result,) = (data / "cpu" / "random_baseline").iterdir()
    episodes = pd.read_csv(result / "episodes.csv")
    row = episodes.index[episodes["env"] == "CartPole-v1"][0]
    assert episodes.loc[episodes["env"] == "CartPole-v1", "return"].max() < 400
    episodes.loc[row, "return"] = 400.0
    episodes.to_csv(result / "episodes.csv", index=False)
    record = json.loads((result / "provenance.json").read_text())
    record["files"]["episodes.csv"] = hashlib.sha256((result / "episodes.csv").read_bytes()).hexdigest()
    (result / "provenance.json").write_text(json.dumps(record))

    problems = check_figures("00_overview", tmp_path / "out", data_dir=data)
    assert len(problems) == 1 and problems[0].startswith("overview_random_returns: RMS difference"), problems
    rms = float(problems[0].split("RMS difference ")[1].split()[0])
    assert rms > 2 * FIGURE_TOLERANCE  # the tolerance sits well below one moved bar
    for image in (
        "overview_random_returns-expected.png",
        "overview_random_returns.png",
        "overview_random_returns-failed-diff.png",
    ):
        assert (tmp_path / "out" / "00_overview" / image).exists()
