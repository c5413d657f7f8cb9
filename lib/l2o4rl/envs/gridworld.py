"""Pure-JAX gridworlds behind gymnax's interface: Optim4RL's six LPG worlds and OPEN's ``rand_all``.

One environment class, :class:`GridWorld`, serves every world. Its *static* shape (grid height
x width, number of object slots, action set, observation kind) is fixed by the constructor, so
jit compiles it once; everything a level distribution varies (the playable area, walls, each
object's reward and probabilities, the episode length) lives in :class:`EnvParams`. That lets
one sampled level be shared by all vmapped envs of a training run while ``reset`` and ``step``
keep gymnax's signatures, and lets one network serve every level of a distribution.

Dynamics of one step:

1. the agent moves; an action into a wall or off the playable area leaves it in place;
2. if it lands on objects it gets their rewards and they leave the grid; the episode terminates
   with the collected objects' terminate probability;
3. absent objects come back with their respawn probability, at a random free cell.

Steps 2 and 3 follow one of two rule sets, fixed per env (``lpg_rules``):

* GROOVE's (OPEN's procedural worlds): one termination draw with the summed probability of the
  collected objects; only objects already off the grid when the step began may come back, each
  on its own cell free of the agent and other objects. (So an eaten object is away for at least
  one observation, and objects never share a cell with each other or the agent.)
* the Optim4RL authors' LPG port (``lpg_rules=True``): one termination draw per collected
  object; an object eaten in this step may come back in the same step, and each returning
  object lands on a uniformly random non-wall cell -- possibly the agent's or another object's,
  so several objects can be collected at once.

Agent and objects start each episode at uniformly random distinct free cells, except that a
level may fix the agent's start cell (``EnvParams.start``), as GROOVE's levels do.

Observations (``observation``, fixed per env):

* ``"image"``: float32, channels-last ``(height, width, C)``, binary. Channel ``i < num_objects``
  marks object slot ``i`` while it is on the grid (one channel per object, as in Optim4RL's
  port, so objects of one kind in different slots, e.g. the two +1 objects of a big LPG world,
  have separate channels); the next channel marks the agent; with ``draw_blocked`` a last
  channel marks blocked cells (walls and cells outside the level's playable area).
* ``"groove"``: GROOVE's flat vector: a one-hot of the agent's cell, one per object slot (zero
  while it is away), each over ``height * width`` cells indexed ``row * cols + col`` of the
  level, then ``time * 0.001``. Walls are not observed. rand_all's 10 x 10 grid gives GROOVE's
  601 inputs (its objects are all of distinct types, so GROOVE's blocks per type are our blocks
  per slot); the out-of-support layouts keep 5 slots, so they get a block per object where
  GROOVE has one per type, and zero blocks for unused slots (inputs that are always 0).

Worlds:

* ``LPG_GRIDWORLDS``: the six LPG gridworlds of Oh et al. (2020) as used by Optim4RL
  (``small_dense_short`` ... ``big_dense_long``): each its own env whose grid is the authors'
  whole map, the interior and its wall border (the border is observed, always empty, as in
  their observation), image observation, 9 actions, LPG rules, a single fixed level.
* ``GRIDWORLD_DISTRIBUTIONS``: level generators ``key -> EnvParams``, each for its own env
  :func:`procedural_gridworld` (GROOVE observation, 5 object slots, 5 actions, a fixed start
  per level): OPEN's training distribution ``rand_all`` (:func:`sample_level`, 10 x 10 as in
  GROOVE) and its out-of-support evaluation levels ``sparse`` (7 x 7), ``dense`` and ``long``
  (11 x 11, fixed layouts) and ``maze`` (random 13 x 13 perfect mazes, where OPEN used
  GROOVE's three fixed mazes with a tabular observation).

``make_gridworld(name)`` returns ``(env, env_params)`` for any name in ``GRIDWORLD_NAMES``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

from ..config import ConfigError, check_choice

# Row and column offsets of each action: stay, the four compass moves, then the four diagonals.
# The 5-action set is the first five rows, so both action sets share their meaning.
MOVES = np.array([[0, 0], [-1, 0], [0, 1], [1, 0], [0, -1], [-1, 1], [1, 1], [1, -1], [-1, -1]], dtype=np.int32)
ACTION_SET_SIZES = (5, 9)
OBSERVATIONS = ("image", "groove")
GROOVE_TIME_SCALE = 1e-3


@struct.dataclass(kw_only=True)
class EnvParams(environment.EnvParams):
    """One level. The playable area is the top-left ``rows x cols`` of the grid minus ``walls``."""

    rows: jax.Array
    cols: jax.Array
    walls: jax.Array  # (height, width) bool
    active: jax.Array  # (num_objects,) bool: the object slots this level uses, always the first ones
    reward: jax.Array  # (num_objects,) float32
    terminate_prob: jax.Array  # (num_objects,) float32
    respawn_prob: jax.Array  # (num_objects,) float32
    max_steps_in_episode: jax.Array  # int32
    start: jax.Array  # int32: the agent's start cell, fixed per level (GROOVE's); -1: random each episode


@struct.dataclass(kw_only=True)
class EnvState(environment.EnvState):
    """Cells are flat indices ``row * width + col``; an absent object's cell is stale."""

    agent: jax.Array  # int32
    objects: jax.Array  # (num_objects,) int32
    present: jax.Array  # (num_objects,) bool
    terminated: jax.Array  # bool: an object ended the episode on this step
    time: jax.Array  # int32


