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
recompute = False  # True: ignore stored results in data/ and recompute
data_dir = "../data"
figures_dir = "../figures"

# %%
import matplotlib.pyplot as plt
import numpy as np

from l2o4rl import experiments
from l2o4rl.analysis import final_values, summarise_curves
from l2o4rl.meta.pipeline import age_schedule, reset_offsets
from l2o4rl.plotting import PAPER_WIDTH_IN, plot_curves, save_figure, set_style

set_style()
experiment = experiments.get("pipeline_training")
config = experiment.config(scale)
config

# %% [markdown]
# ## The reset schedule
# Ages (outer steps since the last reset) of every agent over time, drawn from the trainer's
# own bookkeeping (`age_schedule`), for the first task's `m` and agent count, with pipeline and
# lockstep resets. Without resets (`never`) every agent's age is simply the outer step.

# %%
period, agents = config.reset_periods[0], config.num_agents
steps = 3 * period
fig, axes = plt.subplots(1, 3, figsize=(PAPER_WIDTH_IN * 1.3, 2.4), layout="constrained",
                         gridspec_kw={"width_ratios": [1, 1, 0.8]})  # fmt: skip
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
result = experiment.load_or_run(scale, seed, data_dir, recompute=recompute)
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
        for mode, group in meta_curves[(meta_curves["task"] == task) & (meta_curves["metric"] == metric)].groupby("mode"):
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
# **Pending rerun.** The fidelity fixes (README, "Where we differ from the authors' code":
# the authors' Optim4RL structure and meta-loss, the `never` ablation, the LPG gridworld rules,
# A2C initialisation, time-outs) changed this experiment's config, so the `cpu` result below is
# recomputed by the next `cpu` run (about 30-40 minutes on 2 cores); it did not fit in the
# session that made the fixes. The text and table that follow describe **the earlier code's**
# run (our first Optim4RL port, pipeline vs lockstep only), until then.
#
# **What the earlier `cpu`-scale run showed (16 agents, 200 outer steps, meta-lr 3e-3, 10 evaluation
# seeds; 561 s on 2 cores), and what it did not.** Optim4RL starts "damped" (its random
# initialisation with every step 10x smaller, as in notebook 04): from the random
# initialisation itself the structure already trains both tasks, and an earlier run from
# there moved nothing beyond seed noise. The lockstep meta-loss oscillates with the reset
# period (every agent is young, then old, together), while the pipeline meta-loss is
# steadier: the non-iid effect pipeline training removes is visible. Both modes learn a
# working optimizer from the damped start, but **pipeline does not beat lockstep** here.
# Final returns (mean of 10 seeds, last 10% of updates):
#
# | | untrained | lockstep | pipeline | Adam |
# |---|---|---|---|---|
# | Catch (A2C, 1e5 steps) | -0.60 | -0.04 | -0.19 | 0.78 |
# | small_dense_long (3e5 steps) | 5.4 | 14.7 | 13.5 | 12.9 |
#
# (seed standard deviations 0.08-0.10 on Catch, 1.6-4.0 on small_dense_long). On
# small_dense_long the pipeline-trained optimizer is ahead for most of training (75k-250k
# steps) and the two meet at the end; on Catch lockstep is ahead throughout. The likely
# reason is scale: an agent's meta-training lifetime is `m * K` = 128 (Catch) or 288
# (small_dense_long) updates on one environment, 2.5k-5.8k environment steps, in which the
# agents barely learn (upper panels), so even pipeline agents span only the first stage of
# a real training run and the lockstep batch is not much less representative; the paper
# used 64-512 agents and far longer meta-training. Recorded as not reproduced at `cpu`
# scale; the `paper` config (64 agents, `m` = 64 / 288, 1000 outer steps) is for a GPU.
#
# ## Checks

# %%
def mean_final(task, optimizer):
    return final[(final["task"] == task) & (final["optimizer"] == optimizer)]["value"].mean()


assert np.isfinite(final["value"]).all(), "every evaluation run ends with a finite return"
assert meta_curves[meta_curves["metric"] == "nonfinite"]["value"].sum() == 0, "no meta-update was skipped"
if scale != "quick":  # every mode learns from the damped start; which one wins is reported above, not asserted
    for task in config.tasks:
        untrained = mean_final(task, "Optim4RL (untrained)")
        for mode in config.modes:
            seeds = final[(final["task"] == task) & (final["optimizer"] == f"Optim4RL ({mode})")]["value"]
            assert seeds.min() > untrained, f"{task}: a {mode} seed ends at {seeds.min():.2f}, untrained averages {untrained:.2f}"
