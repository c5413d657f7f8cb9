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
# # 01 · The inner loop: PPO and A2C with hand-designed optimizers
#
# Every learned optimizer in this project is judged against agents trained with Adam and
# RMSProp, so those agents must be right. This notebook trains them on one task of every
# kind the papers use:
#
# | task | agent | network | source |
# |---|---|---|---|
# | Catch (bsuite) | PPO | 2x64 tanh MLPs | gymnax |
# | small_dense_long (LPG gridworld) | A2C, rollout 20, gamma 0.995 | MLP 32 | Optim4RL (SPEC 1.5) |
# | Breakout-MinAtar | PPO, 64 envs x 128 steps, 4 x 8 minibatches | 2x64 relu MLPs | OPEN (SPEC 2.4) |
# | Brax inverted_pendulum | PPO, normalised obs and rewards, clip 1 | 2x64 tanh MLPs | SPEC 1.6 |
#
# Adam uses each task's tuned settings; RMSProp uses the same learning rate (SPEC 1.2).
# Curves are the mean over seeds of the return of each env's last finished episode, with
# 90% bootstrap intervals; the dashed line is a uniformly random policy.

# %% tags=["parameters"]
scale = "cpu"  # quick | cpu | paper
seed = 0
recompute = False  # True: ignore stored results in data/ and recompute
data_dir = "../data"
figures_dir = "../figures"

# %%
import matplotlib.pyplot as plt
import numpy as np

from l2o4rl import experiments
from l2o4rl.analysis import final_values, summarise_curves
from l2o4rl.plotting import PAPER_WIDTH_IN, plot_curves, save_figure, set_style

set_style()
experiment = experiments.get("baseline_curves")
experiment.config(scale)

# %%
result = experiment.load_or_run(scale, seed, data_dir, recompute=recompute)
curves, floors = result.tables["curves"], result.tables["random"].set_index("task")["random_return"]
print(result.describe())

# %% [markdown]
# ## Final returns (mean over the last 10% of updates, per seed)

# %%
final = final_values(curves, ["task", "optimizer"])
table = final.groupby(["task", "optimizer"])["value"].agg(["mean", "std", "count"]).unstack("optimizer")
table["random policy"] = floors
table

# %%
summary = summarise_curves(curves, ["task", "optimizer"])
tasks = list(dict.fromkeys(curves["task"]))
fig, axes = plt.subplots(1, len(tasks), figsize=(PAPER_WIDTH_IN * 1.3, 2.6), layout="constrained")
for ax, task in zip(np.atleast_1d(axes), tasks):
    plot_curves(ax, summary[summary["task"] == task], hue="optimizer")
    ax.axhline(floors[task], color="k", linestyle="--", linewidth=1, label="random policy")
    ax.set(title=task, ylabel="episode return" if task == tasks[0] else "")
np.atleast_1d(axes)[0].legend(fontsize="small")
save_figure(fig, figures_dir, "baselines_adam_vs_rmsprop")

# %% [markdown]
# What the `cpu`-scale run shows (5 seeds; 1,952 s on 2 cores shared with other jobs), with
# the authors' settings (README, "Where we differ": time-outs end the return; the LPG
# gridworld's respawn rules, border and A2C initialisation, here with 16 envs where the
# authors use 512; the pendulum run as Optim4RL runs Brax, observations normalised from raw
# statistics, rewards scaled by 10, brax.training's networks):
#
# | final return | Adam | RMSProp | random |
# |---|---|---|---|
# | Catch (PPO, 1e5 steps) | 0.99 | 0.96 | -0.60 |
# | small_dense_long (A2C, 1e6) | 11.6 | 14.6 | -0.05 |
# | Breakout-MinAtar (PPO, 2e6) | 26.1 | 17.7 | 0.42 |
# | inverted_pendulum (PPO, 5e5) | 342 (seed std 176) | 500 (std 20) | 23 |
#
# Both optimizers solve Catch and learn every task far above a random policy. On Breakout
# Adam (OPEN's tuned settings) is ahead; on small_dense_long and inverted_pendulum RMSProp is
# ahead at the shared learning rate (the papers' rates: Optim4RL's 0.03 for the small
# gridworlds, Brax's 3e-4), though far less than before the fidelity fixes (small_dense_long
# 38 vs 10, pendulum 660 vs 180: the observation statistics bug hit Adam's pendulum runs
# hardest). "Same learning rate for both" is the papers' protocol, not a claim that the two
# are equally tuned; a stored learning-rate sweep per baseline is still to come.
#
# ## Checks
# At `cpu` scale and above: Adam solves Catch, learns the gridworld far above a random
# policy, and its Breakout and Brax curves rise.

# %%
def mean_final(task, optimizer="adam"):
    return final[(final["task"] == task) & (final["optimizer"] == optimizer)]["value"].mean()


def early(task, optimizer="adam", fraction=0.1):
    rows = curves[(curves["task"] == task) & (curves["optimizer"] == optimizer) & (curves["metric"] == "episode_return")]
    return rows[rows["update"] <= rows["update"].max() * fraction]["value"].mean()


assert np.isfinite(final["value"]).all(), "every run ends with a finite return"
if scale != "quick":
    assert mean_final("catch") >= 0.8, f"PPO+Adam on Catch: {mean_final('catch'):.2f} < 0.8"
    margin = mean_final("small_dense_long") - floors["small_dense_long"]
    assert margin >= 5.0, f"A2C+Adam on small_dense_long beats random by only {margin:.2f}"
    for task in ("breakout", "inverted_pendulum"):
        rise = mean_final(task) - early(task)
        assert rise > 0.5 * abs(early(task)) + 1.0, f"{task}: Adam's curve does not rise ({early(task):.1f} -> {mean_final(task):.1f})"
