"""A run's final return follows one rule, whether computed from an array (sweeps, recorded
runs) or from a tidy table (every notebook)."""

import numpy as np
import pandas as pd
import pytest

from l2o4rl.analysis.curves import final_mean, final_values, final_window, tidy_metrics


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
