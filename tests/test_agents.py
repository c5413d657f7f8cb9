from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import struct
from gymnax.environments import environment, spaces

from l2o4rl.agents import common
from l2o4rl.agents.a2c import A2C, A2CConfig, make_a2c
from l2o4rl.agents.base import make_train
from l2o4rl.agents.networks import MLP, GaussianMLP
from l2o4rl.agents.ppo import PPO, PPOConfig, make_ppo
from l2o4rl.config import ConfigError
from l2o4rl.optim import baseline
from l2o4rl.optim.open import OPEN


# -- a tiny environment with known rewards, termination and truncation ------------------------
@struct.dataclass
class CountdownState(environment.EnvState):
    time: int


@struct.dataclass
class CountdownParams(environment.EnvParams):
    max_steps_in_episode: int = 4
    terminate_at: int = 100


class Countdown(environment.Environment):
    """Reward 1 every step; observation = [time]; terminates at ``terminate_at`` steps."""

    @property
    def default_params(self):
        return CountdownParams()

    def reset_env(self, key, params):
        return jnp.zeros(1), CountdownState(time=0)

    def step_env(self, key, state, action, params):
        state = CountdownState(time=state.time + 1)
        terminated = state.time >= params.terminate_at
        return jnp.array([state.time], jnp.float32), state, jnp.float32(1.0), terminated, {}

    def action_space(self, params=None):
        return spaces.Discrete(2)

    def observation_space(self, params=None):
        return spaces.Box(0, 100, (1,), jnp.float32)


def countdown_agent(params: CountdownParams, **cfg):
    cfg = PPOConfig(num_envs=2, num_steps=6, total_timesteps=12, num_minibatches=2, **cfg)
    return PPO(cfg, optax.sgd(0.0), Countdown(), params)


@pytest.mark.parametrize("bootstrap_truncation", [True, False])
def test_truncation_bootstraps_only_when_asked_and_termination_never(bootstrap_truncation):
    gamma = 0.9
    for params, bootstrapped in (
        (CountdownParams(max_steps_in_episode=4), bootstrap_truncation),
        (CountdownParams(max_steps_in_episode=50, terminate_at=4), False),
    ):
        agent = countdown_agent(params, gamma=gamma, bootstrap_truncation=bootstrap_truncation)
        state = agent.init(jax.random.key(0), params)
        _, transitions, _ = agent.collect_rollout(state, params)
        done = np.asarray(transitions.done)[:, 0]
        np.testing.assert_array_equal(done, [0, 0, 0, 1, 0, 0])  # the 4th step ends the episode
        final_value = agent.value(state.params, jnp.array([[4.0]]))[0]
        expected = 1.0 + gamma * final_value if bootstrapped else 1.0
        np.testing.assert_allclose(np.asarray(transitions.reward)[3, 0], expected, rtol=1e-6)
        np.testing.assert_array_equal(np.asarray(transitions.reward)[[0, 1, 2, 4, 5], 0], 1.0)
        # The step after the end starts a new episode from the reset observation.
        np.testing.assert_array_equal(np.asarray(transitions.obs)[4, 0], [0.0])


@struct.dataclass
class NoiseState(environment.EnvState):
    time: int


class GaussianObservations(environment.Environment):
    """Observations drawn i.i.d. from N(5, 3^2) per coordinate, never ending."""

    MEAN, STD = 5.0, 3.0

    @property
    def default_params(self):
        return environment.EnvParams(max_steps_in_episode=10_000)

    def _obs(self, key):
        return self.MEAN + self.STD * jax.random.normal(key, (2,))

    def reset_env(self, key, params):
        return self._obs(key), NoiseState(time=0)

    def step_env(self, key, state, action, params):
        return self._obs(key), NoiseState(time=state.time + 1), jnp.float32(0.0), jnp.bool_(False), {}

    def action_space(self, params=None):
        return spaces.Discrete(2)

    def observation_space(self, params=None):
        return spaces.Box(-jnp.inf, jnp.inf, (2,), jnp.float32)