def _invalid(param: str, value: Any, requirement: str) -> ConfigError:
    return ConfigError(f"{param} = {value!r} is not valid; it must be {requirement}")


def _check_int(param: str, value: Any, low: int, high: int | None = None) -> None:
    """Raise ConfigError naming ``param`` unless ``value`` is an int in ``[low, high]``."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low
    if not ok or (high is not None and value > high):
        bound = f"at least {low}" if high is None else f"between {low} and {high}"
        raise _invalid(param, value, f"an integer {bound}")


def random_cells(key: jax.Array, allowed: jax.Array, n: int) -> jax.Array:
    """``n`` distinct cells drawn uniformly without replacement from the ``allowed`` ones.

    Ranking iid uniform scores gives a uniformly random ordering of the allowed cells with fixed
    shapes (jit/vmap friendly); valid while ``n <= allowed.sum()``.
    """
    scores = jnp.where(allowed, jax.random.uniform(key, allowed.shape), -1.0)

    # ``lax.top_k(scores, n)[1]``, the same indices (argmax, like top_k, takes the lower index of
    # a tie), as n passes of argmax: XLA's CPU backend lowered that top_k inside the vmapped
    # auto-reset to a full sort of every cell, half of a gridworld PPO update's time.
    def take_best(scores, _):
        best = jnp.argmax(scores)
        return scores.at[best].set(-jnp.inf), best

    return jax.lax.scan(take_best, scores, length=n, unroll=True)[1].astype(jnp.int32)


class GridWorld(environment.Environment[EnvState, EnvParams]):
    """A gridworld of objects with rewards, terminate and respawn probabilities (see module doc)."""

    def __init__(
        self,
        height: int,
        width: int,
        num_objects: int,
        num_actions: int = 9,
        *,
        draw_blocked: bool = False,
        observation: str = "image",
        lpg_rules: bool = False,
        name: str = "GridWorld",
        default_level: Callable[[GridWorld], EnvParams],
    ):
        """A ``height x width`` grid with ``num_objects`` object slots and 5 actions (stay and the
        compass moves) or 9 (also the diagonals); ``draw_blocked`` adds the blocked-cells channel;
        ``observation`` is ``"image"`` or GROOVE's flat ``"groove"`` (module doc); ``lpg_rules`` picks
        the Optim4RL authors' termination and respawn rules (module doc).
        ``default_level(env)`` builds the level ``default_params`` returns (gymnax uses it when
        ``params`` is None)."""
        _check_int("GridWorld height", height, 1)
        _check_int("GridWorld width", width, 1)
        _check_int("GridWorld num_objects", num_objects, 1)
        check_choice("GridWorld num_actions", num_actions, ACTION_SET_SIZES)
        check_choice("GridWorld observation", observation, OBSERVATIONS)
        if height * width < num_objects + 1:
            needed = f"at least num_objects + 1 = {num_objects + 1}"
            raise _invalid("GridWorld height * width", height * width, needed)
        super().__init__()
        self.height = height
        self.width = width
        self.num_objects = num_objects
        self.draw_blocked = draw_blocked
        self.observation = observation
        self.lpg_rules = lpg_rules
        self._num_actions = num_actions
        self._name = name
        self._default_level = default_level

    @functools.cached_property
    def default_params(self) -> EnvParams:
        # Cached on a shared env: built concretely even when first asked for inside a jit trace.
        with jax.ensure_compile_time_eval():
            return self._default_level(self)

    @property
    def name(self) -> str:
        return self._name

    @property
    def num_actions(self) -> int:
        return self._num_actions

    @property
    def num_channels(self) -> int:
        return self.num_objects + 1 + int(self.draw_blocked)

    def action_space(self, params: EnvParams | None = None) -> spaces.Discrete:
        return spaces.Discrete(self.num_actions)

    def observation_space(self, params: EnvParams | None = None) -> spaces.Box:
        if self.observation == "groove":
            return spaces.Box(0.0, jnp.inf, ((self.num_objects + 1) * self.height * self.width + 1,), jnp.float32)
        return spaces.Box(0.0, 1.0, (self.height, self.width, self.num_channels), jnp.float32)

    def free_cells(self, params: EnvParams) -> jax.Array:
        """Flat bool mask of the cells the agent and objects may occupy."""
        inside = (jnp.arange(self.height)[:, None] < params.rows) & (jnp.arange(self.width)[None, :] < params.cols)
        return (inside & ~params.walls).reshape(-1)

    def reset_env(self, key: jax.Array, params: EnvParams) -> tuple[jax.Array, EnvState]:
        free = self.free_cells(params)
        cells = random_cells(key, free, self.num_objects + 1)
        fixed = params.start >= 0
        # A fixed start: the objects take random free cells other than it.
        others = random_cells(key, free & (jnp.arange(free.shape[0]) != params.start), self.num_objects)
        state = EnvState(
            agent=jnp.where(fixed, params.start, cells[0]),
            objects=jnp.where(fixed, others, cells[1:]),
            present=params.active,
            terminated=jnp.bool_(False),
            time=jnp.int32(0),
        )
        return self.get_obs(state, params), state

    def step_env(
        self, key: jax.Array, state: EnvState, action: int | jax.Array, params: EnvParams
    ) -> tuple[jax.Array, EnvState, jax.Array, jax.Array, dict[str, Any]]:
        terminate_key, respawn_key = jax.random.split(key)
        free = self.free_cells(params)
        agent = self._move(state.agent, action, free)
        collected = state.present & (state.objects == agent)
        reward = jnp.sum(jnp.where(collected, params.reward, 0.0))
        remaining = state.present & ~collected
        if self.lpg_rules:
            draws = jax.random.uniform(terminate_key, collected.shape)
            terminated = jnp.any(collected & (draws < params.terminate_prob))
            objects, present = self._respawn_anywhere(respawn_key, free, state.objects, remaining, params)
        else:
            terminate_prob = jnp.sum(jnp.where(collected, params.terminate_prob, 0.0))
            terminated = jax.random.uniform(terminate_key) < terminate_prob
            away_at_start = params.active & ~state.present
            objects, present = self._respawn(
                respawn_key, free, agent, state.objects, remaining, away_at_start, params.respawn_prob
            )
        state = EnvState(agent=agent, objects=objects, present=present, terminated=terminated, time=state.time + 1)
        return self.get_obs(state, params), state, reward, terminated, {"discount": self.discount(state, params)}

    def _move(self, agent: jax.Array, action: int | jax.Array, free: jax.Array) -> jax.Array:
        """The agent's cell after ``action``; moves off the grid or onto blocked cells stay put."""
        row, col = jnp.divmod(agent, self.width)
        offset = jnp.asarray(MOVES)[action]
        row, col = row + offset[0], col + offset[1]
        on_grid = (row >= 0) & (row < self.height) & (col >= 0) & (col < self.width)
        target = jnp.where(on_grid, row * self.width + col, agent)
        return jnp.where(free[target], target, agent)

    def _respawn(
        self,
        key: jax.Array,
        free: jax.Array,
        agent: jax.Array,
        objects: jax.Array,
        present: jax.Array,
        eligible: jax.Array,
        respawn_prob: jax.Array,
    ) -> tuple[jax.Array, jax.Array]:
        """Bring back each eligible object with its probability, each on its own unoccupied free cell."""
        coin_key, cell_key = jax.random.split(key)
        returning = eligible & (jax.random.uniform(coin_key, respawn_prob.shape) < respawn_prob)
        cell_ids = jnp.arange(free.shape[0])
        occupied = (cell_ids == agent) | jnp.any((cell_ids[:, None] == objects[None, :]) & present[None, :], axis=1)
        cells = random_cells(cell_key, free & ~occupied, self.num_objects)
        # The k-th returning object takes the k-th drawn cell, so returning objects never collide.
        rank = jnp.cumsum(returning) - 1
        return jnp.where(returning, cells[rank], objects), present | returning

    def _respawn_anywhere(
        self, key: jax.Array, free: jax.Array, objects: jax.Array, present: jax.Array, params: EnvParams
    ) -> tuple[jax.Array, jax.Array]:
        """LPG rules: every absent object (eaten this step too) comes back with its probability,
        each on an independent uniformly random free cell, occupied or not."""
        coin_key, cell_key = jax.random.split(key)
        returning = params.active & ~present & (jax.random.uniform(coin_key, objects.shape) < params.respawn_prob)
        logits = jnp.where(free, 0.0, -jnp.inf)
        cells = jax.random.categorical(cell_key, logits, shape=objects.shape).astype(jnp.int32)
        return jnp.where(returning, cells, objects), present | returning

    def get_obs(self, state: EnvState, params: EnvParams | None = None, key: jax.Array | None = None) -> jax.Array:
        params = self.default_params if params is None else params
        if self.observation == "groove":
            return self._groove_obs(state, params)
        cell_ids = jnp.arange(self.height * self.width)[:, None]
        channels = [(cell_ids == state.objects[None, :]) & state.present[None, :], cell_ids == state.agent]
        if self.draw_blocked:
            channels.append(~self.free_cells(params)[:, None])
        return jnp.concatenate(channels, axis=1).reshape(self.height, self.width, -1).astype(jnp.float32)

    def _groove_obs(self, state: EnvState, params: EnvParams) -> jax.Array:
        """GROOVE's flat observation: one-hots of the agent and of each object over the level's
        cells, indexed ``row * cols + col`` (GROOVE's ``row * grid_size + col``, so a level smaller
        than the grid fills the front of each block), then ``time * 0.001``."""
        cells = self.height * self.width

        def index(cell):
            row, col = jnp.divmod(cell, self.width)
            return row * params.cols + col

        agent = jax.nn.one_hot(index(state.agent), cells)
        objects = jax.nn.one_hot(index(state.objects), cells) * state.present[:, None]
        time = jnp.asarray(state.time, jnp.float32)[None] * GROOVE_TIME_SCALE
        return jnp.concatenate([agent, objects.reshape(-1), time]).astype(jnp.float32)

    def is_terminated(self, state: EnvState, params: EnvParams) -> jax.Array:
        return state.terminated


