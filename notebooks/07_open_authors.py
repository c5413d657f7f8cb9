# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · OPEN at the paper's budgets, with the authors' meta-trained weights
#
# The claim (OPEN, SPEC 2.4): on the four MinAtar games, the OPEN meta-trained on a game
# beats tuned Adam, RMSProp and Lion after the paper's 1e7 steps, and one larger OPEN
# meta-trained on several tasks at once does nearly as well. Our own ES cannot afford the
# paper's meta-training on a CPU (notebook 05), but its evaluation is within reach: here the
# authors' published optimizers (`breakout_OPEN.npy`, `multi_OPEN.npy`, ...) train fresh PPO
# agents with the paper's settings and budget, so that this comparison is like for like.
#
# - **Learned**: "OPEN (authors)" is the vector meta-trained on that game, "OPEN multi-task
#   (authors)" the larger one (3,571 values) meta-trained on several tasks.
# - **Baselines**: Adam with the authors' tuned settings (SPEC 2.4); RMSProp and Lion at the
#   best rate of a sweep (0.1x-10x the game's Adam rate, Lion's divided by 3; 2 seeds of 2e6
#   steps each at `cpu` scale, stored beside the runs). On Asterix every baseline's rate falls
#   linearly to 0 over its run, as the authors' config anneals it (README, row 23).
# - **Scores**: a run's final return (mean over its last 10% of updates) divided by the
#   return the authors' PPO reached with tuned Adam (SPEC 2.4: Asterix 15.04, Breakout 50.08, Freeway 61.84,
#   SpaceInvaders 167.09);
#   IQM, mean and optimality gap over games with stratified-bootstrap 95% intervals, as the
#   paper reports. Our own Adam's score is itself a check of our inner loop: near 1 if our PPO
#   trains as theirs.
#
# | scale | games | seeds | steps |
# |---|---|---|---|
# | `quick` | Breakout | 2 | 16k: exercises the code only |
# | `cpu` | the four MinAtar games | 4 | 1e7, the paper's |
# | `paper` | the four MinAtar games | 16 | 1e7; sweeps of 3 seeds at 1e7 |
#
# **The authors' files.** The project does not ship the authors' vectors. Computing this
# notebook needs them in `$L2O4RL_ANCHORS/open_pretrained/` (by default `shared/anchors/`
# beside the checkout), downloaded from
# <https://github.com/AlexGoldie/rl-learned-optimization/tree/main/rl_optimizer/pretrained>;
# each file's SHA-256 is checked before use and recorded with the result. Reading the stored
# `cpu` results needs no file. Every (game, optimizer) is a stored piece of 15-100 minutes on
# 2 cores.

# %% tags=["parameters"]
scale = "cpu"  # quick | cpu | paper
seed = 0
recompute = False  # True: ignore stored results in data/ and recompute; "never": use them only, computing nothing
data_dir = "../data"
figures_dir = "../figures"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import display

from l2o4rl.repro.notebooks import start

session = start(scale, seed, data_dir, recompute)  # before anything starts jax: its settings, the figure style

from l2o4rl.analysis import aggregate, final_values, paired_gap_ci, summarise_curves
from l2o4rl.analysis.plotting import PAPER_WIDTH_IN, plot_curves, save_figure
from l2o4rl.experiments.open_authors import level_set_agents
from l2o4rl.experiments.open_es import final_scores, score_matrices
from l2o4rl.optim.catalog import AUTHORS_LABEL, AUTHORS_MULTI_LABEL, name_of
from l2o4rl.tasks import get_task

result = session.load("open_authors_minatar")
print(result.describe())
cfg = session.config("open_authors_minatar")
curves = result.tables["curves"]
games = list(cfg.tasks)
order = list(dict.fromkeys(curves["optimizer"]))

# %% [markdown]
# ## The baselines' learning rates
# Adam runs at the authors' tuned settings; RMSProp and Lion at the best mean final return of
# their sweep (a tie goes to the rate nearest the default). The sweep's mean final return per
# rate, as a multiple of the default rate, where the scale's optimizers include a swept one:

# %%
if "sweep" in result.tables:
    sweep = result.tables["sweep"]
    default = sweep.apply(lambda r: get_task(r["task"]).default_learning_rate(name_of(r["optimizer"])), axis=1)
    sweep = sweep.assign(factor=(sweep["learning_rate"] / default).round(2))
    display(sweep.groupby(["task", "optimizer", "factor"])["final_return"].mean().unstack().round(2))
result.tables["rates"]

# %% [markdown]
# ## Final returns, normalised by the authors' Adam

# %%
authors_adam = {game: get_task(game).adam_return for game in games}
scores = final_scores(curves, divide_by=authors_adam)
per_game = scores.pivot_table(index="optimizer", columns="task", values="normalised", aggfunc="mean").loc[order]
per_game.round(3)

# %%
our_adam = scores[scores["optimizer"] == "Adam"].groupby("task")["return"].agg(["mean", "std", "count"])
our_adam["authors' Adam"] = our_adam.index.map(authors_adam)
our_adam["ratio"] = our_adam["mean"] / our_adam["authors' Adam"]
our_adam.round(3)  # our PPO + Adam against the authors' at the same settings: a check of the inner loop

# %%
intervals = aggregate.interval_estimates(score_matrices(scores), seed=seed)
intervals.pivot(index="algorithm", columns="aggregate", values="value").loc[order].round(3)