def test_observation_statistics_learn_from_raw_observations():
    env = GaussianObservations()
    cfg = PPOConfig(num_envs=16, num_steps=32, total_timesteps=16 * 32, num_minibatches=2, normalize_obs=True)
    agent = PPO(cfg, optax.sgd(0.0), env, env.default_params)
    state = agent.init(jax.random.key(0))
    rollout = jax.jit(lambda s: agent.collect_rollout(s)[:2])
    for _ in range(30):
        state, transitions = rollout(state)
    np.testing.assert_allclose(state.obs_stats.mean, [5.0, 5.0], atol=0.1)
    np.testing.assert_allclose(np.sqrt(state.obs_stats.var), [3.0, 3.0], atol=0.1)
    # What the networks see (stored in the transitions) is standardised.
    seen = np.asarray(transitions.obs).reshape(-1, 2)
    np.testing.assert_allclose(seen.mean(0), [0.0, 0.0], atol=0.1)
    np.testing.assert_allclose(seen.std(0), [1.0, 1.0], atol=0.1)


@pytest.mark.parametrize("value_clip", [True, False])
def test_value_loss_is_clipped_only_when_asked(value_clip):
    """Stored value 1 below the new one, target 1 above it, clip_eps 0.2: unclipped 0.5 * 1^2;
    clipped (PureJaxRL) the clipped value sits 0.8 below, 0.5 * 1.8^2 = 1.62 (brax.training: 0.5)."""
    agent = countdown_agent(CountdownParams(), value_clip=value_clip, clip_eps=0.2)
    params = agent.init(jax.random.key(0)).params
    obs, action = jnp.zeros((2, 1)), jnp.zeros(2, jnp.int32)
    dist, value, _ = agent.policy_value(params, obs)
    batch = common.Transition(
        obs, action, jnp.zeros(2), jnp.zeros(2, bool), value - 1.0, common.log_prob(dist, action, True)
    )
    _, (losses, _) = agent.loss(params, batch, jnp.array([1.0, -1.0]), value + 1.0)
    assert float(losses["value_loss"]) == pytest.approx(1.62 if value_clip else 0.5, rel=1e-5)


def test_episode_returns_are_tracked():
    params = CountdownParams(max_steps_in_episode=4)
    agent = countdown_agent(params)
    state = agent.init(jax.random.key(0), params)
    assert np.isnan(np.asarray(state.episodes.last)).all()
    state, _, _ = agent.collect_rollout(state, params)
    np.testing.assert_array_equal(state.episodes.last, [4.0, 4.0])
    np.testing.assert_array_equal(state.episodes.running, [2.0, 2.0])


def test_gae_matches_hand_computation():
    gamma, lam = 0.9, 0.8
    reward = jnp.array([[1.0], [0.0], [2.0]])
    value = jnp.array([[0.5], [1.0], [1.5]])
    done = jnp.array([[0.0], [1.0], [0.0]])
    last_value = jnp.array([2.0])
    t = common.Transition(None, None, reward, done, value, None)
    adv, targets = common.gae(t, last_value, gamma, lam)
    d2 = 2.0 + gamma * 2.0 - 1.5
    d1 = 0.0 - 1.0  # episode ends: no bootstrap
    d0 = 1.0 + gamma * 1.0 - 0.5
    expected = [d0 + gamma * lam * d1, d1, d2]
    np.testing.assert_allclose(np.asarray(adv)[:, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(targets)[:, 0], np.array(expected) + [0.5, 1.0, 1.5], rtol=1e-6)


def test_running_mean_std_matches_numpy():
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(50, 3)) for _ in range(4)]
    stats = common.RunningMeanStd.init((3,))
    for b in batches:
        stats = stats.update(jnp.asarray(b))
    everything = np.concatenate(batches)
    np.testing.assert_allclose(stats.mean, everything.mean(0), rtol=1e-4)
    np.testing.assert_allclose(stats.var, everything.var(0), rtol=1e-3)


