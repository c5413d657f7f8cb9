"""Evolution strategies meta-training of learned optimizers (OPEN's recipe, SPEC 2.3).

One generation is a pure step of :class:`ESState` (evosax state, PRNG key, and the mask of
meta-parameters an ablation leaves live):

1. ask OpenES (antithetic: members ``i`` and ``i + N/2`` are ``mean +- sigma z_i``) for a
   population of meta-parameters;
2. train one PPO agent per member with the learned optimizer those meta-parameters define,
   vmapped over the population and split over every device (:mod:`.sharding`);
3. score each member by its final return divided by Adam's return on that task, averaged
   over tasks (the problem, :mod:`.es_problem`); non-finite scores rank worst and are
   counted (``nan_members``);
4. tell OpenES the negated score (evosax minimises), rank-shaped to centered ranks; its
   Adam (b1 0.99) moves the mean; learning rate and sigma decay every generation.

All members of a generation share one rollout key (common random numbers), so differences
in score come from the meta-parameters. For a task distribution (the gridworld) each
antithetic pair instead shares its own sampled level and agent seed, and within a pair the
better member scores 1, the other 0 (ties 1/2): the pair's comparison is fair and across
pairs the levels vary (antithetic task sampling).

:func:`meta_train` runs generations through :func:`.loop.run_outer_loop`, so a run
checkpoints every ``checkpoint_every`` generations and resumes where it stopped.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import optax
from evosax.algorithms import Open_ES
from evosax.core.fitness_shaping import centered_rank_fitness_shaping_fn
from jax.sharding import Mesh

from ..config import Config, ConfigError, config, setting
from ..optim.catalog import INITS, mask
from .es_problem import InnerTask, es_trained, member_keys, member_scores, pairwise_win_lose
from .loop import run_checkpoints, run_outer_loop
from .sharding import over_population, population_mesh


@config
class ESConfig(Config):
    """OpenES settings (SPEC 2.3 defaults)."""

    population_size: int = setting(64, ge=2)
    generations: int = setting(500, ge=0)
    sigma: float = setting(0.03, gt=0.0, doc="initial noise std")
    es_learning_rate: float = setting(0.03, gt=0.0, doc="initial learning rate of the ES's Adam")
    decay: float = setting(0.999, gt=0.0, le=1.0, doc="per-generation decay of sigma and the learning rate")
    b1: float = setting(0.99, ge=0.0, le=1.0, doc="first-moment decay of the ES's Adam")
    init: str = setting("zeros", choices=INITS, doc="ES starting mean")
    checkpoint_every: int = setting(10, ge=1, doc="generations per checkpoint (and per compiled chunk)")

    def validate(self) -> None:
        if self.population_size % 2:
            raise ConfigError(
                f"{type(self).__name__}.population_size = {self.population_size} must be even (antithetic pairs)"
            )


def make_strategy(template: Any, cfg: ESConfig) -> Open_ES:
    """OpenES with antithetic sampling, centered ranks, and Adam whose lr decays like sigma."""
    decayed = lambda value: optax.exponential_decay(value, transition_steps=1, decay_rate=cfg.decay)  # noqa: E731
    return Open_ES(
        cfg.population_size,
        template,
        use_antithetic_sampling=True,
        optimizer=optax.adam(decayed(cfg.es_learning_rate), b1=cfg.b1),
        std_schedule=decayed(cfg.sigma),
        fitness_shaping_fn=centered_rank_fitness_shaping_fn,  # ranks in [-0.5, 0.5]; NaN ranks worst
    )


# -- one generation --------------------------------------------------------------------------


class ESState(NamedTuple):
    strategy: Any  # evosax OpenES state: mean, sigma, Adam state, best member, generation counter
    key: jax.Array
    live: Any  # 1 where a meta-parameter is used (see LearnedSpec.live)


def init_state(strategy: Open_ES, mean: Any, key: jax.Array, live: Any = None) -> ESState:
    init_key, key = jax.random.split(key)
    live = jax.tree.map(jnp.ones_like, mean) if live is None else live
    state = strategy.init(init_key, mask(mean, live), strategy.default_params)
    # evosax starts some fields as Python scalars (weakly typed); a scan carry needs fixed types.
    return ESState(jax.tree.map(lambda x: jnp.asarray(x, jnp.result_type(x)), state), key, live)


def make_generation(
    strategy: Open_ES,
    scores: Callable[[Any, jax.Array], jax.Array],
    *,
    antithetic_tasks: bool = False,
    mesh: Mesh | None = None,
) -> Callable[[ESState], tuple[ESState, dict[str, jax.Array]]]:
    """The pure ES generation ``state -> (state, metrics)``.

    ``scores(meta_params, key) -> (num_tasks,)`` scores one member (higher is better);
    ``mesh`` splits the population over devices (see :mod:`.sharding`). Metrics: the
    population's ``fitness_mean/max/min`` (the mean score over tasks, finite members),
    ``task_scores`` (population mean per task), ``nan_members`` and ``sigma``.
    """
    es_params = strategy.default_params
    evaluate = over_population(scores, mesh)

    def generation(state: ESState) -> tuple[ESState, dict[str, jax.Array]]:
        key, ask_key, eval_key, tell_key = jax.random.split(state.key, 4)
        population, strategy_state = strategy.ask(ask_key, state.strategy, es_params)
        live = jax.tree.map(lambda x: jnp.broadcast_to(x, (strategy.population_size,) + x.shape), state.live)
        per_task = evaluate(mask(population, live), member_keys(eval_key, strategy.population_size, antithetic_tasks))
        score = jnp.mean(per_task, axis=1)
        finite = jnp.isfinite(score)
        score = jnp.where(finite, score, jnp.nan)
        fitness = pairwise_win_lose(score) if antithetic_tasks else score
        # evosax minimises and ranks NaN as worst: hand it the negated fitness.
        strategy_state, _ = strategy.tell(tell_key, population, -fitness, strategy_state, es_params)
        metrics = {
            "fitness_mean": jnp.nanmean(score),
            "fitness_max": jnp.nanmax(score),
            "fitness_min": jnp.nanmin(score),
            "task_scores": jnp.nanmean(jnp.where(finite[:, None], per_task, jnp.nan), axis=0),
            "nan_members": jnp.sum(~finite),
            "sigma": state.strategy.std,
        }
        return state._replace(strategy=strategy_state, key=key), metrics

    return generation


# -- a whole run -----------------------------------------------------------------------------


class ESResult(NamedTuple):
    start: Any  # the starting mean: the untrained learned optimizer
    mean: Any  # the ES mean: the trained meta-parameters
    best: Any  # the best member seen (by its single-seed score)
    metrics: dict[str, np.ndarray]  # per generation
    state: ESState


def meta_train(
    kind: str,
    tasks: Sequence[InnerTask],
    cfg: ESConfig,
    seed: int = 0,
    *,
    antithetic_tasks: bool = False,
    devices: Sequence[jax.Device] | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = True,
    desc: str | None = None,
) -> ESResult:
    """Meta-train learned optimizer ``kind`` on ``tasks`` by OpenES for ``cfg.generations``.

    The population is split over ``devices`` (default: all); ``checkpoint_dir`` makes the
    run resumable (a checkpoint every ``cfg.checkpoint_every`` generations).
    """
    spec = es_trained(kind)
    if not tasks:
        raise ConfigError("meta_train needs at least one InnerTask")
    init_key, run_key = jax.random.split(jax.random.key(seed))
    template = spec.init_meta_params(init_key, cfg.init)
    strategy = make_strategy(template, cfg)
    generation = make_generation(
        strategy,
        member_scores(kind, tasks),
        antithetic_tasks=antithetic_tasks,
        mesh=population_mesh(cfg.population_size, devices),
    )
    # What the generations compute; not how many there are, so a run can be resumed to go further.
    es_settings = cfg.replace(generations=0, checkpoint_every=1).key()
    fingerprint = repr(
        (
            kind,
            [(t.task, sorted(t.overrides.items()), t.normaliser, t.levels) for t in tasks],
            es_settings,
            seed,
            antithetic_tasks,
        )
    )
    state, metrics = run_outer_loop(
        generation,
        init_state(strategy, template, run_key, spec.live(template)),
        cfg.generations,
        chunk=cfg.checkpoint_every,
        checkpoint_dir=checkpoint_dir,
        fingerprint=fingerprint,
        desc=desc or f"ES {kind}",
        show=("fitness_mean", "fitness_max", "nan_members"),
        progress=progress,
    )
    failed = int(metrics["nan_members"].sum()) if metrics else 0
    if failed:
        warnings.warn(f"ES {kind}: {failed} member evaluations gave a non-finite return (ranked worst)", stacklevel=2)
    # Coordinates an ablation removed drift with noise in the ES; they never act, so zero them.
    unravel = jax.flatten_util.ravel_pytree(template)[
        1
    ]  # the strategy's flat layout: ravel_pytree of the same template
    mean, best = (mask(unravel(x), state.live) for x in (state.strategy.mean, state.strategy.best_solution))
    return ESResult(template, mean, best, metrics, state)


def resumable_meta_train(run: str, kind: str, tasks: list[InnerTask], cfg: ESConfig, seed: int, **kwargs: Any):
    """:func:`meta_train` checkpointing under ``.cache/es`` while it runs (see :func:`.loop.run_checkpoints`)."""
    with run_checkpoints("es", f"{cfg.key()}-{seed}", run) as directory:
        return meta_train(kind, tasks, cfg, seed, checkpoint_dir=directory, desc=f"ES {run}", **kwargs)
