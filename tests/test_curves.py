"""A run's final return follows one rule, whether computed from an array (sweeps, recorded
runs) or from a tidy table (every notebook)."""

import numpy as np
import pandas as pd
import pytest

from l2o4rl.analysis.curves import final_mean, final_values, final_window, thin, tidy_metrics


@pytest.mark.parametrize(
    ("updates", "window"), [(1, 1), (4, 1), (5, 1), (15, 2), (25, 3), (32, 3), (61, 6), (312, 31), (937, 94)]
)
def test_the_final_window_is_a_tenth_of_the_updates_rounded_half_up(updates, window):
    assert final_window(updates) == window


def test_final_values_of_a_table_equal_final_mean_of_its_array():
    rng = np.random.default_rng(0)
    short, long = rng.normal(size=(3, 25)), rng.normal(size=(2, 937))
    short[1, -1] = np.nan  # an update in which no episode ended
    table = pd.concat(
        [
            tidy_metrics({"episode_return": short}, 10, task="short"),
            tidy_metrics({"episode_return": long}, 10, task="long"),
        ]
    )
    final = final_values(table, ["task"]).set_index(["task", "seed"])["value"]
    np.testing.assert_allclose(final.loc["short"].to_numpy(), final_mean(short))
    np.testing.assert_allclose(final.loc["long"].to_numpy(), final_mean(long))
    # the window: the last 3 of 25 and the last 94 of 937 updates, NaN left out
    assert final.loc[("short", 1)] == pytest.approx(np.mean(short[1, -3:-1]))
    assert final.loc[("long", 0)] == pytest.approx(long[0, -94:].mean())


def test_thin_keeps_block_means_labelled_by_their_last_update_even_for_a_nan_label():
    runs = [(0.1, 1_000), (np.nan, 1_000), (0.2, 30)]  # (a candidate label, updates); NaN: not swept
    frame = pd.concat(
        [
            pd.DataFrame({"rate": rate, "seed": 0, "metric": "r", "update": np.arange(n)}).assign(
                env_steps=lambda f: (f["update"] + 1) * 10, value=lambda f: f["update"].astype(float)
            )
            for rate, n in runs
        ]
    )
    thinned = thin(frame, 100)
    sizes = thinned.groupby("rate", dropna=False).size()
    assert sizes.loc[0.1] == 100 and sizes.loc[np.nan] == 100 and sizes.loc[0.2] == 30  # short runs are kept
    first = thinned[thinned["rate"].isna()].iloc[0]
    assert (first["update"], first["env_steps"], first["value"]) == (9, 100, 4.5)  # updates 0-9
