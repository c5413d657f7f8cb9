"""ES meta-training speed: one generation of a population on the current devices.

    .venv/bin/python bench/es.py [--task catch] [--kind open] [--population 16] [--timesteps 16384] [--shape small]

Reports the wall time of one ES generation (ask, every member's whole PPO run, tell; the
population split over all devices), the inner environment steps per second, and how much
faster that is than training the same members one after another (one compiled PPO run,
called per member). Timed after compilation, best of ``--repeats``.

``--profile`` also traces one generation and splits its compute time by the agents' named
scopes: the environment step, the rest of the rollout (policy, sampling), the optimizer
update, and everything else (losses, gradients, advantages, the ES itself). Times are summed
over the devices' threads; control-flow thunks, which contain the others, are not counted.
"""

import argparse
import collections
import gzip
import json
import re
import tempfile
from pathlib import Path

import l2o4rl

l2o4rl.configure_jax()  # before jax starts
import jax

from l2o4rl.meta.es import ESConfig, init_state, make_generation, make_strategy
from l2o4rl.meta.es_problem import InnerTask, member_scores
from l2o4rl.meta.sharding import population_mesh
from l2o4rl.optim.catalog import ES_TRAINED, learned
from l2o4rl.runtime import timed
from l2o4rl.tasks import INNER_SHAPES, TASKS, get_task

SCOPES = {"env": "environment step", "rollout": "rest of the rollout", "optimizer": "optimizer update"}
OTHER = "losses, gradients, advantages, ES"
CONTAINERS = ("while", "conditional", "call")


def profile(compiled, *args) -> dict[str, float]:
    """Seconds of one call of ``compiled`` per scope (innermost named scope of each HLO op)."""
    scope_of = {}
    for match in re.finditer(r'^\s*(?:ROOT )?%?([\w.-]+) = .*?op_name="([^"]*)"', compiled.as_text(), re.M):
        names = match[2].split("/")
        scope_of[match[1]] = next((SCOPES[n] for n in reversed(names) if n in SCOPES), OTHER)
    with tempfile.TemporaryDirectory() as trace_dir:
        jax.profiler.start_trace(trace_dir)
        jax.block_until_ready(compiled(*args))
        jax.profiler.stop_trace()
        events = json.load(gzip.open(next(Path(trace_dir).rglob("*.trace.json.gz"))))["traceEvents"]
    seconds = collections.Counter()
    for event in events:
        name = event.get("name", "")
        if event.get("ph") == "X" and name in scope_of and not name.startswith(CONTAINERS):
            seconds[scope_of[name]] += event["dur"] / 1e6
    return dict(seconds)


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
    parser.add_argument("--profile", action="store_true", help="also split a generation's time by scope")
    parser.add_argument("--profile-timesteps", type=int, default=2_048, help="inner budget of the profiled generation")
    args = parser.parse_args()

    template = learned(args.kind).init_meta_params(jax.random.key(0), "random")
    strategy = make_strategy(template, ESConfig(population_size=args.population))
    state = init_state(strategy, template, jax.random.key(1))
    mesh = population_mesh(args.population)

    def inner_task(timesteps: int) -> InnerTask:
        return InnerTask(args.task, {"total_timesteps": timesteps, **INNER_SHAPES[args.shape]})

    def compiled_generation(timesteps: int):
        scores = member_scores(args.kind, [inner_task(timesteps)])
        return jax.jit(make_generation(strategy, scores, mesh=mesh)).lower(state).compile()

    def best(fn) -> float:
        return min(timed(fn)[1] for _ in range(args.repeats))

    generation = compiled_generation(args.timesteps)
    population_s = best(lambda: generation(state))

    population, _ = strategy.ask(jax.random.key(2), state.strategy, strategy.default_params)
    one = jax.jit(member_scores(args.kind, [inner_task(args.timesteps)]))
    member = lambda i: jax.tree.map(lambda x: x[i], population)  # noqa: E731
    one.lower(member(0), jax.random.key(3)).compile()
    sequential_s = best(lambda: [one(member(i), jax.random.key(3)) for i in range(args.population)])

    # The same population of inner runs, each trained with the task's tuned Adam instead.
    keys = jax.random.split(jax.random.key(4), args.population)
    inner = inner_task(args.timesteps)
    task = get_task(args.task)
    adam_run = inner.final_return(task.optimizer("adam", task.at(**inner.overrides)))
    adam = jax.jit(jax.vmap(adam_run)).lower(keys).compile()
    adam_s = best(lambda: adam(keys))

    steps = args.population * args.timesteps
    device = jax.devices()[0]
    print(
        f"device: {device.device_kind} x{jax.device_count()} ({device.platform}); {args.kind} on {args.task}, "
        f"population {args.population}, {args.timesteps:,} PPO steps per member, {args.shape!r} PPO shape"
    )
    print(f"{'':<40}{'wall s':>10}{'env steps/s':>14}")
    for name, seconds in (
        ("one generation (vmapped, sharded)", population_s),
        ("the members one after another", sequential_s),
        ("the population's runs with Adam (vmapped)", adam_s),
    ):
        print(f"{name:<40}{seconds:>10.2f}{steps / seconds:>14,.0f}")
    print(f"speed-up of the vmapped population: {sequential_s / population_s:.2f}x")
    if args.profile:
        # A shorter generation of the same shapes: every update costs the same, and the
        # profiler keeps at most a million events (a 16-member, 16k-step generation overflows it).
        # Compiled afresh: the persistent cache ignores metadata, so a program cached before
        # the scopes were named would come back without them.
        jax.config.update("jax_enable_compilation_cache", False)
        seconds = profile(compiled_generation(args.profile_timesteps), state)
        total = sum(seconds.values())
        print(f"compute of a {args.profile_timesteps:,}-step generation by scope ({total:.2f} s over all threads):")
        for scope, s in sorted(seconds.items(), key=lambda kv: -kv[1]):
            print(f"  {scope:<36}{s:>8.2f} s {100 * s / total:>6.1f}%")


if __name__ == "__main__":
    main()
