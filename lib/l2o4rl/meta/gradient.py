"""Meta-gradient training of a learned optimizer with pipeline training (SPEC 1.3-1.4).

One outer step, for every agent of every task at once (vmapped):

1. re-initialise the agents whose reset phase has come (pipeline, never or lockstep, see
   :mod:`.pipeline`), and any agent whose parameters went non-finite;
2. run ``K`` A2C updates with the learned optimizer built from ``phi`` (``lax.scan``);
3. collect a fresh rollout at ``theta_{t+K}`` and take the agent's loss on it: its whole
   A2C loss, or (``meta_loss="actor"``, the authors') the policy-gradient term alone;
4. differentiate each task's mean loss over its agents w.r.t. ``phi`` -- truncated
   backpropagation through the ``K`` updates, gradient inputs stop-gradient -- optionally
   rescale each task's meta-gradient to a fixed global norm (``task_grad_norm``, the
   authors' ``max_norm``), average over tasks, clip (by global norm, or element-wise as the
   authors do) and apply Adam. A non-finite meta-gradient skips the update and is counted.

Each agent learns from its own single environment during meta-training (SPEC 1.4); the
optimizer's learning rate is each task's agent learning rate.

    trainer = MetaGradientTrainer(MetaGradientConfig(tasks=("catch_a2c",)))
    state, metrics = trainer.train(jax.random.key(0))
    optimizer = trainer.optimizer(state.meta_params, "catch_a2c")   # any optax loop
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..agents.a2c import A2C, A2CConfig
from ..agents.base import AgentState
from ..agents.common import gae
from ..config import Config, config, setting
from ..envs import make
from ..optim.catalog import INITS, META_GRADIENT, learned
from ..optim.optim4rl import HEADS
from ..tasks import A2C_TASKS, GRIDWORLDS, get_task
from .loop import NONFINITE, run_outer_loop
from .pipeline import RESET_MODES, advance_ages, reset_mask, reset_offsets, select_agents

META_LOSSES = ("a2c", "actor")
CLIP_KINDS = ("global_norm", "value")

# Multi-task meta-training over the six LPG gridworlds (SPEC 1.5): reward scale and agent lr.
GRIDWORLD_REWARD_SCALES = tuple(get_task(name).mix_reward_scale for name in GRIDWORLDS)
GRIDWORLD_LEARNING_RATES = tuple(get_task(name).mix_learning_rate for name in GRIDWORLDS)
# Each task's meta-gradient is rescaled to this norm before averaging: one value of the authors'
# max_norm sweep (-1, 1e2, 1, 1e-2 in grid_meta.json).
GRIDWORLD_TASK_GRAD_NORM = 1.0
# On a CPU the per-parameter optimizer activations of 64 agents at once overflow its caches: the
# outer step in groups of 4 agents ran 1.2-1.7x faster on 2 cores (bench/meta_gradient.py, README).
CPU_AGENT_GROUP = 4
# Agents in groups also rematerialise each group's K updates: the backward pass's memory then no
# longer grows with agents x K x the optimizer's per-parameter state (Optim4RL, 512 agents on
# big_dense_long: 10.1 GiB instead of 21.5, which took a 24 GiB host to its limit), at about 25%
# more time (64 agents on small_dense_long: 1.19 s instead of 0.95 s per outer step). Off by
# default: the `cpu`-scale runs fit; a host short of memory for a `paper` config sets it.
REMAT_GROUPS = False


@config
class MetaGradientConfig(Config):
    tasks: tuple[str, ...] = setting(("catch_a2c",), each_in=A2C_TASKS, doc="A2C tasks meta-trained on together")
    optimizer: str = setting("optim4rl", choices=META_GRADIENT)
    heads: str = setting(
        "mlp", choices=HEADS, doc="the optimizer's structure: mlp (the authors'), linear (our first port)"
    )
    init: str = setting(
        "random",
        choices=INITS,
        doc="initial meta-parameters: all zero, random (flax init), or random with steps scaled by DAMPING",
    )
    num_agents: int = setting(64, ge=1, doc="agents per task, one environment each")
    inner_updates: int = setting(4, ge=1, doc="K: agent updates per outer step")
    remat: bool = setting(True, doc="recompute each inner update in the backward pass instead of storing it")
    agent_group: int | None = setting(
        None,
        ge=1,
        doc="agents vmapped together, the groups one after another; None: all at once on an accelerator, "
        f"{CPU_AGENT_GROUP} on a CPU",
    )
    reset_period: int = setting(32, ge=1, doc="m: outer steps in one agent lifetime")
    resets: str = setting(
        "pipeline",
        choices=RESET_MODES,
        doc="pipeline: staggered resets; never: one life (the authors' ablation); lockstep: all together",
    )
    outer_steps: int = setting(100, ge=0)
    meta_lr: float = setting(1e-3, gt=0.0)
    meta_loss: str = setting(
        "actor",
        choices=META_LOSSES,
        doc="the agent loss after K updates: the whole A2C loss, or its actor term (the authors')",
    )
    meta_clip: float = setting(1.0, gt=0.0, doc="clip the averaged meta-gradient (see meta_clip_by)")
    meta_clip_by: str = setting("value", choices=CLIP_KINDS, doc="value: element-wise, the authors' optax.clip")
    task_grad_norm: float | None = setting(
        None,
        gt=0.0,
        doc="rescale each task's meta-gradient to this global norm "
        "before averaging (the authors' max_norm); None: no rescaling",
    )
    reward_scales: tuple[float, ...] = setting((), one_per="tasks", or_empty=True, doc="empty: each task's own")
    learning_rates: tuple[float, ...] = setting(
        (), one_per="tasks", or_empty=True, doc="the optimizer's lr per task; empty: the task's agent lr"
    )

    def learning_rate(self, task: str) -> float:
        return self.learning_rates[self.tasks.index(task)] if self.learning_rates else get_task(task).learning_rate


class Reset(NamedTuple):
    """One task's agents after their resets: the agents, their ages, how many were non-finite."""

    agents: AgentState
    ages: jax.Array
    nonfinite: jax.Array