def _level(
    *,
    rows: Any,
    cols: Any,
    walls: jax.Array,
    active: Any,
    reward: Any,
    terminate_prob: Any,
    respawn_prob: Any,
    max_steps_in_episode: Any,
    start: Any = -1,
) -> EnvParams:
    """EnvParams with fixed dtypes, so levels from every generator share one jit trace."""
    return EnvParams(
        rows=jnp.asarray(rows, jnp.int32),
        cols=jnp.asarray(cols, jnp.int32),
        walls=jnp.asarray(walls, jnp.bool_),
        active=jnp.asarray(active, jnp.bool_),
        reward=jnp.asarray(reward, jnp.float32),
        terminate_prob=jnp.asarray(terminate_prob, jnp.float32),
        respawn_prob=jnp.asarray(respawn_prob, jnp.float32),
        max_steps_in_episode=jnp.asarray(max_steps_in_episode, jnp.int32),
        start=jnp.asarray(start, jnp.int32),
    )


def make_level(
    env: GridWorld,
    *,
    rewards: Sequence[float],
    terminate_probs: Sequence[float],
    respawn_probs: Sequence[float],
    max_steps_in_episode: int,
    rows: int | None = None,
    cols: int | None = None,
    walls: Any = None,
    start: Any = -1,
) -> EnvParams:
    """A validated fixed level for ``env``: one object per entry of ``rewards`` (the remaining
    slots stay empty), on the top-left ``rows x cols`` (default: the whole grid) minus ``walls``
    (a ``rows x cols`` bool array, default none). Raises ConfigError naming a bad argument."""
    rows = env.height if rows is None else rows
    cols = env.width if cols is None else cols
    _check_int("rows", rows, 1, env.height)
    _check_int("cols", cols, 1, env.width)
    _check_int("max_steps_in_episode", max_steps_in_episode, 1)
    n = len(rewards)
    if not 1 <= n <= env.num_objects:
        raise _invalid("rewards", tuple(rewards), f"1 to {env.num_objects} object rewards")
    for param, values in (("terminate_probs", terminate_probs), ("respawn_probs", respawn_probs)):
        if len(values) != n or not all(0.0 <= p <= 1.0 for p in values):
            raise _invalid(param, tuple(values), f"{n} probabilities in [0, 1], one per reward")
    wall_grid = np.zeros((env.height, env.width), dtype=bool)
    if walls is not None:
        walls = np.asarray(walls, dtype=bool)
        if walls.shape != (rows, cols):
            raise _invalid("walls", walls.shape, f"a bool array of shape {(rows, cols)}")
        wall_grid[:rows, :cols] = walls
    num_free = rows * cols - int(wall_grid.sum())
    if num_free < n + 1:
        raise ConfigError(
            f"rows x cols minus walls leaves {num_free} free cells; this level needs {n + 1} (agent and objects)"
        )
    pad = env.num_objects - n
    return _level(
        rows=rows,
        cols=cols,
        walls=wall_grid,
        active=[True] * n + [False] * pad,
        reward=list(rewards) + [0.0] * pad,
        terminate_prob=list(terminate_probs) + [0.0] * pad,
        respawn_prob=list(respawn_probs) + [0.0] * pad,
        max_steps_in_episode=max_steps_in_episode,
        start=start,
    )


