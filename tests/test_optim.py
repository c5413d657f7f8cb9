import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from l2o4rl.agents import common
from l2o4rl.agents.networks import MLP
from l2o4rl.config import ConfigError
from l2o4rl.optim import processing
from l2o4rl.optim.checkpoints import (
    AUTHORS_OPEN,
    load_authors_open,
    load_meta_params,
    load_open_checkpoint,
    save_meta_params,
)
from l2o4rl.optim.learned import gru_cell, gru_step
from l2o4rl.optim.open import BETAS, FEATURES, OPEN, ablation, apply_head, feature_mask, features
from l2o4rl.optim.open import head as open_head
from l2o4rl.optim.optim4rl import L2L, LinearOptim, Optim4RL

LEARNED = [Optim4RL, LinearOptim, L2L, OPEN]
PARAMS = {
    "actor": {"w": jnp.arange(6.0).reshape(2, 3) / 10 - 0.2, "b": jnp.array([0.5, -0.5])},
    "critic": {"w": jnp.ones(4)},
}


def grads_like(params, scale=1e-3):
    return jax.tree.map(lambda p: scale * jnp.cos(jnp.arange(p.size, dtype=jnp.float32).reshape(p.shape) + 1), params)


# -- gradient processing ------------------------------------------------------------------------
def test_sign_log_exact_values_and_extremes():
    g = jnp.array([0.0, 1e-30, -1e-3, 1.0, 1e30])
    enc = np.asarray(processing.sign_log(g))
    np.testing.assert_array_equal(enc[:, 0], [0.0, 1.0, -1.0, 1.0, 1.0])
    np.testing.assert_allclose(enc[:, 1], np.log(np.abs(np.asarray(g, np.float64)) + 1e-18), rtol=1e-6)
    assert np.isfinite(enc).all()
    np.testing.assert_allclose(processing.log_squared(g)[2:], np.log(np.asarray(g[2:], np.float64) ** 2), rtol=1e-6)
    big = jnp.array([-3e-2, 5e-7, 2.0, -7e4])
    np.testing.assert_allclose(processing.decode_sign_log(processing.sign_log(big)), big, rtol=1e-6)  # round trip


def test_l2l_preprocessing_exact_values():
    p = processing.L2L_P
    g = jnp.array([1.0, -np.exp(-5.0), 1e-6, 0.0, -1e-30, 1e30])
    out = np.asarray(processing.l2l_preprocess(g))
    np.testing.assert_allclose(out[0], [0.0, 1.0], atol=1e-7)
    np.testing.assert_allclose(out[1], [-0.5, -1.0], rtol=1e-6)
    np.testing.assert_allclose(out[2], [-1.0, np.exp(p) * 1e-6], rtol=1e-5)  # below e^-10: linear branch
    np.testing.assert_allclose(out[3], [-1.0, 0.0])
    np.testing.assert_allclose(out[5], [np.log(1e30) / p, 1.0], rtol=1e-6)
    assert np.isfinite(out).all()
    for fn in (lambda x: processing.l2l_preprocess(x).sum(), lambda x: processing.sign_log(x)[..., 1].sum()):
        assert np.isfinite(np.asarray(jax.grad(fn)(g))).all()  # no NaN gradients, also at g = 0


# -- every learned optimizer ------------------------------------------------------------------
@pytest.mark.parametrize("cls", LEARNED)
def test_is_an_optax_transformation_with_per_coordinate_state(cls):
    phi = cls.init_meta_params(jax.random.key(0))
    opt = cls(phi)
    assert isinstance(opt, optax.GradientTransformationExtraArgs)
    state = opt.init(PARAMS)
    param_leaves = jax.tree.leaves(PARAMS)
    if cls is OPEN:  # feature-major: (hidden, N) over every coordinate; noise_scale is a scalar diagnostic
        n = sum(p.size for p in param_leaves)
        assert state.momenta.shape == (6, n) and state.carry.shape == (8, n) and state.noise_scale.shape == ()
    else:
        state_leaves = jax.tree.leaves(state)
        assert len(state_leaves) % len(param_leaves) == 0  # one tree like params per hidden state
        for i, leaf_state in enumerate(state_leaves):
            assert leaf_state.shape[:-1] == param_leaves[i % len(param_leaves)].shape
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree.leaves(state))
    step = jax.jit(lambda g, s, p, k: opt.update(g, s, p, key=k))
    updates, state = step(grads_like(PARAMS), state, PARAMS, jax.random.key(1))
    assert jax.tree.structure(updates) == jax.tree.structure(PARAMS)
    assert all(np.isfinite(u).all() and np.abs(u).max() > 0 for u in jax.tree.leaves(updates))
    flat, unravel = jax.flatten_util.ravel_pytree(phi)
    assert flat.size == cls.num_meta_params()
    # usable in a plain optax chain
    chained = optax.chain(optax.clip_by_global_norm(0.5), opt)
    chained.update(grads_like(PARAMS), chained.init(PARAMS), PARAMS, key=jax.random.key(2))


