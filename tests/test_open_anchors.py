"""Our OPEN computes the authors' update rule: their published checkpoints train agents as
they did with the authors' code (SPEC 2.7). Slow (cpu scale): `make test-slow`."""

import jax
import numpy as np
import pytest

from l2o4rl.optim.checkpoints import load_open_checkpoint
from l2o4rl.optim.open import OPEN
from l2o4rl.tasks import get_task

pytestmark = pytest.mark.slow


def final_and_initial_returns(optimizer, total_timesteps, seeds=2):
    train = get_task("breakout").make_train(optimizer, total_timesteps=total_timesteps)
    _, metrics = jax.jit(jax.vmap(train))(jax.random.split(jax.random.key(0), seeds))
    returns = np.asarray(metrics["episode_return"])
    return returns[:, -1], returns[:, 0]


def test_breakout_checkpoint_trains_breakout(anchors_dir):
    """Authors: from about 0.5 to a mean of about 18 in 1e6 steps (2 seeds), still rising."""
    phi, _ = load_open_checkpoint(anchors_dir / "open_pretrained" / "breakout_OPEN.npy")
    final, initial = final_and_initial_returns(OPEN(phi), 1_000_000)
    assert initial.mean() < 1.0 and final.mean() > 10.0, (initial, final)


def test_zero_meta_parameters_do_not_learn():
    """The control: an all-zero OPEN makes zero updates, so the same check fails."""
    zeros = jax.tree.map(np.zeros_like, OPEN.init_meta_params(jax.random.key(0)))
    final, initial = final_and_initial_returns(OPEN(zeros), 200_000)
    assert final.mean() < 1.5, final