# --- The six LPG gridworlds of Optim4RL -------------------------------------------------------

# name: (interior rows, interior cols, objects of each sign, respawn probability, episode length),
# in the authors' order (SPEC 1.5, the order of their multi-task tables).
# Each world has that many objects [+1, terminate 0] and as many [-1, terminate 0.5].
LPG_LAYOUTS = {
    "small_dense_long": (6, 4, 1, 0.5, 500),
    "small_dense_short": (4, 6, 1, 0.5, 50),
    "big_sparse_short": (10, 12, 2, 0.05, 50),
    "big_dense_short": (9, 13, 2, 0.5, 50),
    "big_sparse_long": (12, 10, 2, 0.05, 500),
    "big_dense_long": (13, 9, 2, 0.5, 500),
}


def _lpg_level(name: str, env: GridWorld) -> EnvParams:
    _, _, per_sign, respawn, episode_length = LPG_LAYOUTS[name]
    border = np.ones((env.height, env.width), dtype=bool)
    border[1:-1, 1:-1] = False
    return make_level(
        env,
        rewards=[1.0] * per_sign + [-1.0] * per_sign,
        terminate_probs=[0.0] * per_sign + [0.5] * per_sign,
        respawn_probs=[respawn] * (2 * per_sign),
        max_steps_in_episode=episode_length,
        walls=border,
    )


