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
# Optim4RL's claim (SPEC 1.2, 1.4): with its Adam-like structure (`m / sqrt(v)`, every step
# along `sign(g)`) and pipeline training, an optimizer for RL can be learned from scratch,
# while learned optimizers without that bias (LinearOptim, L2L) fail. Each learned
# optimizer is meta-trained per task (A2C, truncated meta-gradients, pipeline training),
# then trains fresh agents, next to Adam and RMSProp at the same learning rate and next to
# its own untrained starting point. The untrained control matters: the Optim4RL structure
# alone already trains easy tasks, so "learned something" means "beats its own
# initialization".
#
# The last section meta-trains one Optim4RL on all six LPG gridworlds at once (reward
# scales and agent learning rates of SPEC 1.5); notebook 06 uses it on Brax.

# %% tags=["parameters"]
scale = "cpu"  # quick | cpu | paper
seed = 0
recompute = False  # True: ignore stored results in data/ and recompute
data_dir = "../data"
figures_dir = "../figures"

# %%
from pathlib import Path

import jax
import jax.flatten_util
import matplotlib.pyplot as plt
import numpy as np

from l2o4rl import experiments
from l2o4rl.analysis import final_values, summarise_curves
from l2o4rl.meta.gradient import META_OPTIMIZERS
from l2o4rl.optim.checkpoints import save_meta_params
from l2o4rl.plotting import PAPER_WIDTH_IN, plot_curves, save_figure, set_style

set_style()
experiment = experiments.get("optim4rl_meta_training")
config = experiment.config(scale)
config

# %%
result = experiment.load_or_run(scale, seed, data_dir, recompute=recompute)
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
# Every meta-trained optimizer is saved with its metadata under `data/optimizers/<scale>/`,
# so it can be used without meta-training:
# `load_meta_params(path, Optim4RL.init_meta_params(key))`.

# %%
out = Path(data_dir) / "optimizers" / scale
out.mkdir(parents=True, exist_ok=True)
for name, flat in result.arrays.items():
    task, kind = name.split("/")
    template = META_OPTIMIZERS[kind].init_meta_params(jax.random.key(0))
    unravel = jax.flatten_util.ravel_pytree(template)[1]
    save_meta_params(out / f"{kind}_{task}.npz", unravel(flat), kind=kind, trained_on=task, scale=scale, seed=seed,
                     experiment=experiment.name, result=str(result.path.name))  # fmt: skip
sorted(p.name for p in out.iterdir())

# %% [markdown]
# ## Checks

# %%
def mean_final(task, optimizer):
    return final[(final["task"] == task) & (final["optimizer"] == optimizer)]["value"].mean()


assert np.isfinite(final["value"]).all(), "every evaluation run ends with a finite return"
assert meta_curves[meta_curves["metric"] == "nonfinite"]["value"].sum() == 0, "no meta-update was skipped"