def test_dormancy_and_layer_proportion_by_hand():
    net = MLP((3, 2), 1, "relu")
    params = net.init(jax.random.key(0), jnp.zeros((1, 4)))
    activations = {
        "layer_0": jnp.array([[1.0, 0.0, 2.0], [3.0, 0.0, 0.0]]),  # mean |a| = [2, 0, 1]
        "layer_1": jnp.array([[1.0, 1.0]]),
        "layer_2": jnp.array([[5.0]]),
    }
    dormancy = common.dormancy_tree(params, activations)
    np.testing.assert_allclose(dormancy["params"]["layer_0"]["kernel"], [2.0, 0.0, 1.0])  # / layer mean 1
    np.testing.assert_allclose(dormancy["params"]["layer_0"]["bias"], [2.0, 0.0, 1.0])
    np.testing.assert_allclose(dormancy["params"]["layer_1"]["kernel"], [1.0, 1.0])
    np.testing.assert_allclose(dormancy["params"]["layer_2"]["kernel"], [1.0])  # one output neuron scores 1
    proportions = common.layer_proportions({"critic": params})["critic"]["params"]
    assert [float(proportions[f"layer_{i}"]["kernel"]) for i in range(3)] == [0.0, 0.5, 1.0]
    assert float(proportions["layer_1"]["bias"]) == 0.5


def test_a2c_networks_are_the_authors_by_default():
    """flax's default initialisers (lecun-normal kernels, zero biases) and a SAME conv over the whole
    map, border included; the PPO-style orthogonal init and a VALID conv stay as options."""
    cfg = A2CConfig(env="big_dense_long", torso="conv", total_timesteps=16 * 20)
    agent = A2C(cfg, optax.sgd(0.0))
    params = agent.init_params(jax.random.key(0))["net"]["params"]
    height, width, _ = agent.obs_shape
    assert (height, width) == (15, 11)  # 13 x 9 interior and its border
    assert params["layer_1"]["kernel"].shape == (height * width * 16, 32)  # SAME keeps the map's size
    assert all(float(jnp.abs(p["bias"]).max()) == 0.0 for p in params.values())
    fan_in = params["layer_1"]["kernel"].shape[0]
    assert float(jnp.std(params["layer_1"]["kernel"])) == pytest.approx(1 / np.sqrt(fan_in), rel=0.05)
    policy = params["policy_head"]["kernel"]  # lecun-normal, not a 0.01-scaled orthogonal head
    assert float(jnp.std(policy)) == pytest.approx(1 / np.sqrt(32), rel=0.25)
    valid = A2C(cfg.replace(conv_padding="VALID", init="orthogonal"), optax.sgd(0.0))
    params = valid.init_params(jax.random.key(0))["net"]["params"]
    assert params["layer_1"]["kernel"].shape == ((height - 1) * (width - 1) * 16, 32)
    assert float(jnp.abs(params["policy_head"]["kernel"]).max()) < 0.05


def test_continuous_actor_log_std_is_a_layer_of_its_own():
    """OPEN's authors count a Gaussian actor's log-std as the last layer: 0, 1/3, 2/3, 1."""
    actor = GaussianMLP((8, 8), 3)
    params = {"actor": actor.init(jax.random.key(0), jnp.zeros((1, 4)))}
    proportions = common.layer_proportions(params)["actor"]["params"]
    assert [float(proportions["mlp"][f"layer_{i}"]["kernel"]) for i in range(3)] == pytest.approx([0, 1 / 3, 2 / 3])
    assert float(proportions["mlp"]["layer_2"]["bias"]) == pytest.approx(2 / 3)
    assert float(proportions["log_std"]) == 1.0


class SeenInputs(NamedTuple):
    training_proportion: jax.Array
    batch_proportion: jax.Array
    calls: jax.Array
    actor_fraction: jax.Array
    dormancy_shapes_ok: jax.Array


def spy_optimizer() -> optax.GradientTransformationExtraArgs:
    """Records the extra args of the last update in its state; leaves params unchanged."""

    def init(params):
        return SeenInputs(jnp.float32(-1), jnp.float32(-1), jnp.int32(0), jnp.float32(-1), jnp.bool_(False))

    def update(
        updates,
        state,
        params=None,
        *,
        training_proportion,
        batch_proportion,
        key,
        dormancy,
        layer_proportion,
        is_actor,
        **_,
    ):
        actor = jax.tree.leaves(jax.tree.map(lambda m, p: jnp.full(p.shape, m, jnp.float32), is_actor, params))
        total = sum(x.size for x in actor)
        shapes_ok = all(
            jnp.broadcast_shapes(d.shape, p.shape) == p.shape
            for d, p in zip(jax.tree.leaves(dormancy), jax.tree.leaves(params))
        )
        seen = SeenInputs(
            jnp.float32(training_proportion),
            jnp.float32(batch_proportion),
            state.calls + 1,
            sum(x.sum() for x in actor) / total,
            jnp.bool_(shapes_ok),
        )
        return jax.tree.map(jnp.zeros_like, updates), seen

    return optax.GradientTransformationExtraArgs(init, update)