@functools.cache
def lpg_gridworld(name: str) -> tuple[GridWorld, EnvParams]:
    """The LPG world ``name`` and its level (shared instances: envs are immutable)."""
    check_choice("LPG gridworld", name, LPG_LAYOUTS)
    rows, cols, per_sign, _, _ = LPG_LAYOUTS[name]
    env = GridWorld(
        rows + 2,
        cols + 2,
        2 * per_sign,
        9,
        lpg_rules=True,
        name=name,
        default_level=functools.partial(_lpg_level, name),
    )
    return env, env.default_params


LPG_GRIDWORLDS: dict[str, Callable[[], tuple[GridWorld, EnvParams]]] = {
    name: functools.partial(lpg_gridworld, name) for name in LPG_LAYOUTS
}


# --- OPEN's procedural gridworlds ---------------------------------------------------------------

PROCEDURAL_OBJECTS = 5
PROCEDURAL_ACTIONS = 5  # stay + 4 compass moves, as in the GROOVE gridworld OPEN trained on
MAZE_SIZE = 13

# rand_all (SPEC 2.5): ranges of the level distribution.
RAND_ALL_SIZES = (4, 10)
RAND_ALL_OBJECTS = (1, 5)
RAND_ALL_TERMINATE = (1e-2, 1.0)
RAND_ALL_RESPAWN = (1e-3, 1e-1)
RAND_ALL_EPISODE = (20, 750)
RAND_ALL_WALLS = 15  # drawn over the 10 x 10 square that holds the largest rand_all grid

