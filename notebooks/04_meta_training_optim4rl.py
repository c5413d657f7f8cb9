# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Learning an optimizer for RL from scratch by meta-gradients
#
# Optim4RL's claim (SPEC 1.2, 1.4): with its Adam-like structure (`m / sqrt(v)`, steps along
# `sign(g)` up to a learned sign flip) and pipeline training, an optimizer for RL can be learned from scratch,
# while learned optimizers without that bias (LinearOptim, L2L) fail. Each learned
# optimizer is meta-trained per task (A2C, truncated meta-gradients, pipeline training),
# then trains fresh agents, next to Adam and RMSProp at their tuned rates and next to
# its own untrained starting point. The untrained control matters: the Optim4RL structure
# alone already trains easy tasks, so "learned something" means "beats its own
# initialization".
#
# The last section meta-trains one Optim4RL on all six LPG gridworlds at once (reward
# scales and agent learning rates of SPEC 1.5, each task's meta-gradient rescaled to norm 1
# before averaging, as the authors' `max_norm`); notebook 06 uses it on Brax.

# %% tags=["parameters"]
scale = "cpu"  # quick | cpu | paper
seed = 0
recompute = False  # True: ignore stored results in data/ and recompute; "never": use them only, computing nothing
data_dir = "../data"
figures_dir = "../figures"

# %%
import matplotlib.pyplot as plt
import numpy as np

from l2o4rl.repro.notebooks import start

session = start(scale, seed, data_dir, recompute)  # before anything starts jax: its settings, the figure style

from l2o4rl.analysis import final_values, summarise_curves
from l2o4rl.analysis.plotting import PAPER_WIDTH_IN, plot_curves, save_figure
from l2o4rl.repro.trained import ship_all

config = session.config("optim4rl_meta_training")
config

# %%
result = session.load("optim4rl_meta_training")
meta_curves, curves = result.tables["meta_curves"], result.tables["curves"]
print(result.describe())

# %% [markdown]
# ## Agents trained by each optimizer
# Mean over seeds with 90% bootstrap intervals; "(untrained)" is the learned optimizer at its
# initial meta-parameters.

# %%
summary = summarise_curves(curves, ["task", "optimizer"])
tasks = list(config.tasks)
fig, axes = plt.subplots(1, len(tasks), figsize=(PAPER_WIDTH_IN * 1.3, 2.8), layout="constrained", squeeze=False)
for ax, task in zip(axes[0], tasks):
    plot_curves(ax, summary[summary["task"] == task], hue="optimizer")
    ax.set(title=task, ylabel="episode return" if task == tasks[0] else "")
axes[0, -1].legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.0, 0.5))
save_figure(fig, figures_dir, "meta_training_returns")

# %%
final = final_values(curves, ["task", "optimizer"])
table = final.groupby(["task", "optimizer"])["value"].agg(["mean", "std", "count"]).unstack("task")
table

# %% [markdown]
# What the `cpu`-scale run shows (10 seeds, evaluation agents with 16 envs; the authors'
# structures: GRU + MLP [16, 16] heads, Optim4RL's sign of m learned, actor-only meta-loss,
# element-wise meta-gradient clip 1; Catch's agents unclipped, as the authors'; Adam and
# RMSProp at the best rates of notebook 01's stored sweep: Catch Adam 1e-2, RMSProp 3e-3;
# small_dense_long Adam 9e-3, RMSProp 3e-2). Every learned optimizer starts "damped": its
# random initialisation with every step 10x smaller, because the random initialisation of the
# Optim4RL structure already trains small_dense_long and would leave little for
# meta-training to show. 1,359 s on 2 cores (the six-gridworld Optim4RL about 20 min of it).
#
# | final return | Adam | RMSProp | Optim4RL | Optim4RL (untrained) | LinearOptim | L2L |
# |---|---|---|---|---|---|---|
# | Catch (1e5 steps, 80 outer steps) | 0.99 | 0.98 | **0.32** | -0.52 | -0.58 | -0.60 |
# | small_dense_long (3e5 steps, 300 outer steps) | 15.2 | 16.1 | **10.6** | 7.4 | 0.00 | 0.10 |
#
# - **Learned from scratch, on both tasks, well short of tuned Adam**: meta-gradients turn
#   the damped Optim4RL into an optimizer whose every seed ends above the untrained mean:
#   on Catch from -0.52 (it does not learn Catch) to 0.32 (seed std 0.07), about a third of
#   tuned Adam's 0.99; on small_dense_long from 7.4 to 10.6 (std 1.4), 70% of Adam's 15.2.
#   Catch's 80 outer steps are short: notebook 03's pipeline run of the same Optim4RL, with
#   200 outer steps (16 agents), reaches 0.94, and the curve here is still rising at 1e5.
# - **One meta-training run per task is not a stable measurement at this scale.** The
#   previous stored run (Catch agents clipped element-wise at 1, and code that rounded floats
#   differently: grouped agents, the meta learning rate as optimizer state) reached 0.74 on
#   Catch and left small_dense_long where it started (6.6 against 7.6). The meta-parameters
#   of the two runs differ by at most 0.02 on Catch, yet their agents' returns by 0.4;
#   small_dense_long's meta-training, which the clip never touched, moved from "no gain" to
#   +3. The paper's claim holds here in direction (from scratch, above the untrained start),
#   not in size; the sizes need several meta-training seeds, which the `cpu` budget does
#   not include (notebook 08 runs Catch at the authors' own settings).
# - **LinearOptim and L2L fail** from the same start: their agents stay at the random
#   policy's return on both tasks, trained or not (the paper's finding).
# - big_dense_long is left to `paper` scale: its conv agents cost ~1.5 ms per env step for
#   10 seeds on 2 cores, ~3.5 h for the eight 1e6-step evaluations.
# - The agents' returns during meta-training (below) stay near zero: an agent lives only
#   m x K updates (2.5k-5.8k env steps), too short to learn the task; the meta-gradient
#   still carries the signal that sets the step scale.

