"""ES meta-training speed: one generation of a population on the current devices.

    .venv/bin/python bench/es.py [--task catch] [--kind open] [--population 16] [--timesteps 16384] [--shape small]

Reports the wall time of one ES generation (ask, every member's whole PPO run, tell; the
population split over all devices), the inner environment steps per second, and how much
faster that is than training the same members one after another (one compiled PPO run,
called per member). Timed after compilation, best of ``--repeats``.
"""

import argparse

import l2o4rl

l2o4rl.configure_jax()  # before jax starts
import jax

from l2o4rl.meta.es import ESConfig, init_state, make_generation, make_strategy
from l2o4rl.meta.es_problem import InnerTask, member_scores
from l2o4rl.meta.sharding import population_mesh
from l2o4rl.optim.catalog import ES_TRAINED, learned
from l2o4rl.runtime import timed
from l2o4rl.tasks import INNER_SHAPES, TASKS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="catch", choices=tuple(TASKS))
    parser.add_argument("--kind", default="open", choices=ES_TRAINED)
    parser.add_argument("--population", type=int, default=16)
    parser.add_argument("--timesteps", type=int, default=16_384, help="inner PPO budget per member")
    parser.add_argument(
        "--shape", default="small", choices=tuple(INNER_SHAPES), help="inner PPO shape (open_es experiments)"
    )
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    task = InnerTask(args.task, {"total_timesteps": args.timesteps, **INNER_SHAPES[args.shape]})
    template = learned(args.kind).init_meta_params(jax.random.key(0), "random")
    strategy = make_strategy(template, ESConfig(population_size=args.population))
    scores = member_scores(args.kind, [task])
    state = init_state(strategy, template, jax.random.key(1))
    mesh = population_mesh(args.population)

    generation = jax.jit(make_generation(strategy, scores, mesh=mesh))
    generation.lower(state).compile()
    population_s = min(timed(lambda: generation(state))[1] for _ in range(args.repeats))

    population, _ = strategy.ask(jax.random.key(2), state.strategy, strategy.default_params)
    one = jax.jit(scores)
    member = lambda i: jax.tree.map(lambda x: x[i], population)  # noqa: E731
    one.lower(member(0), jax.random.key(3)).compile()
    sequential_s = min(
        sum(timed(lambda i=i: one(member(i), jax.random.key(3)))[1] for i in range(args.population))
        for _ in range(args.repeats)
    )

    steps = args.population * args.timesteps
    device = jax.devices()[0]
    print(
        f"device: {device.device_kind} x{jax.device_count()} ({device.platform}); {args.kind} on {args.task}, "
        f"population {args.population}, {args.timesteps:,} PPO steps per member, {args.shape!r} PPO shape"
    )
    print(f"{'':<34}{'wall s':>10}{'env steps/s':>14}")
    print(f"{'one generation (vmapped, sharded)':<34}{population_s:>10.2f}{steps / population_s:>14,.0f}")
    print(f"{'the members one after another':<34}{sequential_s:>10.2f}{steps / sequential_s:>14,.0f}")
    print(f"speed-up of the vmapped population: {sequential_s / population_s:.2f}x")


if __name__ == "__main__":
    main()