MAZE_ROOMS = 7  # rooms per side on the even coordinates of the 13 x 13 grid
MAZE_OBJECTS = 3
MAZE_EPISODE = (25, 50)


def _log_uniform(key: jax.Array, shape: tuple[int, ...], low: float, high: float) -> jax.Array:
    return jnp.exp(jax.random.uniform(key, shape, minval=jnp.log(low), maxval=jnp.log(high)))


def _log_uniform_int(key: jax.Array, low: int, high: int) -> jax.Array:
    return jnp.clip(jnp.round(_log_uniform(key, (), low, high)), low, high).astype(jnp.int32)


def _rand_all_walls(key: jax.Array, size: jax.Array, max_inside: jax.Array) -> jax.Array:
    """``RAND_ALL_WALLS`` distinct cells of the 10 x 10 square, at most ``max_inside`` of them in the
    ``size x size`` grid: walls are dealt from a random permutation, skipping the in-grid cells
    past that budget, so even a 4 x 4 grid keeps room for the agent and every object."""
    region = RAND_ALL_SIZES[1]
    cells = jax.random.permutation(key, region * region)
    row, col = jnp.divmod(cells, region)
    inside = (row < size) & (col < size)
    allowed = ~inside | (jnp.cumsum(inside) <= max_inside)
    chosen = allowed & (jnp.cumsum(allowed) <= RAND_ALL_WALLS)
    return jnp.zeros((region, region), jnp.bool_).at[row, col].set(chosen)


def _random_start(key: jax.Array, rows: Any, cols: Any, walls: jax.Array) -> jax.Array:
    """A uniformly random free cell of the level: GROOVE fixes the agent's start per level."""
    height, width = walls.shape
    inside = (jnp.arange(height)[:, None] < rows) & (jnp.arange(width)[None, :] < cols)
    return random_cells(key, (inside & ~walls).reshape(-1), 1)[0]


def _object_properties(key: jax.Array, num_active: jax.Array, rewards: jax.Array) -> dict[str, jax.Array]:
    """Slot arrays for the first ``num_active`` objects (``rewards`` given, log-uniform terminate and
    respawn probabilities on OPEN's ranges); unused slots are inactive with zero properties."""
    terminate_key, respawn_key = jax.random.split(key)
    active = jnp.arange(PROCEDURAL_OBJECTS) < num_active

    def used(values: jax.Array) -> jax.Array:
        return jnp.where(active, values, 0.0)

    return dict(
        active=active,
        reward=used(rewards),
        terminate_prob=used(_log_uniform(terminate_key, (PROCEDURAL_OBJECTS,), *RAND_ALL_TERMINATE)),
        respawn_prob=used(_log_uniform(respawn_key, (PROCEDURAL_OBJECTS,), *RAND_ALL_RESPAWN)),
    )


@jax.jit
def sample_level(key: jax.Array) -> EnvParams:
    """A level of OPEN's ``rand_all`` distribution (GROOVE's): square grid of uniform size in
    [4, 10], 1-5 objects with rewards U(-1, 1) (the first positive), terminate probability
    log-uniform in [1e-2, 1], respawn probability log-uniform in [1e-3, 1e-1], 15 random walls,
    episode length log-uniform integer in [20, 750], the agent's start a fixed random free cell.

    Walls are drawn over the 10 x 10 grid as GROOVE does, so in a smaller level only those that
    fall inside it matter; unlike GROOVE, at most ``size**2 - 6`` land inside the level so the
    agent and five objects always fit, and objects never land on walls (GROOVE's check of free
    cells compares indices against a boolean mask, so its objects can spawn on walls and its
    cells 0 and 1 never get one: a bug we do not copy). Walls may cut the level into
    unreachable parts, as in GROOVE.
    """
    size_key, count_key, reward_key, object_key, wall_key, episode_key, start_key = jax.random.split(key, 7)
    size = jax.random.randint(size_key, (), RAND_ALL_SIZES[0], RAND_ALL_SIZES[1] + 1)
    num_active = jax.random.randint(count_key, (), RAND_ALL_OBJECTS[0], RAND_ALL_OBJECTS[1] + 1)
    first_key, rest_key = jax.random.split(reward_key)
    first = 1.0 - jax.random.uniform(first_key, (1,))  # in (0, 1]: strictly positive
    rest = jax.random.uniform(rest_key, (PROCEDURAL_OBJECTS - 1,), minval=-1.0, maxval=1.0)
    walls = _rand_all_walls(wall_key, size, size * size - (PROCEDURAL_OBJECTS + 1))
    return _level(
        rows=size,
        cols=size,
        walls=walls,
        start=_random_start(start_key, size, size, walls),
        max_steps_in_episode=_log_uniform_int(episode_key, *RAND_ALL_EPISODE),
        **_object_properties(object_key, num_active, jnp.concatenate([first, rest])),
    )


