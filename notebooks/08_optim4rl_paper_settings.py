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
# # 08 · Optim4RL learned from scratch at the authors' settings
#
# The claim (Optim4RL, SPEC 1.3-1.5): meta-trained from scratch with pipeline training,
# Optim4RL trains A2C agents on Catch and the LPG gridworlds about as well as tuned Adam and
# RMSProp, while LinearOptim and L2L, without its Adam-like structure, fail; without pipeline
# training (agents never reset) Optim4RL does worse. Notebook 04 tests this at budgets a CPU
# affords, from a damped start; here every setting is the authors' (the RLC 2024 version of
# sail-sg/optim4rl, `configs/meta_*`, `lopt_*`, `a2c_*`):
#
# - **Meta-training**: 64 agents on Catch, 512 on a gridworld, one environment each; K = 4
#   A2C updates of 20-step rollouts per outer step; 78 outer steps on Catch (5e5 environment
#   steps), 585 on a gridworld (3e7); the networks' own (flax) initialisation, no damping.
# - **Sweeps**: the reset interval m, the meta learning rate and the meta-gradient clip
#   (global norm 0.5 or element-wise 1), the authors' grids; Adam and RMSProp over six
#   learning rates (3e-2 to 1e-4). Each candidate was meta-trained once, as the authors did.
# - **Choosing fairly**: every candidate trains the same 15 fresh agents for the task's
#   budget (the authors' envs: 64 on Catch, 512 on a gridworld). The best candidate of each
#   optimizer is chosen on the first 5 and reported on the other 10, so the agents that
#   picked it do not also flatter it.
# - **Controls**: each learned optimizer at its initial meta-parameters ("untrained"), and
#   Optim4RL without pipeline training ("no pipeline").
#
# | scale | tasks | candidates | agents |
# |---|---|---|---|
# | `quick` | Catch | 1 per optimizer, 2 outer steps, 2 updates | 2 meta, 1 + 2 evaluated |
# | `cpu` | Catch | m in {32, 64}, meta lr 1e-3, clip 1 (grows piece by piece) | 64 meta, 5 + 10 evaluated |
# | `paper` | Catch, small_dense_long, big_dense_long | the authors' full grids | 64 / 512 meta, 5 + 10 evaluated |
#
# Every candidate, untrained control and baseline rate is a stored piece (minutes on Catch,
# about an hour per gridworld candidate on a CPU), so the sweep grows towards the paper's
# piece by piece.

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
from matplotlib.ticker import MaxNLocator

from l2o4rl.repro.notebooks import start

session = start(scale, seed, data_dir, recompute)  # before anything starts jax: its settings, the figure style

from l2o4rl.analysis import difference_ci, summarise_curves
from l2o4rl.analysis.plotting import PAPER_WIDTH_IN, plot_curves, save_figure, stripplot
from l2o4rl.experiments.optim4rl_paper import CANDIDATE, chosen, of_chosen
from l2o4rl.optim.catalog import UNTRAINED

config = session.config("optim4rl_paper_settings")
result = session.load("optim4rl_paper_settings")
print(result.describe())
finals, curves = result.tables["finals"], result.tables["curves"]
tasks = list(config.tasks)

# %% [markdown]
# ## The sweeps
# Mean final return (last 10% of updates) of every candidate on the 5 selection agents.

# %%
select = finals[finals["split"] == "select"]
select.groupby(["task", "optimizer", *CANDIDATE], dropna=False)["final_return"].mean().unstack("task").round(3)

# %% [markdown]
# ## The chosen candidates, on the other 10 agents

# %%
picked = chosen(finals)
named = list(dict.fromkeys(picked["optimizer"]))
order = sorted(named, key=lambda name: (name in ("Adam", "RMSProp"), name.endswith(UNTRAINED), named.index(name)))
table = picked.groupby(["task", "optimizer", *CANDIDATE], dropna=False, sort=False)["final_return"]
table.agg(["mean", "std", "count"]).round(3)


# %% [markdown]
# ## Gaps per task
# Mean final return of each optimizer's chosen candidate minus that of the best baseline
# (the baseline with the higher mean on the reported agents), with 95% bootstrap intervals;
# and of Optim4RL against its controls.


# %%
def returns_of(task, optimizer):
    rows = picked[(picked["task"] == task) & (picked["optimizer"] == optimizer)]
    return rows["final_return"].to_numpy()


baselines = [name for name in order if name in ("Adam", "RMSProp")]
learned = [name for name in order if name not in baselines]
gaps = []
for task in tasks:
    best = max(baselines, key=lambda name: returns_of(task, name).mean())
    pairs = [(name, best) for name in learned]
    pairs += [("Optim4RL", rival) for rival in ("Optim4RL (untrained)", "Optim4RL (no pipeline)") if rival in order]
    for name, rival in pairs:
        gap, low, high = difference_ci(returns_of(task, name), returns_of(task, rival), seed=seed)
        gaps.append({"task": task, "optimizer": name, "minus": rival, "gap": gap, "low": low, "high": high})