@pytest.mark.parametrize("cls", LEARNED)
def test_vmap_over_meta_params_and_meta_gradients_through_updates(cls):
    phis = jax.vmap(cls.init_meta_params)(jax.random.split(jax.random.key(0), 3))

    def final_loss(phi, steps=4):
        opt = cls(phi)
        params, state = PARAMS, opt.init(PARAMS)
        for t in range(steps):
            grads = jax.grad(lambda p: sum(jnp.sum((x - 1.0) ** 2) for x in jax.tree.leaves(p)))(params)
            updates, state = opt.update(grads, state, params, key=jax.random.key(t))
            params = optax.apply_updates(params, updates)
        return sum(jnp.sum((x - 1.0) ** 2) for x in jax.tree.leaves(params))

    losses = jax.jit(jax.vmap(final_loss))(phis)
    assert losses.shape == (3,) and len(set(np.asarray(losses).tolist())) == 3
    meta_grad = jax.jit(jax.grad(final_loss))(jax.tree.map(lambda x: x[0], phis))
    flat = jax.flatten_util.ravel_pytree(meta_grad)[0]
    assert np.isfinite(flat).all() and np.abs(flat).max() > 0


def test_bad_settings_are_named():
    phi = Optim4RL.init_meta_params(jax.random.key(0))
    with pytest.raises(
        ConfigError,
        match="Optim4RL has no setting 'lr'; valid settings: learning_rate, gradient_clip, heads, gradient_processing",
    ):
        Optim4RL(phi, lr=1e-3)
    with pytest.raises(ConfigError, match="unknown OPEN feature 'plasticity'; valid choices: 'param'"):
        OPEN(OPEN.init_meta_params(jax.random.key(0)), disable=("plasticity",))
    with pytest.raises(ConfigError, match="unknown OPEN ablation 'momentum'"):
        ablation("momentum")


def test_fused_gru_step_equals_flax_gru_cell():
    cell = gru_cell(8)
    x, h = jax.random.normal(jax.random.key(1), (5, 19)), jax.random.normal(jax.random.key(2), (5, 8))
    params = cell.init(jax.random.key(0), h, x)
    # non-zero biases, so every bias is exercised
    params = jax.tree.map(lambda p: p + 0.1 * jax.random.normal(jax.random.key(3), p.shape), params)
    expected, _ = cell.apply(params, h, x)
    actual = gru_step(params["params"], h.T, x.T)  # feature-major: one column per coordinate
    np.testing.assert_allclose(actual.T, expected, rtol=1e-5, atol=1e-6)


def test_feature_major_open_head_equals_flax():
    phi = OPEN.init_meta_params(jax.random.key(0))["params"]
    phi = jax.tree.map(lambda p: p + 0.3 * jax.random.normal(jax.random.key(1), p.shape), phi)  # LayerNorm scales too
    h = jax.random.normal(jax.random.key(2), (7, 8))
    expected = open_head(16).apply(phi, h)
    np.testing.assert_allclose(apply_head(phi["params"], h.T).T, expected, rtol=1e-5, atol=1e-6)