class MetaState(NamedTuple):
    meta_params: Any
    meta_opt_state: Any
    agents: tuple[AgentState, ...]  # one batch of agents per task
    ages: tuple[jax.Array, ...]  # outer steps since each agent's last reset
    offsets: jax.Array  # reset phases: data, not constants, so pipeline and lockstep share one compiled step
    step: jax.Array
    key: jax.Array


@dataclass(frozen=True)
class _Group:
    """The agents of one task: their config (single env, lifetime = one reset period) and env."""

    task: str
    config: A2CConfig
    learning_rate: float
    env: Any
    env_params: Any


class MetaGradientTrainer:
    def __init__(self, cfg: MetaGradientConfig):
        self.cfg = cfg
        self.spec = learned(cfg.optimizer)
        clip = optax.clip_by_global_norm if cfg.meta_clip_by == "global_norm" else optax.clip
        self.meta_clip = clip(cfg.meta_clip)
        # The meta learning rate is state, not a constant of the compiled step: the candidates of a
        # meta-lr sweep share one compilation (through the persistent cache).
        adam = optax.inject_hyperparams(optax.adam)(learning_rate=cfg.meta_lr)
        self.meta_optimizer = optax.chain(self.meta_clip, adam)
        self.groups = []
        for i, name in enumerate(cfg.tasks):
            task = get_task(name)
            lifetime_steps = cfg.reset_period * cfg.inner_updates * task.config.num_steps
            agent_cfg = task.at(
                num_envs=1,
                total_timesteps=lifetime_steps,
                reward_scale=cfg.reward_scales[i] if cfg.reward_scales else task.config.reward_scale,
            )
            env, env_params = make(agent_cfg.env, brax_backend=agent_cfg.brax_backend, **agent_cfg.env_kwargs)
            self.groups.append(_Group(name, agent_cfg, cfg.learning_rate(name), env, env_params))

    # -- the learned optimizer -------------------------------------------------------------
    def init_meta_params(self, key: jax.Array) -> Any:
        return self.spec.init_meta_params(key, self.cfg.init, heads=self.cfg.heads)

    def optimizer(self, meta_params: Any, task: str) -> optax.GradientTransformationExtraArgs:
        """The learned optimizer at ``task``'s learning rate, for use in any optax loop."""
        return self.spec.build(meta_params, self.cfg.learning_rate(task), heads=self.cfg.heads)

    def _agent(self, group: _Group, meta_params: Any) -> A2C:
        optimizer = self.spec.build(meta_params, group.learning_rate, heads=self.cfg.heads)
        return A2C(group.config, optimizer, group.env, group.env_params)

    # -- one outer step ----------------------------------------------------------------------
    def init(self, key: jax.Array, meta_params: Any = None) -> MetaState:
        meta_key, key = jax.random.split(key)
        meta_params = self.init_meta_params(meta_key) if meta_params is None else meta_params
        agents = []
        for group in self.groups:
            key, agent_key = jax.random.split(key)
            agent = self._agent(group, meta_params)
            agents.append(jax.vmap(agent.init)(jax.random.split(agent_key, self.cfg.num_agents)))
        return MetaState(
            meta_params=meta_params,
            meta_opt_state=self.meta_optimizer.init(meta_params),
            agents=tuple(agents),
            ages=tuple(jnp.zeros(self.cfg.num_agents, jnp.int32) for _ in self.groups),
            offsets=jnp.asarray(reset_offsets(self.cfg.num_agents, self.cfg.reset_period, self.cfg.resets)),
            step=jnp.asarray(0),
            key=key,
        )

    def _reset(self, group: _Group, meta_params, agents: AgentState, ages, offsets, step, key) -> Reset:
        """Re-initialise agents at their reset phase, and agents whose parameters went non-finite."""
        fresh = jax.vmap(self._agent(group, meta_params).init)(jax.random.split(key, self.cfg.num_agents))
        broken = ~jax.vmap(_all_finite)(agents.params)
        mask = jnp.logical_and(step > 0, reset_mask(step, offsets, self.cfg.reset_period)) | broken
        return Reset(select_agents(mask, fresh, agents), advance_ages(ages, mask) * (step > 0), jnp.sum(broken))

    def _meta_loss(self, meta_params, group: _Group, agent_state: AgentState):
        """One agent: K updates with the optimizer built from ``meta_params``, then its loss on a fresh rollout."""
        agent = self._agent(group, meta_params)
        # Rematerialised, backpropagation keeps only the agent state between updates and recomputes
        # each update's per-parameter optimizer activations: big_dense_long at 64 agents needs 7 GiB
        # instead of 24, and the outer step runs faster on CPU (bench/meta_gradient.py).
        update = jax.checkpoint(agent.update) if self.cfg.remat else agent.update
        state, _ = jax.lax.scan(lambda s, _: update(s), agent_state, None, length=self.cfg.inner_updates)
        # The rollout is data for the loss; the meta-gradient flows only through the parameters it scores.
        after, transitions, last_value = agent.collect_rollout(jax.lax.stop_gradient(state))
        advantages, targets = gae(transitions, last_value, group.config.gamma, group.config.gae_lambda)
        loss, (parts, _) = agent.loss(state.params, transitions, advantages, targets)
        loss = parts["actor_loss"] if self.cfg.meta_loss == "actor" else loss
        return loss, after._replace(params=jax.lax.stop_gradient(state.params))

    @property
    def agent_group(self) -> int:
        if self.cfg.agent_group is not None:
            return self.cfg.agent_group
        return CPU_AGENT_GROUP if jax.default_backend() == "cpu" else self.cfg.num_agents

    def meta_losses(self, meta_params, group: _Group, agents: AgentState):
        """:meth:`_meta_loss` of every agent of ``group``, vmapped in groups of :attr:`agent_group` agents."""
        size = self.agent_group
        if size >= self.cfg.num_agents:
            return jax.vmap(self._meta_loss, (None, None, 0))(meta_params, group, agents)

        def one(agent):
            return self._meta_loss(meta_params, group, agent)

        # See REMAT_GROUPS: the groups' loop then keeps each group's agent state for the backward
        # pass, not its K updates' optimizer states.
        return jax.lax.map(jax.checkpoint(one) if REMAT_GROUPS else one, agents, batch_size=size)

    def step(self, meta_state: MetaState) -> tuple[MetaState, dict[str, jax.Array]]:
        phi, step = meta_state.meta_params, meta_state.step
        key, *reset_keys = jax.random.split(meta_state.key, len(self.groups) + 1)
        resets = [
            self._reset(g, phi, a, ages, meta_state.offsets, step, k)
            for g, a, ages, k in zip(self.groups, meta_state.agents, meta_state.ages, reset_keys)
        ]
        agents = tuple(r.agents for r in resets)

        def task_loss(phi, group, agents):
            losses, states = self.meta_losses(phi, group, agents)
            return jnp.mean(losses), states

        per_task = [jax.value_and_grad(task_loss, has_aux=True)(phi, g, a) for g, a in zip(self.groups, agents)]
        loss = jnp.mean(jnp.stack([task_loss for (task_loss, _), _ in per_task]))
        agents = tuple(states for (_, states), _ in per_task)
        grads = combine_task_gradients([grads for _, grads in per_task], self.cfg.task_grad_norm)
        updates, opt_state = self.meta_optimizer.update(grads, meta_state.meta_opt_state, phi)
        finite = _all_finite(grads)
        phi, opt_state = _where(
            finite, (optax.apply_updates(phi, updates), opt_state), (phi, meta_state.meta_opt_state)
        )
        metrics = {
            "meta_loss": loss,
            "meta_grad_norm": optax.global_norm(grads),
            NONFINITE: (~finite).astype(jnp.int32),
            "agents_reset_nonfinite": sum(r.nonfinite for r in resets),
            **{f"return_{g.task}": jnp.nanmean(a.episodes.last) for g, a in zip(self.groups, agents)},
        }
        new_state = MetaState(phi, opt_state, agents, tuple(r.ages for r in resets), meta_state.offsets, step + 1, key)
        return new_state, metrics

    def train(
        self,
        key: jax.Array,
        meta_params: Any = None,
        checkpoint_dir: str | os.PathLike | None = None,
        chunk: int = 10,
        progress: bool = True,
    ) -> tuple[MetaState, dict[str, np.ndarray]]:
        """``outer_steps`` outer steps from ``init(key)``; resumable through ``checkpoint_dir``."""
        return run_outer_loop(
            self.step,
            self.init(key, meta_params),
            self.cfg.outer_steps,
            chunk=chunk,
            checkpoint_dir=checkpoint_dir,
            fingerprint=self.cfg.replace(outer_steps=0).key(),  # a run may be extended
            desc=f"meta-train {self.cfg.optimizer} on {'+'.join(self.cfg.tasks)}",
            show=[f"return_{t}" for t in self.cfg.tasks] + ["meta_loss"],
            progress=progress,
        )


def combine_task_gradients(task_grads: list[Any], norm: float | None = None) -> Any:
    """The mean of the tasks' meta-gradients, each first rescaled to global norm ``norm`` when
    given (the authors' ``max_norm``: without it the task with the largest rewards dominates)."""
    if norm is not None:
        norms = [optax.global_norm(g) for g in task_grads]
        task_grads = [jax.tree.map(lambda x, n=n: x / n * norm, g) for g, n in zip(task_grads, norms)]
    return jax.tree.map(lambda *xs: jnp.mean(jnp.stack(xs), axis=0), *task_grads)


def _all_finite(tree: Any) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]))


def _where(condition: jax.Array, if_true: Any, if_false: Any) -> Any:
    return jax.tree.map(lambda a, b: jnp.where(condition, a, b), if_true, if_false)