gaps = pd.DataFrame(gaps)
gaps.round(3)

# %% [markdown]
# ## Training curves and final returns
# Top: mean return of the 10 reported agents of each chosen candidate, with 90% bootstrap
# intervals (dashed: untrained). Bottom: each reported agent's final return.

# %%
summary = summarise_curves(of_chosen(curves, picked), ["task", "optimizer"])
summary = summary.sort_values("optimizer", key=lambda o: o.map(order.index), kind="stable")  # colours in `order`
bases = list(dict.fromkeys(name.removesuffix(UNTRAINED) for name in order))  # a control in its optimizer's colour
colors = {name: sns.color_palette()[bases.index(name.removesuffix(UNTRAINED))] for name in order}
fig, axes = plt.subplots(
    2, len(tasks), figsize=(PAPER_WIDTH_IN * (0.45 * len(tasks) + 0.35), 4.8), layout="constrained", squeeze=False
)
for column, task in enumerate(tasks):
    top, bottom = axes[0, column], axes[1, column]
    plot_curves(top, summary[summary["task"] == task], hue="optimizer")
    top.set(title=task, ylabel="episode return" if column == 0 else "")
    stripplot(
        data=picked[picked["task"] == task],
        x="final_return",
        y="optimizer",
        hue="optimizer",
        order=order,
        palette=colors,
        ax=bottom,
        seed=seed,
        size=4,
        legend=False,
    )
    bottom.xaxis.set_major_locator(MaxNLocator(3))
    bottom.set(xlabel="final return (reported agents)", ylabel="")
fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside right center", fontsize="small")
save_figure(fig, figures_dir, "optim4rl_paper_settings")

# %% [markdown]
# ## What the `cpu` run shows
# On Catch at the authors' budget the modes do not separate. Optim4RL at its initial
# meta-parameters, the networks' own initialisation, already trains every agent to about
# 0.96 (Adam-like by construction: its update is a ratio of two learned moment estimates).
# Meta-training (m = 32 chosen over 64 on the selection agents) moves this by +0.002
# (95% interval [-0.003, 0.008]); Optim4RL without pipeline training ends 0.006 higher
# ([0.001, 0.011]), not lower as the paper reports. Every Optim4RL variant learns more slowly
# (1.4e5-2e5 steps until the mean reaches 0.9, against 3e4 for Adam and RMSProp) and ends 0.03-0.04
# below tuned Adam (0.998 at 3e-2; RMSProp 0.994 at 1e-2), intervals excluding 0.
#
# Where this differs from the paper, and why: the paper's Catch curves put Optim4RL level
# with Adam; here it is close (0.96 on a scale from -1 to 1) but measurably below. The paper
# swept m, the meta learning rate and the clip over grids and picked the best curve on the
# agents it reports; this run sweeps two values of m and picks on other agents. On Catch,
# 78 outer steps of meta-training are too few to move a start that already solves the task,
# so the no-pipeline ablation cannot show its cost here; the gridworlds at 585 outer steps
# (the `paper` scale, about an hour per candidate on a CPU) are where the paper's pipeline
# claim can be tested.
#
# ## Checks
# Every run ends finite; every chosen candidate is reported on `eval_seeds` agents that did
# not choose it. At `cpu` scale, what the text above says: every Optim4RL variant ends above
# 0.9 and below the best baseline, and meta-training moves Optim4RL less than 0.02 from its
# untrained start, with an interval that holds 0.

# %%
assert np.isfinite(finals["final_return"]).all(), "every run ends with a finite return"
counts = picked.groupby(["task", "optimizer"])["seed"].agg(["count", "min"])
assert (counts["count"] == config.eval_seeds).all() and (counts["min"] >= config.select_seeds).all(), counts
if scale == "cpu":  # what the text above says, so that it cannot go stale
    gap = gaps.set_index(["task", "optimizer", "minus"])
    for name in learned:
        mean = returns_of("catch_a2c", name).mean()
        assert mean > 0.9, f"{name} ends at {mean:.3f} on Catch; update the text"
    below = gaps[gaps["minus"].isin(baselines)]
    assert (below["high"] < 0).all(), below
    moved = gap.loc[("catch_a2c", "Optim4RL", "Optim4RL (untrained)")]
    assert abs(moved["gap"]) < 0.02 and moved["low"] < 0 < moved["high"], moved
    ablation = gap.loc[("catch_a2c", "Optim4RL", "Optim4RL (no pipeline)")]
    assert ablation["high"] < 0.01, f"pipeline training now helps on Catch ({ablation['gap']:+.3f}); update the text"