# -- Optim4RL's structure ---------------------------------------------------------------------
def test_optim4rl_update_is_an_adam_like_descent_step():
    """With hand-set heads (o1 = log c, o2 = log d) the update is -lr * sign(g) * c / sqrt(d):
    signed like -g and invariant to the gradient's scale, as Adam's first step and RMSProp's
    normalised step are."""
    phi = Optim4RL.init_meta_params(jax.random.key(0), heads="linear")  # our first port's structure
    c, d, lr = 2.0, 4.0, 0.1
    heads = {"head_m": np.log(c), "head_v": np.log(d)}
    for name, bias in heads.items():
        phi["params"][name] = {"kernel": jnp.zeros_like(phi["params"][name]["kernel"]), "bias": jnp.full((1,), bias)}
    opt = Optim4RL(phi, learning_rate=lr, heads="linear")
    g = jnp.array([3e-6, -2e-3, 0.5, -40.0])
    expected = -lr * np.sign(g) * c / np.sqrt(d + 1e-8)
    for scale in (1.0, 1e3, 1e-3):
        updates, _ = opt.update(g * scale, opt.init(g), g)
        np.testing.assert_allclose(updates, expected, rtol=1e-6)
    # The untrained optimizer already descends: every coordinate moves against its gradient.
    untrained = Optim4RL(Optim4RL.init_meta_params(jax.random.key(1), heads="linear"), heads="linear")
    updates, _ = untrained.update(g, untrained.init(g), g)
    assert (np.sign(updates) == -np.sign(g)).all()


def _constant_mlp_heads(phi, biases):
    """``phi`` with each named MLP head's output fixed to ``bias`` (zero output kernel)."""
    for name, bias in biases.items():
        out = phi["params"][name]["out"]
        phi["params"][name]["out"] = {"kernel": jnp.zeros_like(out["kernel"]), "bias": jnp.asarray(bias, jnp.float32)}
    return phi


def test_optim4rl_authors_structure_learns_the_sign_of_m():
    """heads="mlp" (the authors' gradient-processing commit): m = sign(g) * STE-sign(tanh(o1[0] + 1)) * exp(o1[1]),
    update -lr * m / sqrt(exp(o2) + 1e-18). The sign starts at +1, can flip, and gets a tanh gradient."""
    g = jnp.array([3e-6, -2e-3, 0.5, -40.0])
    lr, b1, c = 0.1, np.log(2.0), np.log(4.0)
    for b0, flip in ((0.0, 1.0), (-3.0, -1.0)):  # tanh(1) > 0: descent; tanh(-2) < 0: the sign flips
        phi = _constant_mlp_heads(
            Optim4RL.init_meta_params(jax.random.key(0), heads="mlp"), {"head_m": [b0, b1], "head_v": [c]}
        )
        opt = Optim4RL(phi, learning_rate=lr, heads="mlp")
        updates, _ = opt.update(g, opt.init(g), g)
        np.testing.assert_allclose(updates, -lr * flip * np.sign(g) * 2.0 / np.sqrt(4.0 + 1e-18), rtol=1e-6)

        def total_step(bias0, phi=phi):
            phi["params"]["head_m"]["out"]["bias"] = jnp.stack([bias0, jnp.float32(b1)])
            opt = Optim4RL(phi, learning_rate=lr, heads="mlp")
            return opt.update(g, opt.init(g), g)[0].sum()

        expected = -lr * np.sign(g).sum() * 2.0 / 2.0 * (1 - np.tanh(b0 + 1.0) ** 2)  # straight through: d tanh
        np.testing.assert_allclose(jax.grad(total_step)(jnp.float32(b0)), expected, rtol=1e-5)
    # The authors' heads are MLPs [16, 16]: far more meta-parameters than one dense layer per head.
    hidden_layers = 8 * 16 + 16 + 16 * 16 + 16
    one_dense_each = 2 * (8 + 1)
    assert Optim4RL.num_meta_params() == Optim4RL.num_meta_params(heads="mlp")  # the authors' is the default
    assert Optim4RL.num_meta_params(heads="mlp") == (
        Optim4RL.num_meta_params(heads="linear") - one_dense_each + 2 * hidden_layers + (16 * 2 + 2) + (16 + 1)
    )


