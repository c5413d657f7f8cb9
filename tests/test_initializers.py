import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from l2o4rl.agents.ppo import PPOConfig, make_ppo
from l2o4rl.initializers import orthogonal
from l2o4rl.optim.open import OPEN
from l2o4rl.optim.optim4rl import Optim4RL


@pytest.mark.parametrize("shape", [(400, 64), (64, 3), (3, 64), (2, 2, 5, 16), (8, 8)])
def test_orthogonal_matches_flax_semantics(shape):
    w = np.asarray(orthogonal(2.0)(jax.random.key(0), shape), np.float64).reshape(-1, shape[-1])
    gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-4)
    assert w.dtype == np.float64 and orthogonal()(jax.random.key(0), shape).dtype == jnp.float32


def test_orthogonal_is_haar_like_not_biased_to_positive_diagonal():
    init = jax.jit(jax.vmap(lambda k: jnp.diag(orthogonal()(k, (6, 6)))))
    diag = np.asarray(init(jax.random.split(jax.random.key(0), 400)))
    assert abs(diag.mean()) < 0.05 and abs((diag > 0).mean() - 0.5) < 0.05


def test_no_lapack_calls_in_vmapped_programs():
    """Batched LAPACK kernels (QR) deadlock jaxlib's CPU thread pool under vmap: keep them out."""
    cfg = PPOConfig(env="Catch-bsuite", num_envs=4, num_steps=8, total_timesteps=32, num_minibatches=2)
    keys = jax.random.split(jax.random.key(0), 3)
    programs = {
        "ppo": jax.jit(jax.vmap(make_ppo(cfg, optax.adam(1e-3)))).lower(keys),
        "open init": jax.jit(jax.vmap(OPEN.init_meta_params)).lower(keys),
        "optim4rl init": jax.jit(jax.vmap(Optim4RL.init_meta_params)).lower(keys),
    }
    for name, lowered in programs.items():
        text = lowered.as_text().lower()
        assert "lapack" not in text and "qr" not in text.replace("qrt", ""), f"{name} calls a LAPACK kernel"
