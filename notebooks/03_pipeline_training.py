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
# # 03 · Pipeline training: meta-batches that span an agent's whole life
#
# An agent's gradients drift over its lifetime (notebook 02), so a meta-gradient averaged
# over agents of the same age sees only one stage of life at a time. Pipeline training
# (Optim4RL, SPEC 1.3) staggers the agents: agent `j` of `n` is re-initialised whenever
# `t mod m == floor(linspace(0, m-1, n))[j]`, so after `m` outer steps the agents' ages
# cover `[0, m)` evenly. The ablation of the authors' code, "without pipeline", never resets
# the agents (`never`: they share one ever older life); a third mode, `lockstep`, resets
# every agent together every `m` steps.
#
# Here Optim4RL (the authors' structure: GRU + MLP [16, 16] heads, learned sign) is
# meta-trained in all three modes on the same tasks with the same compute and seeds (A2C,
# each agent on one environment, K = 4 updates per outer step, truncated meta-gradient of the
# agent's policy-gradient loss, element-wise clip 1, SPEC 1.4), and each resulting optimizer
# then trains fresh agents (the task's A2C config with 16 envs: the authors' 512 would leave
# these budgets a few dozen updates). The untrained optimizer (its initial meta-parameters,
# shared by every mode) is the control: Optim4RL's structure alone already trains easy tasks.

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

from l2o4rl.analysis import difference_ci, final_values, summarise_curves
from l2o4rl.analysis.plotting import PAPER_WIDTH_IN, plot_curves, save_figure
from l2o4rl.meta.pipeline import age_schedule, reset_offsets

config = session.config("pipeline_training")
config

# %% [markdown]
# ## The reset schedule
# Ages (outer steps since the last reset) of every agent over time, drawn from the trainer's
# own bookkeeping (`age_schedule`), for the first task's `m` and agent count, with pipeline and
# lockstep resets. Without resets (`never`) every agent's age is simply the outer step.

# %%
period, agents = config.reset_periods[0], config.num_agents
steps = 3 * period
fig, axes = plt.subplots(
    1, 3, figsize=(PAPER_WIDTH_IN * 1.3, 2.4), layout="constrained", gridspec_kw={"width_ratios": [1, 1, 0.8]}
)
for ax, mode in zip(axes[:2], ("pipeline", "lockstep")):
    ages = age_schedule(agents, period, steps, mode)
    image = ax.imshow(ages.T, aspect="auto", cmap="viridis", interpolation="nearest", origin="lower")
    ax.grid(False)
    ax.set(title=mode, xlabel="outer step", ylabel="agent" if mode == "pipeline" else "")
    ax.axvline(period - 0.5, color="w", linestyle="--", linewidth=1)