def test_authors_linear_optim_and_l2l_read_sign_log_and_clip():
    g = jnp.array([-2.0, 1e-4, 0.3])
    clipped = np.clip(np.asarray(g), -1, 1)
    phi = _constant_mlp_heads(
        LinearOptim.init_meta_params(jax.random.key(0), heads="mlp"), {"head": [np.log(2.0), np.log(3.0), 0.5]}
    )
    opt = LinearOptim(phi, learning_rate=0.1, heads="mlp", gradient_clip=1.0)
    np.testing.assert_allclose(opt.update(g, opt.init(g), g)[0], -0.1 * (2.0 * clipped + 3.0 * 0.5), rtol=1e-6)
    phi = _constant_mlp_heads(L2L.init_meta_params(jax.random.key(0), heads="mlp"), {"head": [np.log(5.0)]})
    opt = L2L(phi, learning_rate=0.1, heads="mlp", gradient_clip=1.0)
    np.testing.assert_allclose(opt.update(g, opt.init(g), g)[0], -0.1 * 5.0 * clipped, rtol=1e-6)
    # Their GRU reads (sign g, log|g|): two inputs, like the p=10 preprocessing, so only the heads differ in size.
    gru = L2L.init_meta_params(jax.random.key(0), heads="mlp")["params"]["gru"]
    assert gru["ir"]["kernel"].shape == (2, 8)
    with pytest.raises(ConfigError, match="unknown L2L heads 'deep'; valid choices: 'linear', 'mlp'"):
        L2L.init_meta_params(jax.random.key(0), heads="deep")


def test_optim4rl_without_processing_is_a_different_network():
    assert Optim4RL.num_meta_params(gradient_processing=False) < Optim4RL.num_meta_params()
    phi = Optim4RL.init_meta_params(jax.random.key(0), gradient_processing=False)
    opt = Optim4RL(phi, gradient_processing=False)
    updates, _ = opt.update(grads_like(PARAMS), opt.init(PARAMS), PARAMS)
    assert all(np.isfinite(u).all() for u in jax.tree.leaves(updates))


# -- OPEN -----------------------------------------------------------------------------------
def test_open_has_the_published_sizes():
    assert OPEN.num_meta_params() == 1211 and OPEN.num_meta_params(size="larger") == 3571
    assert len(FEATURES) == 19


def test_open_features_by_hand_on_a_tiny_network():
    net = MLP((3,), 2, "relu")
    params = {"actor": net.init(jax.random.key(0), jnp.zeros((1, 2)))}
    kernel = params["actor"]["params"]["layer_0"]["kernel"]  # (2, 3): the first of 2 layers
    g = jnp.array([[0.2, -0.1, 0.0], [0.4, 0.3, -0.2]])
    activations = {"layer_0": jnp.array([[1.0, 0.0, 3.0], [1.0, 0.0, 1.0]]), "layer_1": jnp.array([[1.0, 2.0]])}
    dormancy = common.dormancy_tree(params["actor"], activations)["params"]["layer_0"]["kernel"]
    layer = common.layer_proportions(params)["actor"]["params"]["layer_0"]["kernel"]
    momenta = (1 - jnp.asarray(BETAS))[:, None] * g.ravel()  # first step from zero, feature-major (6, N)
    x = features({"k": kernel}, {"k": g}, momenta, 0.25, {"k": layer}, 2 / 3, {"k": dormancy})
    assert x.shape == (19, 6)
    x = np.moveaxis(np.asarray(x).reshape(19, 2, 3), 0, -1)  # back to the kernel's shape, features last

    def rms_normalised(v):
        v = np.asarray(v, np.float64)
        return v / np.sqrt(1e-5 + np.mean(v**2))

    gn, pn = np.asarray(g, np.float64), np.asarray(kernel, np.float64)
    mn = np.moveaxis(np.asarray(momenta, np.float64).reshape(6, 2, 3), 0, -1)
    np.testing.assert_allclose(x[..., 0], rms_normalised(pn), rtol=1e-5)
    for i in range(6):
        np.testing.assert_allclose(x[..., 1 + i], rms_normalised(np.sign(mn[..., i])), rtol=1e-5)
        np.testing.assert_allclose(x[..., 7 + i], rms_normalised(np.log(np.abs(mn[..., i]) + 1e-13)), rtol=1e-5)
    np.testing.assert_allclose(x[..., 13], rms_normalised(np.sign(gn)), rtol=1e-5)
    np.testing.assert_allclose(x[..., 14], rms_normalised(np.log(np.abs(gn) + 1e-13)), rtol=1e-5)
    np.testing.assert_allclose(x[..., 15], 0.25)
    np.testing.assert_allclose(x[..., 16], 0.0)  # layer 0 of 2
    np.testing.assert_allclose(x[..., 17], 2 / 3, rtol=1e-6)
    # neuron activity [1, 0, 2] over its mean 1: the dead middle neuron scores 0, on every row
    np.testing.assert_allclose(x[..., 18], [[1.0, 0.0, 2.0]] * 2, rtol=1e-6)
    # each tensor is normalised by its own RMS: a second, 100x larger tensor changes nothing in the first
    other = 100.0 * jnp.ones(4)
    both = features(
        {"k": kernel, "o": other},
        {"k": g, "o": other},
        jnp.concatenate([momenta, momenta[:, :4]], axis=1),
        0.25,
        {"k": layer, "o": 1.0},
        2 / 3,
        {"k": dormancy, "o": 1.0},
    )
    np.testing.assert_allclose(np.moveaxis(np.asarray(both[:, :6]).reshape(19, 2, 3), 0, -1), x, rtol=1e-6)
    np.testing.assert_allclose(both[0, 6:], 1.0, rtol=1e-6)  # a constant tensor normalises to 1
    head = common.layer_proportions(params)["actor"]["params"]["layer_1"]["bias"]
    assert float(head) == 1.0


