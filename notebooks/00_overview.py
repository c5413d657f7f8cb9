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
# # 00 · Overview: the pipeline end to end
#
# Every notebook in this project has the same shape: a short text, one call into the
# `l2o4rl` library (which reuses a stored result from `data/` when its config matches),
# a table, a figure written to `figures/`, and an assertion of the claim.
#
# Here the "experiment" is the floor every later learning curve is measured against: a
# uniformly random policy on a few gymnax environments. The same call also measures the
# environment-only step rate, the ceiling for any agent's throughput on this machine.
#
# Run it headless with `python -m l2o4rl.repro.notebooks run 00 --scale quick`, or open the
# `.ipynb` in Jupyter and change `scale` below.

# %% tags=["parameters"]
scale = "cpu"  # quick | cpu | paper
seed = 0
recompute = False  # True: ignore stored results in data/ and recompute; "never": use them only, computing nothing
data_dir = "../data"
figures_dir = "../figures"

# %%
import matplotlib.pyplot as plt
import seaborn as sns

from l2o4rl.repro.notebooks import start

session = start(scale, seed, data_dir, recompute)  # before anything starts jax: its settings, the figure style

from l2o4rl.analysis.plotting import PAPER_WIDTH_IN, save_figure

session.config("random_baseline")

# %%
result = session.load("random_baseline")
episodes, speed = result.tables["episodes"], result.tables["speed"]
print(result.describe())

# %% [markdown]
# ## Random-policy returns and environment-only step rate

# %%
summary = (
    episodes.groupby("env")["return"]
    .agg(episodes="count", mean="mean", std="std", min="min", max="max")
    .join(speed.set_index("env")["steps_per_s"])
)
summary

# %%
fig, axes = plt.subplots(1, len(summary), figsize=(PAPER_WIDTH_IN, 2.6), squeeze=False, layout="constrained")
for ax, (env, group) in zip(axes[0], episodes.groupby("env")):
    sns.histplot(group["return"], ax=ax, bins=20, stat="probability")
    ax.axvline(group["return"].mean(), color="k", linestyle="--", linewidth=1, label="mean")
    ax.set(title=env, xlabel="episode return", ylabel="")
axes[0][0].set_ylabel("share of episodes")
axes[0][0].legend()
fig.suptitle("Uniformly random policy")
save_figure(fig, figures_dir, "overview_random_returns")

# %% [markdown]
# ## Checks
# A random paddle in Catch catches the ball about one time in five (mean return near
# -0.6); a random CartPole policy survives about 22 steps.

# %%
expected_mean_return = {"Catch-bsuite": (-0.9, -0.3), "CartPole-v1": (15.0, 30.0)}
for env, (low, high) in expected_mean_return.items():
    if env in summary.index:
        mean = summary.loc[env, "mean"]
        assert low <= mean <= high, f"{env}: random-policy mean return {mean:.3f} outside [{low}, {high}]"
assert (summary["episodes"] > 0).all(), "every environment finished at least one episode"