fig.colorbar(image, ax=axes[:2], label="agent age", shrink=0.9)
late = {mode: age_schedule(agents, period, steps, mode)[period:] for mode in ("pipeline", "lockstep")}
for mode, ages in late.items():  # the ages a single meta-gradient averages over, at one step
    axes[2].hist(ages[period // 2], bins=np.arange(period + 1) - 0.5, alpha=0.7, label=mode)
axes[2].set(title=f"ages in one meta-batch (step {period + period // 2})", xlabel="agent age", ylabel="agents")
axes[2].legend(fontsize="small")
save_figure(fig, figures_dir, "pipeline_lifetimes")

# %%
assert late["pipeline"][0].tolist() == ((period - reset_offsets(agents, period)) % period).tolist()
assert all(len(set(row)) == 1 for row in late["lockstep"]), "lockstep agents share one age"
assert (age_schedule(agents, period, steps, "never") == np.arange(steps)[:, None]).all(), "never reset: age = step"

# %% [markdown]
# ## Meta-training in each mode

# %%
result = session.load("pipeline_training")
meta_curves, curves = result.tables["meta_curves"], result.tables["curves"]
print(result.describe())

# %% [markdown]
# Left: the mean return of the agents being meta-trained (each at its own age) and the
# meta-loss, per outer step (smoothed over 10 steps).

# %%
tasks = list(config.tasks)
fig, axes = plt.subplots(2, len(tasks), figsize=(PAPER_WIDTH_IN * 1.2, 4.2), layout="constrained", squeeze=False)
for col, task in enumerate(tasks):
    for row, metric in enumerate((f"return_{task}", "meta_loss")):
        for mode, group in meta_curves[(meta_curves["task"] == task) & (meta_curves["metric"] == metric)].groupby(
            "mode"
        ):
            smooth = group["value"].rolling(10, min_periods=1).mean()
            axes[row, col].plot(group["outer_step"], smooth, label=mode)
        axes[row, col].set(xlabel="outer step" if row else "", ylabel="agent return" if row == 0 else "meta-loss")
    axes[0, col].set_title(task)
axes[0, 0].legend(fontsize="small")
save_figure(fig, figures_dir, "pipeline_meta_training")

# %% [markdown]
# ## Agents trained by each resulting optimizer
# Fresh agents with the full A2C config; mean over seeds with 90% bootstrap intervals.

# %%
summary = summarise_curves(curves, ["task", "optimizer"])
fig, axes = plt.subplots(1, len(tasks), figsize=(PAPER_WIDTH_IN * 1.2, 2.6), layout="constrained", squeeze=False)
for ax, task in zip(axes[0], tasks):
    plot_curves(ax, summary[summary["task"] == task], hue="optimizer")
    ax.set(title=task, ylabel="episode return" if task == tasks[0] else "")
axes[0, 0].legend(fontsize="small")
save_figure(fig, figures_dir, "pipeline_vs_lockstep")

# %%
final = final_values(curves, ["task", "optimizer"])
table = final.groupby(["task", "optimizer"])["value"].agg(["mean", "std", "count"]).unstack("task")
table

# %% [markdown]
# **What the `cpu`-scale run shows (16 agents, 200 outer steps, meta-lr 3e-3, 10 evaluation
# seeds; 711 s on 2 cores).** Optim4RL starts "damped" (its random initialisation with every
# step 10x smaller, as in notebook 04): from the random initialisation itself the structure
# already trains small_dense_long, not Catch. Adam runs at the best rate of notebook 01's
# sweep. Final returns (mean of 10 seeds, last 10% of updates; seed standard deviation in
# brackets):
#
# | | untrained | never (authors' ablation) | lockstep | pipeline | Adam (tuned) |
# |---|---|---|---|---|---|
# | Catch (A2C, 1e5 steps) | -0.52 | 0.80 (0.04) | 0.92 (0.13) | **0.94** (0.02) | 0.99 |
# | small_dense_long (3e5 steps) | 7.4 | 9.8 (1.5) | 4.2 (1.3) | **10.6** (0.8) | 15.2 |
#
# - **Catch: pipeline training beats the authors' no-pipeline ablation**, as the paper
#   reports. All three modes turn the damped start, which does not learn Catch, into an
#   optimizer that does, but the pipeline-trained one learns fastest (its 10-update running
#   mean passes 0.85 at 22k steps, lockstep's at 48k, never's not within 1e5) and ends ahead
#   of `never`: pipeline minus never 0.14, 95% bootstrap interval [0.11, 0.17]. Pipeline and
#   lockstep end level (0.02 [-0.04, 0.11]; one lockstep seed ends at 0.55), and lockstep
#   ends ahead of `never` (0.12 [0.02, 0.18]).
# - **small_dense_long: one meta-training run cannot rank the modes.** Here pipeline is
#   ahead of `never` by an interval that straddles zero (0.7 [-0.3, 1.6]) and lockstep
#   ruined the start (4.2 against 7.4). The previous stored run of this same config, which
#   differed only in float rounding (code revisions in between reorder operations; its
#   meta-losses part from this run's within the first 7-15 outer steps), ended the other
#   way round: pipeline 0.32, never 7.9, lockstep 9.9. Meta-training on this task is chaotic
#   at this scale, so its ranking needs several meta-training seeds per mode, which the
#   `cpu` budget does not include; the paper's claim is checked on Catch.
# - Scale: an agent's meta-training lifetime is `m * K` = 128 (Catch) or 288
#   (small_dense_long) updates on one environment (2.5k-5.8k environment steps), in which
#   the agents barely learn (upper panels); the paper used 64-512 agents and far longer
#   meta-training. The `paper` config (64 agents, `m` = 64 / 288, 1000 outer steps) is for a
#   GPU.
#
# ## Checks
# On Catch every mode learns from the damped start (at `cpu` scale and above); at `cpu` scale
# the claims of the text: pipeline and lockstep ahead of `never` on Catch, and this run's order on
# small_dense_long (lockstep below the untrained start, pipeline above it).


# %%
def seeds_of(task, optimizer):
    return final[(final["task"] == task) & (final["optimizer"] == optimizer)]["value"].to_numpy()


assert np.isfinite(final["value"]).all(), "every evaluation run ends with a finite return"
assert meta_curves[meta_curves["metric"] == "nonfinite"]["value"].sum() == 0, "no meta-update was skipped"
if scale != "quick":  # on Catch every mode learns from the damped start (every seed above the untrained mean)
    untrained = seeds_of("catch_a2c", "Optim4RL (untrained)").mean()
    for mode in config.modes:
        worst = seeds_of("catch_a2c", f"Optim4RL ({mode})").min()
        assert worst > untrained, f"catch_a2c: a {mode} seed ends at {worst:.2f}, untrained averages {untrained:.2f}"
if scale == "cpu":  # what the text above says, so that it cannot go stale
    for mode in ("pipeline", "lockstep"):
        gap, low, _ = difference_ci(
            seeds_of("catch_a2c", f"Optim4RL ({mode})"), seeds_of("catch_a2c", "Optim4RL (never)")
        )
        assert low > 0, f"Catch: {mode} no longer beats never ({gap:.3f}, lower bound {low:.3f})"
    sdl = {mode: seeds_of("small_dense_long", f"Optim4RL ({mode})").mean() for mode in (*config.modes, "untrained")}
    assert sdl["lockstep"] < sdl["untrained"] < sdl["pipeline"], f"small_dense_long: the text describes {sdl}"