def test_optimizer_receives_the_extra_args():
    cfg = PPOConfig(
        env="Catch-bsuite", num_envs=4, num_steps=8, total_timesteps=3 * 32, update_epochs=3, num_minibatches=2
    )
    train = make_ppo(cfg, spy_optimizer())
    state, _ = jax.jit(train)(jax.random.key(0))
    seen = state.opt_state
    assert int(seen.calls) == 3 * 3 * 2  # updates x epochs x minibatches
    assert float(seen.training_proportion) == 1.0 and float(seen.batch_proportion) == 1.0
    actor_size = sum(x.size for x in jax.tree.leaves(state.params["actor"]))
    total = actor_size + sum(x.size for x in jax.tree.leaves(state.params["critic"]))
    np.testing.assert_allclose(float(seen.actor_fraction), actor_size / total, rtol=1e-6)
    assert bool(seen.dormancy_shapes_ok)


def test_training_is_deterministic_and_seed_dependent():
    cfg = PPOConfig(env="Catch-bsuite", num_envs=8, num_steps=16, total_timesteps=4 * 128, num_minibatches=4)
    train = jax.jit(make_ppo(cfg, optax.adam(1e-3)))
    (_, a), (_, b), (_, c) = train(jax.random.key(3)), train(jax.random.key(3)), train(jax.random.key(4))
    np.testing.assert_array_equal(a["actor_loss"], b["actor_loss"])
    assert not np.array_equal(a["actor_loss"], c["actor_loss"])


def test_a_progress_callback_sees_every_update_once_and_changes_no_number():
    """The progress bars of long runs (``make_train(agent, on_update)``) must not move a stored
    result: the program with the host callback computes the same bits, here for OPEN (the most
    fused program) on two vmapped seeds, and it reports each update once, not once per seed."""
    cfg = PPOConfig(env="Catch-bsuite", num_envs=8, num_steps=16, total_timesteps=5 * 128, num_minibatches=4)
    agent = PPO(cfg, OPEN(OPEN.init_meta_params(jax.random.key(1))))
    seen = []
    keys = jax.random.split(jax.random.key(3), 2)
    _, plain = jax.jit(jax.vmap(make_train(agent)))(keys)
    _, reported = jax.block_until_ready(jax.jit(jax.vmap(make_train(agent, lambda i: seen.append(int(i)))))(keys))
    assert sorted(seen) == list(range(cfg.num_updates)) == [0, 1, 2, 3, 4]
    assert plain.keys() == reported.keys()
    for name in plain:
        np.testing.assert_array_equal(plain[name], reported[name], err_msg=name)
    assert not np.array_equal(plain["actor_loss"][0], plain["actor_loss"][1])  # two seeds, two runs


def test_recorded_gradients_and_dormancy():
    cfg = A2CConfig(env="Catch-bsuite", num_envs=4, total_timesteps=3 * 80, record_gradients=20, record_dormancy=True)
    agent = A2C(cfg, optax.adam(1e-3))
    _, metrics = jax.jit(make_train(agent))(jax.random.key(0))
    assert metrics["gradients"].shape == (3, 20) and np.isfinite(metrics["gradients"]).all()
    assert np.abs(metrics["gradients"]).max() > 0
    share = np.asarray(metrics["dormant_net_layer_0"])
    assert share.shape == (3,) and ((share >= 0) & (share <= 1)).all()
    indices = agent.gradient_indices()
    assert len(set(np.asarray(indices).tolist())) == 20
    assert set(common.leaf_names(agent.init_params(jax.random.key(0)), indices)) <= {
        "net/params/layer_0/kernel",
        "net/params/layer_0/bias",
        "net/params/policy_head/kernel",
        "net/params/policy_head/bias",
        "net/params/value_head/kernel",
        "net/params/value_head/bias",
    }