# %% [markdown]
# ## Meta-training curves
# The mean return of the agents being meta-trained, per outer step (smoothed over 10 steps).

# %%
returns = meta_curves[meta_curves["metric"].str.startswith("return_")]
panels = list(dict.fromkeys(returns["task"]))
fig, axes = plt.subplots(1, len(panels), figsize=(PAPER_WIDTH_IN * 1.3, 2.4), layout="constrained", squeeze=False)
for ax, task in zip(axes[0], panels):
    for (optimizer, metric), group in returns[returns["task"] == task].groupby(["optimizer", "metric"]):
        label = optimizer if task != "six gridworlds" else metric.removeprefix("return_")
        ax.plot(group["outer_step"], group["value"].rolling(10, min_periods=1).mean(), label=label)
    ax.set(title=task, xlabel="outer step", ylabel="agent return" if task == panels[0] else "")
    ax.legend(fontsize="x-small")
save_figure(fig, figures_dir, "meta_training_curves")

# %% [markdown]
# ## Shipped meta-parameters
# Every meta-trained optimizer is shipped with its metadata under
# `data/<scale>/trained_optimizers/`, so it can be used without meta-training:
# `l2o4rl.repro.trained.load_trained(data_dir, scale, kind, trained_on)`.

# %%
shipped = ship_all(
    data_dir,
    scale,
    result.arrays,
    init=config.init,
    seed=seed,
    experiment="optim4rl_meta_training",
    result=result.path.name,
)
[p.name for p in shipped]

# %% [markdown]
# ## Checks
# At `cpu` scale and above: on every task every seed of the meta-trained Optim4RL ends above
# the means of its untrained start and of the meta-trained LinearOptim and L2L. At `cpu`
# scale, the sizes the text gives (so that it cannot go stale): on Catch the mean reaches
# 20-50% of tuned Adam's (about a third), on small_dense_long 55-85% (70%).


# %%
def finals(task, optimizer):
    return final[(final["task"] == task) & (final["optimizer"] == optimizer)]["value"]


assert np.isfinite(final["value"]).all(), "every evaluation run ends with a finite return"
assert meta_curves[meta_curves["metric"] == "nonfinite"]["value"].sum() == 0, "no meta-update was skipped"
if scale != "quick":
    for task in tasks:
        worst_trained = finals(task, "Optim4RL").min()
        for other in ("Optim4RL (untrained)", "LinearOptim", "L2L"):
            other_mean = finals(task, other).mean()
            assert worst_trained > other_mean, (
                f"{task}: a meta-trained Optim4RL seed ends at {worst_trained:.2f}, {other} averages {other_mean:.2f}"
            )
if scale == "cpu":
    for task, (low, high) in {"catch_a2c": (0.2, 0.5), "small_dense_long": (0.55, 0.85)}.items():
        ratio = finals(task, "Optim4RL").mean() / finals(task, "Adam").mean()
        assert low <= ratio < high, f"Optim4RL reaches {ratio:.0%} of tuned Adam on {task}; update the text"
