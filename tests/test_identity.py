"""The identity experiment: its accuracy metric, data, encodings and a short run."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from l2o4rl.analysis import identity


def test_accuracy_counts_outputs_within_ten_percent():
    prediction = jnp.array([1.05, 0.85, -1.0, 2.15, -3e-6, 0.0])
    target = jnp.array([1.0, 1.0, 1.0, 2.0, -3.2e-6, 1e-9])
    # in: 1.05 (5%), 2.15 (7.5%), -3e-6 (6.25%); out: 0.85 (15%), -1 (wrong sign), 0 (100%)
    assert float(identity.identity_accuracy(prediction, target)) == pytest.approx(0.5)


def test_synthetic_control_has_six_drifting_segments():
    series = identity.synthetic_series(jax.random.key(0), segments=6, segment_length=500)
    assert series.shape == (3000,)
    for i, segment in enumerate(series.reshape(6, 500), start=1):
        assert segment.min() >= i - 1 and segment.max() <= i + 1
        assert segment.mean() == pytest.approx(i, abs=0.15)


def test_sequences_are_windows_of_each_coordinate_without_zeros():
    series = np.arange(1, 25, dtype=np.float32).reshape(12, 2)  # 12 updates x 2 coordinates
    series[6, 1] = 0.0
    windows = identity.sequences(series, length=5)
    np.testing.assert_array_equal(windows, [[1, 3, 5, 7, 9], [11, 13, 15, 17, 19], [2, 4, 6, 8, 10]])


@pytest.mark.parametrize("encoding", identity.ENCODINGS)
def test_encodings_decode_their_own_targets(encoding):
    g = jnp.array([[3e-7, -2e-3, 0.5, -4.0, 1e-12]])
    index, scale = jnp.asarray(identity.encoding_index(encoding)), jnp.asarray(2e-3)
    decoded = identity.decode(identity.target(g, index, scale), g, index, scale)
    np.testing.assert_allclose(decoded, g, rtol=1e-5)
    features = identity.encode(g, index, scale)
    assert features.shape == (1, 5, 2)
    if encoding != "sign_log":
        np.testing.assert_array_equal(features[..., 1], 0.0)


def test_identity_run_learns_the_synthetic_control():
    windows = identity.sequences(identity.synthetic_series(jax.random.key(0), segment_length=100))
    train, test = identity.split_sequences(windows, jax.random.key(1), 0.25, 1000)
    assert len(train) + len(test) == 120 and len(test) == 30
    curves = identity.run_identity(
        train,
        test,
        jax.random.key(2),
        encodings=("raw", "sign_log"),
        learning_rates=(3e-3,),
        seeds=2,
        epochs=150,
        batch_size=16,
    )
    assert len(curves) == 2 * 2 * 150
    final = curves[curves["epoch"] == 150].groupby("encoding")["test_accuracy"].mean()
    first = curves[curves["epoch"] == 1].groupby("encoding")["test_accuracy"].mean()
    assert (final > first + 0.3).all(), f"accuracy {first.to_dict()} -> {final.to_dict()}"
    best = identity.best_rate_accuracy(curves.assign(data="synthetic"))
    assert len(best) == 4 and set(best["learning_rate"]) == {3e-3}
