"""Cost of one meta-gradient outer step relative to the same K inner updates without it.

    .venv/bin/python bench/meta_gradient.py [--task small_dense_long] [--agents 64] [--optimizer optim4rl]
        [--agent-group 4]

The forward-only baseline runs the same agents, the same K updates with the same learned
optimizer and the same fresh rollout, but takes no meta-gradient. Both run with the agents
vmapped in the platform's groups (``MetaGradientConfig.agent_group``; or ``--agent-group``)
and all at once; the cost factor divides the first's outer step by the faster forward-only
run. Timed after compilation, best of 3.
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
    parser.add_argument(
        "--agent-group", type=int, default=None, help="agents vmapped together (default: the platform's)"
    )
    args = parser.parse_args()
    cfg = MetaGradientConfig(tasks=(args.task,), num_agents=args.agents, optimizer=args.optimizer)
    chosen = MetaGradientTrainer(cfg.replace(agent_group=args.agent_group)).agent_group
    rows = {}  # agents vmapped together -> (outer step s, forward-only s)
    for size in dict.fromkeys((chosen, args.agents)):
        trainer = MetaGradientTrainer(cfg.replace(agent_group=size))
        state = trainer.init(jax.random.key(0))
        group = trainer.groups[0]

        def forward_only(s, trainer=trainer, group=group):
            return trainer.meta_losses(s.meta_params, group, s.agents[0])

        rows[size] = seconds_per_call(trainer.step, state), seconds_per_call(forward_only, state)
    inner_steps = cfg.num_agents * (cfg.inner_updates + 1) * group.config.steps_per_update
    print(
        f"device: {jax.devices()[0].device_kind} x{jax.device_count()}; {args.optimizer} on {args.task}, "
        f"{cfg.num_agents} agents, K={cfg.inner_updates}"
    )
    print(f"{'agents vmapped together':<26}{'outer step ms':>15}{'same K updates ms':>19}{'env steps/s':>13}")
    for size, (outer, forward) in rows.items():
        print(f"{size:<26}{outer * 1e3:>15.1f}{forward * 1e3:>19.1f}{inner_steps / forward:>13,.0f}")
    fastest_forward = min(forward for _, forward in rows.values())
    # Against the faster batching of the K updates alone: the cost of the meta-gradient, not of a layout.
    print(f"meta-gradient cost factor ({chosen} together): {rows[chosen][0] / fastest_forward:.2f}x")


if __name__ == "__main__":
    main()
