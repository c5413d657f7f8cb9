"""Cost of one meta-gradient outer step relative to the same K inner updates without it.

    .venv/bin/python bench/meta_gradient.py [--task small_dense_long] [--agents 64] [--optimizer optim4rl]

The forward-only baseline runs the same agents, the same K updates with the same learned
optimizer and the same fresh rollout, but takes no meta-gradient. Timed after compilation,
best of 3.
"""

import argparse
import time

import l2o4rl

l2o4rl.configure_jax()  # before jax starts
import jax

from l2o4rl.meta.gradient import MetaGradientConfig, MetaGradientTrainer
from l2o4rl.optim.catalog import META_GRADIENT


def seconds_per_call(fn, state, repeats=3) -> float:
    compiled = jax.jit(fn).lower(state).compile()
    jax.block_until_ready(compiled(state))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(compiled(state))
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="small_dense_long")
    parser.add_argument("--agents", type=int, default=64)
    parser.add_argument("--optimizer", default="optim4rl", choices=META_GRADIENT)
    args = parser.parse_args()
    cfg = MetaGradientConfig(tasks=(args.task,), num_agents=args.agents, optimizer=args.optimizer)
    trainer = MetaGradientTrainer(cfg)
    state = trainer.init(jax.random.key(0))
    group = trainer.groups[0]

    def forward_only(s):
        return jax.vmap(trainer._meta_loss, (None, None, 0))(s.meta_params, group, s.agents[0])

    outer, forward = seconds_per_call(trainer.step, state), seconds_per_call(forward_only, state)
    inner_steps = cfg.num_agents * (cfg.inner_updates + 1) * group.config.steps_per_update
    print(
        f"device: {jax.devices()[0].device_kind} x{jax.device_count()}; {args.optimizer} on {args.task}, "
        f"{cfg.num_agents} agents, K={cfg.inner_updates}"
    )
    print(f"outer step (meta-gradient): {outer * 1e3:8.1f} ms  ({1 / outer:.2f} outer steps/s)")
    print(f"same K updates, no meta-gradient: {forward * 1e3:8.1f} ms  ({inner_steps / forward:,.0f} env steps/s)")
    print(f"meta-gradient cost factor: {outer / forward:.2f}x")


if __name__ == "__main__":
    main()