def test_optimizer_state_fields_are_recorded_where_present():
    cfg = PPOConfig(
        env="DeepSea-bsuite",
        env_size=4,
        num_envs=4,
        num_steps=8,
        total_timesteps=3 * 32,
        num_minibatches=2,
        record_optimizer=("noise_scale",),
    )
    _, metrics = jax.jit(make_ppo(cfg, OPEN(OPEN.init_meta_params(jax.random.key(0)))))(jax.random.key(0))
    noise = np.asarray(metrics["optimizer_noise_scale"])
    assert noise.shape == (3,) and (noise > 0).all()
    _, metrics = jax.jit(make_ppo(cfg, optax.adam(1e-3)))(jax.random.key(0))
    assert "optimizer_noise_scale" not in metrics  # Adam's state has no such field


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match="num_minibatches = 7 must divide num_envs \\* num_steps = 8192"):
        PPOConfig(num_minibatches=7)
    with pytest.raises(ConfigError, match="total_timesteps = 100 is less than one rollout"):
        PPOConfig(total_timesteps=100)
    with pytest.raises(ConfigError, match="PPOConfig.env = 'Pong' is not valid; valid choices: 'Catch-bsuite'"):
        PPOConfig(env="Pong")
    with pytest.raises(ConfigError, match="A2CConfig.torso = 'resnet' is not valid; valid choices: 'mlp', 'conv'"):
        A2CConfig(torso="resnet")
    with pytest.raises(ConfigError, match="PPOConfig.env_size is set but env 'CartPole-v1' has no size"):
        PPOConfig(env="CartPole-v1", env_size=4)
    with pytest.raises(ConfigError, match="PPOConfig.env_size = 0 is not valid; it must be at least 1"):
        PPOConfig(env="DeepSea-bsuite", env_size=0)


def test_baseline_optimizers():
    with pytest.raises(
        ConfigError, match="unknown optimizer 'adagrad'; valid choices: 'adam', 'rmsprop', 'sgd', 'lion'"
    ):
        baseline("adagrad", learning_rate=1.0)
    with pytest.raises(ConfigError, match="no setting 'lr'; valid settings: learning_rate, b1, b2, eps"):
        baseline("adam", lr=1e-3)
    with pytest.raises(ConfigError, match="needs a learning_rate"):
        baseline("sgd")
    params = {"w": jnp.ones(3)}
    grads = {"w": jnp.array([0.1, -2.0, 30.0])}
    from l2o4rl.tasks import get_task

    for name, expected in (("adam", 1e-2), ("lion", 1e-2 / 3), ("sgd", None)):
        opt = get_task("breakout").optimizer(name)  # OPEN's tuned Adam rate; Lion's a third of it
        updates, _ = opt.update(grads, opt.init(params), params)
        step = np.asarray(updates["w"])
        if expected is None:
            np.testing.assert_allclose(step, -1e-2 * np.asarray(grads["w"]), rtol=1e-6)
        else:  # the first Adam and Lion steps are sign(g) * learning rate
            np.testing.assert_allclose(step, -expected * np.sign(grads["w"]), rtol=1e-3)


# -- learning: the agents are right ------------------------------------------------------------
SEEDS = 3


def final_returns(train, seeds=SEEDS):
    _, metrics = jax.jit(jax.vmap(train))(jax.random.split(jax.random.key(0), seeds))
    return np.asarray(metrics["episode_return"])[:, -1]


def test_ppo_adam_solves_cartpole_within_5e5_steps():
    cfg = PPOConfig(env="CartPole-v1", num_envs=4, num_steps=128, total_timesteps=500_000, num_minibatches=4)
    returns = final_returns(make_ppo(cfg, optax.adam(2.5e-4, eps=1e-5)))
    assert (returns >= 475).all(), returns


def test_ppo_adam_solves_catch_within_1e5_steps():
    cfg = PPOConfig(env="Catch-bsuite", num_envs=16, num_steps=64, total_timesteps=100_000, num_minibatches=4)
    returns = final_returns(make_ppo(cfg, optax.adam(1e-3)))
    assert (returns >= 0.8).all(), returns


def test_a2c_adam_solves_catch():
    cfg = A2CConfig(env="Catch-bsuite", hidden=256, total_timesteps=200_000)
    returns = final_returns(make_a2c(cfg, optax.adam(1e-3)))
    assert (returns >= 0.6).all(), returns