# name: (grid side, objects as (reward, terminate prob, respawn prob), episode length). The
# out-of-support layouts OPEN evaluated on (GROOVE's rand_sparse, rand_dense, rand_long: LPG-style
# object sets on an empty square grid, objects placed at random).
OOS_LAYOUTS = {
    "sparse": (7, ((1.0, 1.0, 1.0), (-1.0, 1.0, 1.0), (-1.0, 1.0, 1.0)), 50),
    "dense": (11, ((1.0, 0.0, 0.05), (1.0, 0.0, 0.05), (-1.0, 0.5, 0.1), (-1.0, 0.0, 0.5)), 500),
    "long": (11, ((1.0, 0.0, 0.01), (1.0, 0.0, 0.01), (-1.0, 0.5, 1.0), (-1.0, 0.5, 1.0)), 1000),
}


def oos_level(name: str, key: jax.Array | None = None) -> EnvParams:
    """The out-of-support level ``name``: a fixed layout; ``key`` draws the agent's fixed start
    (GROOVE's), None starts it at a random cell each episode."""
    check_choice("out-of-support gridworld", name, OOS_LAYOUTS)
    side, objects, episode_length = OOS_LAYOUTS[name]
    rewards, terminate_probs, respawn_probs = zip(*objects)
    env = procedural_gridworld(name)
    return make_level(
        env,
        start=-1 if key is None else _random_start(key, side, side, jnp.zeros((env.height, env.width), bool)),
        rows=side,
        cols=side,
        rewards=rewards,
        terminate_probs=terminate_probs,
        respawn_probs=respawn_probs,
        max_steps_in_episode=episode_length,
    )


