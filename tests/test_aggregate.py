"""Aggregate statistics (IQM, mean, optimality gap, stratified bootstrap) against hand-computed values."""

import numpy as np
import pytest

from l2o4rl.analysis import aggregate


def test_iqm_cuts_a_quarter_from_each_end_of_all_scores():
    scores = np.array([[1.0, 8.0], [2.0, 7.0], [3.0, 6.0], [4.0, 5.0]])  # 1..8: keep 3, 4, 5, 6
    assert aggregate.iqm(scores) == pytest.approx(4.5)
    six = np.array([[10.0, 0.0, 1.0, 2.0, 3.0, -5.0]])  # cut one from each end: 0, 1, 2, 3
    assert aggregate.iqm(six) == pytest.approx(1.5)


def test_mean_and_optimality_gap():
    scores = np.array([[0.5, 1.2], [0.8, 0.0]])
    assert aggregate.mean(scores) == pytest.approx((0.65 + 0.6) / 2)
    assert aggregate.optimality_gap(scores) == pytest.approx((0.5 + 0.0 + 0.2 + 1.0) / 4)  # 1.2 counts as 1
    assert aggregate.optimality_gap(scores, gamma=0.5) == pytest.approx((0.0 + 0.0 + 0.0 + 0.5) / 4)


def test_bootstrap_resamples_runs_within_each_task():
    scores = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])  # task 0 always 0, task 1 always 1
    resamples = aggregate.stratified_resamples(
        np.array([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0]]), 50, np.random.default_rng(0)
    )
    assert resamples.shape == (50, 3, 2)
    assert set(np.unique(resamples[..., 0])) <= {0.0, 1.0, 2.0} and set(np.unique(resamples[..., 1])) <= {
        10.0,
        11.0,
        12.0,
    }
    table = aggregate.interval_estimates({"a": scores}, reps=200).set_index("aggregate")
    # A stratified resample keeps one half zeros, one half ones: every aggregate is constant.
    for name, value in {"IQM": 0.5, "mean": 0.5, "optimality gap": 0.5}.items():
        assert table.loc[name, ["value", "low", "high"]].tolist() == pytest.approx([value] * 3)


def test_percentile_interval_of_two_runs():
    # One task, runs {0, 1}: the resampled mean is 0, 1/2 or 1 with probabilities 1/4, 1/2, 1/4,
    # so the 95% percentile interval is [0, 1] and the 40% one is [1/2, 1/2].
    scores = {"a": np.array([[0.0], [1.0]])}
    wide = aggregate.interval_estimates(scores, {"mean": aggregate.mean}, reps=4000).iloc[0]
    narrow = aggregate.interval_estimates(scores, {"mean": aggregate.mean}, reps=4000, confidence=0.4).iloc[0]
    assert (wide["value"], wide["low"], wide["high"]) == (0.5, 0.0, 1.0)
    assert (narrow["low"], narrow["high"]) == (0.5, 0.5)


def test_bad_shape_names_the_algorithm():
    with pytest.raises(ValueError, match="scores\\['x'\\] must be shaped"):
        aggregate.interval_estimates({"x": np.zeros(3)})


def test_difference_interval_of_two_samples():
    from l2o4rl.analysis import difference_ci

    # constant samples: every resample has the same gap
    assert difference_ci(np.full(5, 3.0), np.full(4, 1.0)) == (2.0, 2.0, 2.0)
    # a = {0, 1}, b = {0}: resampled means of a are 0, 1/2 or 1 (prob 1/4, 1/2, 1/4), so the
    # 95% interval of the gap spans [0, 1] and the point estimate is 1/2
    gap, low, high = difference_ci(np.array([0.0, 1.0]), np.zeros(3), resamples=4000)
    assert (gap, low, high) == (0.5, 0.0, 1.0)
    assert difference_ci(np.array([0.0, 1.0]), np.zeros(3), seed=1) == difference_ci(
        np.array([0.0, 1.0]), np.zeros(3), seed=1
    )