def test_brax_reference_refuses_what_brax_training_cannot_run():
    from l2o4rl.agents.brax_reference import reference_ppo
    from l2o4rl.tasks import get_task

    with pytest.raises(ConfigError, match="brax-\\* envs only"):
        reference_ppo(PPOConfig(env="CartPole-v1"), 3e-4, 0)
    task = get_task("inverted_pendulum").at()
    for bad in ({"normalize_reward": True}, {"max_grad_norm": 0.5}, {"value_clip": True}, {"num_minibatches": 7}):
        with pytest.raises(ConfigError, match="brax's reference trainer needs"):
            reference_ppo(
                task.replace(num_steps=28, **bad) if "num_minibatches" in bad else task.replace(**bad), 3e-4, 0
            )


def test_tanh_log_det_jacobian_is_stable_and_exact():
    x = jnp.array([[-3.0, -0.5, 0.0, 0.7, 2.5]])
    np.testing.assert_allclose(
        common.tanh_log_det_jacobian(x), np.log(1 - np.tanh(np.asarray(x)) ** 2).sum(-1), rtol=1e-5
    )
    assert np.isfinite(common.tanh_log_det_jacobian(jnp.array([[60.0, -60.0]]))).all()


@struct.dataclass
class EchoState(environment.EnvState):
    time: int


class Echo(environment.Environment):
    """Continuous actions; the next observation is the action the env received."""

    @property
    def default_params(self):
        return CountdownParams()

    def reset_env(self, key, params):
        return jnp.zeros(2), EchoState(time=0)

    def step_env(self, key, state, action, params):
        return action.astype(jnp.float32), EchoState(time=state.time + 1), jnp.float32(0.0), jnp.bool_(False), {}

    def action_space(self, params=None):
        return spaces.Box(-1.0, 1.0, (2,), jnp.float32)

    def observation_space(self, params=None):
        return spaces.Box(-10.0, 10.0, (2,), jnp.float32)


@pytest.mark.parametrize("policy", ["gaussian", "tanh_gaussian"])
def test_a_tanh_gaussian_policy_stores_its_pre_tanh_sample_and_sends_its_tanh(policy):
    cfg = PPOConfig(num_envs=64, num_steps=3, total_timesteps=192, num_minibatches=2, policy=policy)
    agent = PPO(cfg, optax.sgd(0.0), Echo(), CountdownParams())
    state, transitions, _ = agent.collect_rollout(agent.init(jax.random.key(0)))
    sent, stored = np.asarray(state.obs), np.asarray(transitions.action[-1])
    np.testing.assert_allclose(sent, np.tanh(stored) if policy == "tanh_gaussian" else stored, rtol=1e-6)
    assert (np.abs(stored) > 1).any()  # pre-tanh samples leave [-1, 1]; the env never sees them
    if policy == "tanh_gaussian":  # softplus(0) + 0.001 at the near-zero initial head: std 0.694
        (_, log_std), _ = agent.actor.apply(state.params["actor"], jnp.zeros((1, 2)))
        np.testing.assert_allclose(np.exp(log_std), np.log(2.0) + 0.001, rtol=1e-2)


def test_a_tanh_gaussian_policy_needs_continuous_actions():
    with pytest.raises(ConfigError, match="policy = 'tanh_gaussian' needs continuous actions"):
        countdown_agent(CountdownParams(), policy="tanh_gaussian")


def test_a_tanh_gaussian_agent_trains_with_its_sampled_entropy():
    cfg = PPOConfig(
        num_envs=8, num_steps=8, total_timesteps=128, num_minibatches=2, policy="tanh_gaussian", ent_coef=0.01
    )
    _, metrics = jax.jit(make_ppo(cfg, optax.adam(1e-3), Echo(), CountdownParams()))(jax.random.key(1))
    entropy = np.asarray(metrics["entropy"])
    # a 2-d Gaussian of std 0.69 has entropy 2.1; the squash takes off E[log(1 - tanh^2)] < 0
    assert np.isfinite(entropy).all() and (entropy < 2 * (np.log(0.694) + 0.5 * np.log(2 * np.pi * np.e))).all()