def _maze_walls(key: jax.Array) -> jax.Array:
    """A random perfect maze (one path between any two free cells) filling the 13 x 13 grid.

    Rooms sit on the even coordinates; a randomized depth-first search from a random room knocks
    down the wall between the current room and a random unvisited neighbour, or backtracks. Each
    of the ``n**2`` rooms is pushed and popped once, so ``2 * n**2`` iterations always finish.
    """
    n = MAZE_ROOMS
    steps = jnp.asarray(MOVES[1:5])
    start_key, search_key = jax.random.split(key)
    start = jax.random.randint(start_key, (), 0, n * n)
    grid = jnp.zeros((MAZE_SIZE, MAZE_SIZE), jnp.bool_)
    carved = grid.at[2 * (start // n), 2 * (start % n)].set(True)
    visited = jnp.zeros(n * n, jnp.bool_).at[start].set(True)
    stack = jnp.zeros(n * n, jnp.int32).at[0].set(start)

    def visit(carry: tuple[jax.Array, ...], key: jax.Array) -> tuple[tuple[jax.Array, ...], None]:
        carved, visited, stack, depth = carry
        room = stack[jnp.maximum(depth - 1, 0)]
        row, col = jnp.divmod(room, n)
        rows, cols = row + steps[:, 0], col + steps[:, 1]
        on_grid = (rows >= 0) & (rows < n) & (cols >= 0) & (cols < n)
        neighbours = jnp.where(on_grid, rows * n + cols, room)
        open_ = on_grid & ~visited[neighbours] & (depth > 0)
        pick = jnp.argmax(jnp.where(open_, jax.random.uniform(key, (4,)), -1.0))
        advance = open_.any()
        step_row, step_col = rows[pick], cols[pick]
        # The wall between rooms (r, c) and (r', c') is at (r + r', c + c') on the 13 x 13 grid.
        knocked = carved.at[row + step_row, col + step_col].set(True).at[2 * step_row, 2 * step_col].set(True)
        carved = jnp.where(advance, knocked, carved)
        visited = jnp.where(advance, visited.at[neighbours[pick]].set(True), visited)
        stack = jnp.where(advance, stack.at[depth].set(neighbours[pick]), stack)
        depth = jnp.where(advance, depth + 1, jnp.maximum(depth - 1, 0))
        return (carved, visited, stack, depth), None

    keys = jax.random.split(search_key, 2 * n * n)
    (carved, *_), _ = jax.lax.scan(visit, (carved, visited, stack, jnp.int32(1)), keys)
    return ~carved


@jax.jit
def maze_level(key: jax.Array) -> EnvParams:
    """A 13 x 13 maze level (the mazes of OPEN's out-of-support set, ours randomly generated):
    3 objects with rewards U(0, 1), OPEN's terminate and respawn ranges, episode length
    log-uniform integer in [25, 50]."""
    wall_key, reward_key, object_key, episode_key, start_key = jax.random.split(key, 5)
    walls = _maze_walls(wall_key)
    return _level(
        rows=MAZE_SIZE,
        cols=MAZE_SIZE,
        walls=walls,
        start=_random_start(start_key, MAZE_SIZE, MAZE_SIZE, walls),
        max_steps_in_episode=_log_uniform_int(episode_key, *MAZE_EPISODE),
        **_object_properties(object_key, MAZE_OBJECTS, jax.random.uniform(reward_key, (PROCEDURAL_OBJECTS,))),
    )


GRIDWORLD_DISTRIBUTIONS: dict[str, Callable[[jax.Array], EnvParams]] = {
    "rand_all": sample_level,
    **{name: functools.partial(oos_level, name) for name in OOS_LAYOUTS},
    "maze": maze_level,
}
# Each distribution's grid: GROOVE's max_grid_size (rand_all 10; the out-of-support layouts their
# own side; our mazes 13), which sets the length of its flat observation.
GRIDWORLD_SIZES = {
    "rand_all": RAND_ALL_SIZES[1],
    **{name: OOS_LAYOUTS[name][0] for name in OOS_LAYOUTS},
    "maze": MAZE_SIZE,
}


@functools.cache
def procedural_gridworld(distribution: str = "rand_all", observation: str = "groove") -> GridWorld:
    """The env the levels of ``distribution`` run in (shared: envs are immutable): GROOVE's
    observation by default, or ``"image"`` (channels-last, with the blocked-cell channel)."""
    check_choice("gridworld level distribution", distribution, GRIDWORLD_DISTRIBUTIONS)
    size = GRIDWORLD_SIZES[distribution]
    return GridWorld(
        size,
        size,
        PROCEDURAL_OBJECTS,
        PROCEDURAL_ACTIONS,
        draw_blocked=True,
        observation=observation,
        name=f"gridworld-{distribution}",
        default_level=lambda _env: GRIDWORLD_DISTRIBUTIONS[distribution](jax.random.key(0)),
    )


GRIDWORLD_NAMES = tuple(LPG_GRIDWORLDS) + tuple(GRIDWORLD_DISTRIBUTIONS)


def make_gridworld(name: str, **kwargs: Any) -> tuple[GridWorld, EnvParams]:
    """``(env, env_params)`` for any of ``GRIDWORLD_NAMES``.

    LPG worlds take no parameters. Distribution names take ``seed`` (default 0): the level is
    ``GRIDWORLD_DISTRIBUTIONS[name](jax.random.key(seed))``.
    """
    check_choice("gridworld", name, GRIDWORLD_NAMES)
    valid = () if name in LPG_GRIDWORLDS else ("seed",)
    for key in kwargs:
        if key not in valid:
            choices = ", ".join(map(repr, valid)) or "none"
            raise ConfigError(f"gridworld {name!r} has no parameter {key!r}; valid parameters: {choices}")
    if name in LPG_GRIDWORLDS:
        return LPG_GRIDWORLDS[name]()
    seed = kwargs.get("seed", 0)
    _check_int("seed", seed, 0, 2**32 - 1)
    return procedural_gridworld(name), GRIDWORLD_DISTRIBUTIONS[name](jax.random.key(seed))