# %%
summary = summarise_curves(curves, ["task", "optimizer"])
summary = summary.sort_values("optimizer", key=lambda o: o.map(order.index), kind="stable")  # colours in `order`
colors = dict(zip(order, sns.color_palette()))
# The games in a grid of at most two rows, the IQM panel spanning them on the right: four
# games side by side would print at half size on a paper's page.
rows = 1 if len(games) <= 2 else 2
cols = -(-len(games) // rows)
cells = games + ["."] * (rows * cols - len(games))
mosaic = [[*cells[r * cols : (r + 1) * cols], "IQM"] for r in range(rows)]
fig, axes = plt.subplot_mosaic(
    mosaic,
    figsize=(PAPER_WIDTH_IN * min(1.0, 0.35 * (cols + 1)), 2.2 * rows + 0.5),
    layout="constrained",
    width_ratios=[1] * cols + [1.2],
)
for game in games:
    ax = axes[game]
    plot_curves(ax, summary[summary["task"] == game], hue="optimizer")
    ax.axhline(authors_adam[game], color="k", linestyle="--", linewidth=1, label="authors' Adam (1e7 steps)")
    first_column = games.index(game) % cols == 0
    ax.set(title=game, ylabel="episode return" if first_column else "")
    if games.index(game) < len(games) - cols:  # the row below names the steps
        ax.set_xlabel("")
ax = axes["IQM"]
iqm = intervals[intervals["aggregate"] == "IQM"].set_index("algorithm").reindex(order)
for row, (name, point) in enumerate(iqm.iterrows()):
    xerr = [[point["value"] - point["low"]], [point["high"] - point["value"]]]
    ax.errorbar(point["value"], row, xerr=xerr, fmt="o", color=colors[name])
ax.set_yticks(np.arange(len(iqm)), [name.replace(" (", "\n(") for name in iqm.index])  # long names on two lines
ax.invert_yaxis()
ax.axvline(1.0, color="k", linestyle="--", linewidth=1)
ax.set(title=f"IQM over {len(games)} game{'s' * (len(games) > 1)}", xlabel="final return / authors' Adam")
fig.legend(*axes[games[0]].get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize="small")
save_figure(fig, figures_dir, "open_authors_minatar")

# %% [markdown]
# ## What holds at `cpu` scale (the four games, 4 seeds of 1e7 steps)
# - **OPEN beats tuned Adam, RMSProp and Lion on Asterix, Breakout and Freeway, as in the
#   paper.** The authors' single-game optimizers reach 2.53x the authors' Adam return on
#   Asterix (38.1 against 15.0), 1.31x on Breakout and 1.03x on Freeway, every seed above 1
#   (Asterix 2.33-2.70, Breakout 1.11-1.46, Freeway 1.01-1.05). Freeway's returns sit near the
#   game's ceiling for every optimizer (Adam 0.98, RMSProp 0.93, Lion 0.94), so OPEN's margin
#   there is small, as in the paper, but its worst seed beats every other optimizer's best.
# - **SpaceInvaders: above our Adam and RMSProp, level with Lion, below the authors' Adam.**
#   OPEN ends at 0.95x the authors' Adam return (158 against 167; seeds 0.89-0.99): every seed
#   above every seed of our Adam (0.84x, seeds 0.83-0.88) and RMSProp (0.75x), level with Lion
#   (0.93x, seeds 0.88-0.97; Lion's swept best is its default rate). Against Adam trained by the
#   same PPO, OPEN's lead is 1.12x; against the authors' number it is not reached, as our own
#   Adam falls short of it (next point).
# - **Over the four games** OPEN's IQM is 1.17 (95% stratified interval 1.10-1.24); our Adam at
#   the authors' settings 0.91 (0.86-0.98); RMSProp and Lion at the best rates of their sweeps
#   (2 seeds of 2e6 steps per rate; Asterix 3e-3 and 3e-4, Breakout 3e-3 and 1e-3, Freeway 1e-3
#   and 3.3e-4, SpaceInvaders 2.1e-3 and 2.3e-4) 0.73 (0.68-0.80) and 0.75 (0.71-0.78).
# - **Our inner loop trains as theirs on three games, short of it on SpaceInvaders.** Our PPO
#   with the authors' Adam settings and PureJaxRL's epsilon 1e-5 (which their PPO follows; they
#   publish no Adam loop; README, row 25) ends at 0.87x their Asterix return (13.1 against 15.0;
#   seeds 0.75-1.10), 1.07x on Breakout (53.7 against 50.1; seeds 0.63-1.25) and 0.98x on
#   Freeway (60.6 against 61.8; seeds 0.976-0.982): within our seeds' spread on Asterix and
#   Breakout, 2% below theirs on Freeway, whose seeds barely differ. On SpaceInvaders it ends
#   at 0.84x (141 against 167), every seed below theirs; the game's PPO settings match the
#   authors' `configs.py`, and the older gymnax rules of SpaceInvaders they pinned are harder
#   for our PPO, not easier (README, row 24). At optax's default epsilon 1e-8 our Adam ended at
#   0.78x there and 0.86x on Breakout; the rest of the gap is not found. Asterix's Adam
#   anneals its rate to 0 over the run, as the authors' config does (README, row 23); at a
#   constant rate it ended at 0.71x, every seed below theirs.
# - **The multi-task vector does not do nearly as well as the single-game ones here, and is
#   level with tuned Adam over the four games: the paper's multi-task claim is not reproduced at
#   this scale.** It reaches 1.55x the authors' Adam return on Asterix (seeds 1.01-1.78; the
#   single-game OPEN 2.53x), 1.01x on Breakout (0.78-1.52; single 1.31x, our Adam 1.07x), 0.92x
#   on Freeway (0.89-0.94; single 1.03x, our Adam 0.98x, level with RMSProp and Lion) and 0.89x
#   on SpaceInvaders (0.88-0.91; single 0.95x, our Adam 0.84x): below the single-game optimizer
#   on every game. Its IQM is 0.93 (0.90-1.09), overlapping our Adam's and wholly above RMSProp's
#   and Lion's; its mean 1.09 (0.99-1.20) is carried by Asterix. It runs through the same
#   evaluation as the authors' `eval.py --multi` (their PPO settings per game, the larger
#   network), with 4 seeds where the paper has 16.

# %%
if scale == "cpu":
    per_seed = scores.groupby(["task", "optimizer"])["normalised"]
    by_game, lows, highs = (per_seed.agg(stat).unstack() for stat in ("mean", "min", "max"))
    opens, rivals = by_game["OPEN (authors)"], by_game.drop(columns=["OPEN (authors)", AUTHORS_MULTI_LABEL])
    # OPEN's lead over the best rival on each game: large on Asterix and Breakout, small on
    # Freeway, where every optimizer ends near the game's ceiling, none on SpaceInvaders, where
    # Lion is level with it (a game without a margin fails)
    margins = pd.Series({"asterix": 0.3, "breakout": 0.2, "freeway": 0.03, "spaceinvaders": -0.05})
    assert (opens - rivals.max(axis=1) > margins.reindex(opens.index)).all(), by_game
    # every seed of every game above the authors' Adam, but on SpaceInvaders (0.89-0.99)
    assert (lows["OPEN (authors)"].drop("spaceinvaders") > 1).all(), lows
    assert 0.85 < lows.loc["spaceinvaders", "OPEN (authors)"] < highs.loc["spaceinvaders", "OPEN (authors)"] < 1, lows
    # OPEN's worst seed above every seed of the rivals that trail it (Lion is level on SpaceInvaders)
    beaten = {"freeway": ["Adam", "RMSProp", "Lion"], "spaceinvaders": ["Adam", "RMSProp"]}
    for game, names in beaten.items():
        assert lows.loc[game, "OPEN (authors)"] > highs.loc[game, names].max(), (lows, highs)
    low = iqm.loc["OPEN (authors)", "low"]  # the figure's IQM intervals
    assert low > 1, low
    for rival in ("Adam", "RMSProp", "Lion"):
        assert iqm.loc[rival, "high"] < low, iqm  # its interval wholly below OPEN's
    # our inner loop near theirs on every game (SpaceInvaders the lowest, 0.84)
    assert our_adam["ratio"].between(0.8, 1.25).all(), our_adam
    # the multi-task vector: below the single-game optimizer on every game, far above the authors'
    # Adam on Asterix only; over the four games level with our Adam, above RMSProp and Lion
    multi = AUTHORS_MULTI_LABEL
    assert (by_game[multi] < opens).all(), by_game
    assert by_game.loc["asterix", multi] > 1.3 and (by_game[multi].drop("asterix") < 1.1).all(), by_game
    assert iqm.loc[multi, "low"] < iqm.loc["Adam", "high"] and iqm.loc["Adam", "low"] < iqm.loc[multi, "high"], iqm
    for rival in ("RMSProp", "Lion"):
        assert iqm.loc[rival, "high"] < iqm.loc[multi, "low"], iqm

# %% [markdown]
# ## Brax ant
# The paper's one continuous-control optimizer, `ant_OPEN.npy`, trains PPO agents on Brax ant
# with the authors' settings (SPEC 2.4: 2048 envs x 10 steps, 4 epochs of 32 minibatches,
# 2 x 64 tanh units per network, observation and reward normalisation, each network's gradient
# clipped to norm 0.5, Brax's `positional` backend), against Adam at the authors' tuned 3e-4,
# b1 = b2 = 0.99 (epsilon 1e-5, PureJaxRL's, as on MinAtar), from the same seeds. The paper
# trains 5e7 steps, which on 2 cores take about 7 hours per optimizer; `cpu` stops at a tenth
# of that. The authors' Adam return after 5e7 steps (6517.31) is the normaliser, so at a tenth
# of the budget a score below 1 is expected of both.
#
# | scale | seeds | steps |
# |---|---|---|
# | `quick` | 2 | 4.8k on 16 envs: exercises the code only |
# | `cpu` | 4 | 5e6, a tenth of the paper's |
# | `paper` | 16 | 5e7; RMSProp and Lion too, each at the best rate of a sweep of 3 seeds of 1e7 |

# %%
ant = session.load("open_authors_ant")
print(ant.describe())
ant_curves = ant.tables["curves"]
ant_finals = final_values(ant_curves, ["optimizer"]).pivot_table(index="seed", columns="optimizer", values="value")
ant_gap, ant_low, ant_high = paired_gap_ci(ant_finals, AUTHORS_LABEL, "Adam")  # both from the same seeds
ant_normaliser = get_task("ant").adam_return
ant_table = pd.DataFrame(
    {
        **{f"{name} / authors' Adam": final / ant_normaliser for name, final in ant_finals.mean().items()},
        **ant_finals.mean().round(1),
        "OPEN - Adam": ant_gap,
        "low": ant_low,
        "high": ant_high,
    },
    index=["ant"],
)
ant_table.round(3)  # final return (mean over the last 10% of updates); 95% paired bootstrap interval of the gap

# %%
ant_order = list(dict.fromkeys(ant_curves["optimizer"]))
ant_summary = summarise_curves(ant_curves, ["optimizer"])
ant_summary = ant_summary.sort_values("optimizer", key=lambda o: o.map(ant_order.index), kind="stable")
fig, ax = plt.subplots(figsize=(PAPER_WIDTH_IN * 0.5, 2.4), layout="constrained")
plot_curves(ax, ant_summary, hue="optimizer")
ax.set(title="Brax ant", xlabel="environment steps", ylabel="episode return")
ax.legend(fontsize="small")
save_figure(fig, figures_dir, "open_authors_ant")

# %% [markdown]
# ## What holds on ant at `cpu` scale (4 seeds of 5e6 steps, a tenth of the paper's budget)
# - **At a tenth of the budget OPEN is far below Adam.** Adam ends at 2,076 (0.32x the
#   authors' 5e7-step return), OPEN at 103 (0.016x); the paired gap is -1,973, 95% interval
#   [-2,302, -1,588], and OPEN ends below Adam on every seed. Adam's return takes off after
#   3.5e6 steps; OPEN's falls to -139 over its first 1.2e6 steps (Adam's to -52) and at 5e6 is
#   where Adam's was at 2.1e6, still rising.
# - **This does not test the paper's claim.** OPEN reads the proportion of its run already done
#   (the training-proportion input), so a 5e6-step run walks it through its whole learned
#   schedule ten times faster than the 5e7 steps it was meta-trained on, while Adam's
#   constant rate is the same at any budget. A like-for-like check needs the paper's 5e7
#   steps (about 7 hours per optimizer here) or OPEN's first 5e6 steps of a 5e7-step run.

# %%
if scale == "cpu":
    assert ant_high < 0 and (ant_finals[AUTHORS_LABEL] < ant_finals["Adam"]).all(), ant_finals
    assert ant_finals["Adam"].mean() / ant_normaliser > 0.2, ant_finals  # Adam trains: a third of 5e7's return
    assert ant_finals[AUTHORS_LABEL].mean() > 0, ant_finals  # OPEN rises above its start, slowly

# %% [markdown]
# ## Gridworld, in and out of the meta-training distribution
# The authors' `gridworld_OPEN.npy` was meta-trained on `rand_all`, GROOVE's procedural
# gridworlds (SPEC 2.5); the paper reports it in distribution and on level sets it never saw:
# LPG-style `sparse`, `dense` and `long` layouts and 13x13 mazes. Here every agent trains on a
# fresh level of its set with the authors' gridworld PPO (1024 envs x 20 steps, 2 epochs of 16
# minibatches, 16 tanh units; the paper's 3e7 steps), OPEN and Adam (the authors' tuned 1e-4,
# b1 = b2 = 0.99, annealed linearly to 0 over the run as their configs do) on the same levels
# and seeds. Each (level set, optimizer) is a stored piece.

# %%
grid = session.load("open_authors_gridworld")
print(grid.describe())
grid_cfg = session.config("open_authors_gridworld")
grid_curves = grid.tables["curves"]
level_sets = list(grid_cfg.level_sets)
grid_scores = final_values(grid_curves, ["level_set", "optimizer"])
finals = grid_scores.pivot_table(index=["level_set", "seed"], columns="optimizer", values="value")
gaps = []
for level_set in level_sets:
    final = finals.loc[level_set]
    gap, low, high = paired_gap_ci(final, AUTHORS_LABEL, "Adam")  # the same seed on the same level
    gaps.append({"level set": level_set, **final.mean(), "OPEN - Adam": gap, "low": low, "high": high})
gaps = pd.DataFrame(gaps).set_index("level set")
gaps.round(3)  # final return (mean over the last 10% of updates); 95% paired bootstrap interval of the gap

# %% [markdown]
# At `cpu` scale (8 seeds of 3e6 steps, a tenth of the paper's budget) OPEN ends above Adam on
# every level set, in distribution and out of support, as in the paper, and every paired
# interval is above zero. Adam's annealed rate falls to 0 over these 3e6 steps, ten times
# sooner than over the paper's 3e7: at a constant 1e-4 (before the annealing, README row 23)
# Adam ended higher (`rand_all` 1.60 against 1.25 here) and OPEN still above it on every set.

# %%
if scale == "cpu":
    assert (gaps["low"] > 0).all(), gaps

# %%
# Until every env has had time to end an episode (its level's longest), the completed episodes
# are the ones an object cut short, a biased sample (dense and long start near -1): like the
# authors' curves, these start after the longest episode of each level set.
# (At `quick` scale, shorter than those episodes, only the last update is drawn.)
num_steps, last_update = get_task("gridworld").config.num_steps, grid_curves["update"].max()
longest = {s: int(level_set_agents(s, grid_cfg.seeds, seed)[1].max_steps_in_episode.max()) for s in level_sets}
first_update = {s: min(-(-longest[s] // num_steps), last_update) for s in level_sets}
grid_curves = grid_curves[grid_curves["update"] >= grid_curves["level_set"].map(first_update)]
grid_order = list(dict.fromkeys(grid_curves["optimizer"]))
grid_summary = summarise_curves(grid_curves, ["level_set", "optimizer"])
grid_summary = grid_summary.sort_values("optimizer", key=lambda o: o.map(grid_order.index), kind="stable")
# Each level set on its own scale: their returns differ by an order of magnitude.
fig, axes = plt.subplots(
    1, len(level_sets), figsize=(PAPER_WIDTH_IN, 2.2), layout="constrained", sharex=True, squeeze=False
)
for ax, level_set in zip(axes[0], level_sets):
    plot_curves(ax, grid_summary[grid_summary["level_set"] == level_set], hue="optimizer")
    ax.set(title=level_set + (" (training)" if level_set == "rand_all" else ""))
    ax.set(xlabel="", ylabel="episode return" if level_set == level_sets[0] else "")
fig.supxlabel("environment steps", fontsize="medium")
fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside upper center", ncols=2, fontsize="small")
save_figure(fig, figures_dir, "open_authors_gridworld")

# %% [markdown]
# ## Craftax-Classic, zero-shot
# The paper's last generalisation test (SPEC 2.5): the gridworld optimizer above, unchanged,
# trains agents on Craftax-Classic (the `craftax` package's JAX Crafter, symbolic observations:
# 1,345 inputs, 17 actions, episodes of up to 10,000 steps), a game and network it never met.
# Its PPO is Craftax's own (Matthews et al. 2024: 3 hidden layers of 512 tanh units per network,
# 4 epochs of 8 minibatches, GAE 0.8) at the shape of Craftax's 1M-step benchmark, 256 envs x 16
# steps, but for two things: no learning-rate annealing (a learned optimizer has no rate to
# anneal) and the gradient norm clipped per network rather than over both. Adam (Craftax's
# eps 1e-5; its 2e-4 was tuned for 1e9 steps) runs at the best rate of a sweep 0.3x-30x on other
# seeds, the same seeds for both optimizers after it. The authors' repository has no Craftax
# code, so these settings are Craftax's, not necessarily the paper's.
#
# | scale | width | seeds | steps | Adam's sweep |
# |---|---|---|---|---|
# | `quick` | 16 | 2 | 4k on 8 envs: exercises the code only | 2 rates, 1 seed |
# | `cpu` | 64 | 4 | 1e6 (Craftax-1M) | 5 rates, 2 seeds of 1e6 |
# | `paper` | 512 | 16 | 1e6 (Craftax-1M) | 5 rates, 3 seeds of 1e6 |

# %%
craft = session.load("open_authors_craftax")
print(craft.describe())
craft_curves = craft.tables["curves"]
craft_finals = final_values(craft_curves, ["optimizer"]).pivot_table(index="seed", columns="optimizer", values="value")
craft_gap, craft_low, craft_high = paired_gap_ci(craft_finals, AUTHORS_LABEL, "Adam")  # both from the same seeds
craft_sweep = craft.tables["sweep"].groupby("learning_rate")["final_return"].mean()
display(craft_sweep.rename("Adam's sweep: mean final return").to_frame().round(2))
pd.DataFrame(
    {**craft_finals.mean().round(2), "OPEN - Adam": craft_gap, "low": craft_low, "high": craft_high}, index=["craftax"]
).round(3)  # final return (mean over the last 10% of updates); 95% paired bootstrap interval of the gap

# %%
craft_order = list(dict.fromkeys(craft_curves["optimizer"]))
craft_summary = summarise_curves(craft_curves, ["optimizer"])
craft_summary = craft_summary.sort_values("optimizer", key=lambda o: o.map(craft_order.index), kind="stable")
craft_colors = dict(zip(craft_order, sns.color_palette()))
fig, (ax, sweep_ax) = plt.subplots(
    1, 2, figsize=(PAPER_WIDTH_IN * 0.9, 2.4), layout="constrained", gridspec_kw={"width_ratios": [1.5, 1]}
)
plot_curves(ax, craft_summary, hue="optimizer")
ax.set(title="Craftax-Classic, OPEN zero-shot", xlabel="environment steps", ylabel="episode return")
sweep_ax.plot(craft_sweep.index, craft_sweep.to_numpy(), "o-", color=craft_colors["Adam"], label="Adam's sweep")
sweep_ax.axhline(
    craft_finals[AUTHORS_LABEL].mean(), color=craft_colors[AUTHORS_LABEL], linestyle="--", label=AUTHORS_LABEL
)
sweep_ax.set(xscale="log", title="Adam's sweep (dashed: OPEN)", xlabel="learning rate", ylabel="final return")
sweep_ax.set_xticks(craft_sweep.index, [f"{rate:.0e}".replace("e-0", "e-") for rate in craft_sweep.index], rotation=45)
sweep_ax.minorticks_off()
fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize="small")
save_figure(fig, figures_dir, "open_authors_craftax")

# %% [markdown]
# ## What holds on Craftax at `cpu` scale (4 seeds of 1e6 steps, 64-unit networks)
# - **The gridworld optimizer transfers: it trains Craftax agents it never met.** Zero-shot,
#   OPEN takes the return from -0.45 (the first episodes to end) to 4.22 in 1e6 steps, as far as
#   Adam at Craftax's own rate (2e-4: 4.29 on the sweep's seeds).
# - **It does not match Adam tuned for this budget.** Adam at the sweep's best rate, 6e-4 (3x
#   Craftax's), ends at 5.08: OPEN's paired gap is -0.86, 95% interval [-1.09, -0.67], 0.83x
#   Adam's return. The paper shows the transfer, not a win over a tuned Adam; it ran larger
#   networks (Craftax's 512 units, the `paper` config) and its budget is not published.

# %%
if scale == "cpu":
    open_final, adam_final = craft_finals.mean()[[AUTHORS_LABEL, "Adam"]]
    finished = craft_curves.dropna(subset=["value"])  # the first updates end no episode
    first = finished[finished["update"] == finished["update"].min()].groupby("optimizer")["value"].mean()
    assert open_final - first[AUTHORS_LABEL] > 3 and open_final > 0.75 * adam_final, (first, open_final, adam_final)
    assert abs(open_final / craft_sweep[2e-4] - 1) < 0.1, craft_sweep  # as far as Adam at Craftax's rate
    assert craft_high < 0, (craft_gap, craft_low, craft_high)  # below Adam at its swept best