def test_open_update_is_zero_mean_and_noise_is_actor_only():
    phi = OPEN.init_meta_params(jax.random.key(0))
    opt = OPEN(phi)
    is_actor = {"actor": {"w": True, "b": True}, "critic": {"w": False}}
    grads = grads_like(PARAMS)

    def step(key, actor_mask=is_actor):
        return opt.update(grads, opt.init(PARAMS), PARAMS, key=key, is_actor=actor_mask)[0]

    a, b = step(jax.random.key(1)), step(jax.random.key(2))
    total = sum(x.sum() for x in jax.tree.leaves(a))
    assert abs(float(total)) < 1e-7  # u = u_hat - mean(u_hat)
    diff = jax.tree.map(lambda x, y: np.abs(np.asarray(x - y)).max(), a, b)
    assert diff["actor"]["w"] > 0 and diff["actor"]["b"] > 0
    # critic updates differ only through the shared mean, by one constant
    critic = np.asarray(a["critic"]["w"] - b["critic"]["w"])
    np.testing.assert_allclose(critic, critic[0], atol=1e-9)
    no_actor = jax.tree.map(lambda _: False, is_actor)
    assert jax.tree.all(
        jax.tree.map(np.array_equal, step(jax.random.key(1), no_actor), step(jax.random.key(2), no_actor))
    )
    deterministic = OPEN(phi, stochastic=False)
    out = deterministic.update(grads, deterministic.init(PARAMS), PARAMS)[0]  # no key needed
    assert all(np.isfinite(x).all() for x in jax.tree.leaves(out))
    with pytest.raises(ValueError, match="needs a PRNG key"):
        opt.update(grads, opt.init(PARAMS), PARAMS)


def test_open_reports_its_actor_noise_std():
    """noise_scale = mean over actor coordinates of |a3 delta|: with the delta head a constant c, a3 |c|."""
    phi = jax.tree.map(jnp.zeros_like, OPEN.init_meta_params(jax.random.key(0)))
    phi["params"]["params"]["layers_6"]["bias"] = jnp.array([0.0, 0.0, -2.5])
    is_actor = {"actor": {"w": True, "b": False}, "critic": {"w": False}}
    for stochastic, expected in ((True, 1e-3 * 2.5), (False, 0.0)):
        opt = OPEN(phi, stochastic=stochastic)
        state = opt.update(grads_like(PARAMS), opt.init(PARAMS), PARAMS, key=jax.random.key(0), is_actor=is_actor)[1]
        np.testing.assert_allclose(float(optax.tree_utils.tree_get(state, "noise_scale")), expected, rtol=1e-6)
    assert float(OPEN(phi).init(PARAMS).noise_scale) == 0.0


def test_open_ablations_zero_their_features():
    assert ablation("stochasticity") == {"stochastic": False}
    assert ablation("dormancy") == {"disable": ("dormancy",)}
    settings = ablation("no_features")
    mask = feature_mask(settings["disable"])
    assert settings["stochastic"] is False and mask[:15].all() and not mask[15:].any()
    phi = OPEN.init_meta_params(jax.random.key(0))
    # A disabled input cannot change the update.
    opt = OPEN(phi, disable=("training_proportion",), stochastic=False)
    a = opt.update(grads_like(PARAMS), opt.init(PARAMS), PARAMS, training_proportion=0.0)[0]
    b = opt.update(grads_like(PARAMS), opt.init(PARAMS), PARAMS, training_proportion=1.0)[0]
    assert jax.tree.all(jax.tree.map(np.array_equal, a, b))
    full = OPEN(phi, stochastic=False)
    c = full.update(grads_like(PARAMS), full.init(PARAMS), PARAMS, training_proportion=1.0)[0]
    assert not jax.tree.all(jax.tree.map(np.array_equal, a, c))


def test_zero_meta_params_make_zero_updates():
    zeros = jax.tree.map(jnp.zeros_like, OPEN.init_meta_params(jax.random.key(0)))
    opt = OPEN(zeros)
    updates = opt.update(grads_like(PARAMS), opt.init(PARAMS), PARAMS, key=jax.random.key(0))[0]
    assert all(np.array_equal(u, np.zeros_like(u)) for u in jax.tree.leaves(updates))


# -- checkpoints ----------------------------------------------------------------------------
def test_authors_checkpoints_load_in_their_layout(anchors_dir):
    for name in ("breakout_OPEN.npy", "gridworld_OPEN.npy"):
        flat = np.load(anchors_dir / "open_pretrained" / name)
        phi, size = load_open_checkpoint(anchors_dir / "open_pretrained" / name)
        assert size == "default"
        gru, mlp = phi["gru_params"]["params"], phi["params"]["params"]
        # SPEC 2.7 offsets: hn.bias first, iz.kernel ends at 679, the MLP starts at 680 with layers_0.bias
        np.testing.assert_array_equal(gru["hn"]["bias"], flat[:8])
        np.testing.assert_array_equal(gru["hn"]["kernel"].ravel(), flat[8:72])
        np.testing.assert_array_equal(gru["iz"]["kernel"].ravel(), flat[680 - 152 : 680])
        np.testing.assert_array_equal(mlp["layers_0"]["bias"], flat[680:696])
        np.testing.assert_array_equal(mlp["layers_6"]["kernel"].ravel(), flat[-48:])


def test_every_published_vector_is_the_authors_and_loads_at_its_size(anchors_dir):
    sizes = {name: load_authors_open(name)[1] for name in AUTHORS_OPEN}
    assert sizes == {**dict.fromkeys(AUTHORS_OPEN, "default"), "multi": "larger"}


def test_a_missing_or_altered_published_vector_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("L2O4RL_ANCHORS", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"breakout_OPEN.npy from https://github.com/AlexGoldie"):
        load_authors_open("breakout")
    (tmp_path / "open_pretrained").mkdir()
    np.save(tmp_path / "open_pretrained" / "breakout_OPEN.npy", np.zeros(1211, np.float32))  # loadable, not theirs
    with pytest.raises(ConfigError, match="not the authors' published breakout_OPEN.npy"):
        load_authors_open("breakout")
    with pytest.raises(ConfigError, match="the authors published ant, asterix, breakout"):
        load_authors_open("catch")


def test_checkpoint_errors_and_round_trip(tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros(100, np.float32))
    with pytest.raises(ConfigError, match="100 values match no OPEN size"):
        load_open_checkpoint(tmp_path / "bad.npy")
    phi = Optim4RL.init_meta_params(jax.random.key(3))
    path = save_meta_params(
        tmp_path / "optim4rl.npz", phi, "optim4rl", settings={"learning_rate": 1e-3}, trained_on="catch"
    )
    loaded, meta = load_meta_params(path, Optim4RL.init_meta_params(jax.random.key(0)))
    assert jax.tree.all(jax.tree.map(np.array_equal, loaded, phi))
    assert meta == {"kind": "optim4rl", "size": 1403, "settings": {"learning_rate": 1e-3}, "trained_on": "catch"}
    with pytest.raises(ConfigError, match="holds 1403 meta-parameters of a 'optim4rl'; the template has 1211"):
        load_meta_params(path, OPEN.init_meta_params(jax.random.key(0)))
