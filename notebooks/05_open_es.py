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
# # 05 · OPEN: a learned optimizer meta-trained by evolution strategies
#
# The claim (OPEN, SPEC 2.3-2.6): OPEN meta-trained by ES matches or beats hand-designed
# optimizers (Adam, RMSProp, Lion) and other learned optimizers ("OPT", the Optim4RL
# structure trained by the same ES; "No Features", OPEN without its extra inputs and noise),
# in single- and multi-task settings and out of support, and each of its features and its
# stochasticity contributes.
#
# Every learned optimizer here is trained by the same OpenES (`l2o4rl.meta.es`): antithetic
# sampling, centered-rank fitness, Adam on the ES mean, common random numbers within a
# generation, the population vmapped and split over every device; the fitness is the final
# return of a whole PPO run divided by tuned Adam's. Evaluation agents use seeds the ES never
# saw; the baselines' learning rate is swept per task on other seeds.
#
# | scale | tasks | ES |
# |---|---|---|
# | `quick` | Catch, a gridworld, Deep Sea 4, 2,048 steps | 2 members, 2 generations: exercises the code only |
# | `cpu` | Catch and CartPole (16k steps each), rand_all gridworlds (8k steps), Deep Sea sizes 4-10 (16k steps); small PPO (hidden 16, 8 envs x 16 steps, 2 x 2 minibatches) | 16 members (8 on gridworlds), 6-12 generations, sigma and learning rate 0.1, random initial mean; ablations with 3 ES seeds |
# | `paper` | the four MinAtar games and Brax ant (SPEC 2.4 configs, 1e7 / 5e7 steps), Deep Sea sizes 4-16 (1e6 steps) | 64 members, 500 generations, sigma and learning rate 0.03, zero initial mean (SPEC 2.3) |
#
# At `cpu` scale the ES sees under 1% of the paper's meta-training (192 PPO runs instead of
# 32,000), so the settings differ on purpose: a small PPO whose many small updates let a
# learned optimizer matter within 16k steps, a larger ES step, and a random initial mean (from
# an all-zero mean OPEN makes no update at all, and 30 generations at sigma 0.03 never left it).
#
# **Fidelity (README, "Where we differ from the authors' code").** The gridworlds have
# GROOVE's observation and fixed start per level, a time-out ends the return, and the
# multi-task OPEN is the authors' larger network. The single-task, multi-task and gridworld
# results below were recomputed with that code. The fidelity commit's PPO changes also moved
# the Catch and Deep Sea runs slightly (tuned Adam's Catch return from 0.75 to 0.78), so the
# ablation and Deep Sea experiments are at revision 1 as well and were recomputed too.
#
# %% tags=["parameters"]
scale = "cpu"  # quick | cpu | paper
seed = 0
recompute = False  # True: ignore stored results in data/ and recompute; "never": use them only, computing nothing
data_dir = "../data"
figures_dir = "../figures"

# %%
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from l2o4rl.repro.notebooks import start

session = start(scale, seed, data_dir, recompute)  # before anything starts jax: its settings, the figure style

from l2o4rl.analysis import aggregate, difference_ci, final_values, summarise_curves
from l2o4rl.analysis.plotting import PAPER_WIDTH_IN, plot_curves, save_figure
from l2o4rl.experiments.deep_sea import noise_by_size
from l2o4rl.experiments.open_es import es_seed_of, final_scores, fitness_thirds, pooled_es_runs, score_matrices
from l2o4rl.repro.trained import ship_all


def load(name, run_seed=seed):
    result = session.load(name, run_seed)
    print(name, result.describe())
    return result


single = load("open_es_single")
session.config("open_es_single")

# %% [markdown]
# ## Meta-training: does ES improve the fitness?
# Fitness is the population's normalised final return (1 = tuned Adam), its mean and best
# member per generation; all members of a generation share their rollout seeds.

# %%
es = single.tables["es"]
runs = list(dict.fromkeys(es["trained_on"]))
fig, axes = plt.subplots(1, len(runs), figsize=(PAPER_WIDTH_IN * 1.2, 2.6), layout="constrained", squeeze=False)
for ax, run in zip(axes[0], runs):
    for i, (name, group) in enumerate(es[es["trained_on"] == run].groupby("optimizer", sort=False)):
        color = sns.color_palette()[i]
        ax.plot(group["generation"], group["fitness_mean"], color=color, label=f"{name} (mean)")
        ax.plot(group["generation"], group["fitness_max"], color=color, linestyle=":", label=f"{name} (best)")
    ax.axhline(1.0, color="k", linewidth=1, linestyle="--")
    ax.set(title=f"trained on {run}", xlabel="generation", ylabel="normalised return" if run == runs[0] else "")
axes[0, 0].legend(fontsize="x-small")
save_figure(fig, figures_dir, "open_es_fitness")

# %%
progress = fitness_thirds(es, ["trained_on", "optimizer"])
progress.round(3)

# %% [markdown]
# ## Single- and multi-task: final returns of fresh agents
# Each optimizer trains new agents on evaluation seeds; a run's final return is its mean
# return over the last 10% of updates, and scores divide it by tuned Adam's mean on that task. "(untrained)" is a learned optimizer's ES
# starting point, a control showing what meta-training added; "OPEN (multi-task)" is one OPEN
# trained on all tasks at once; "OPEN (authors)" is the published `breakout_OPEN.npy` where
# present. Aggregates are over tasks with stratified-bootstrap 95% intervals (rliable's
# definitions, `l2o4rl.analysis.aggregate`).

# %%
single.tables["baselines"].round(4)  # tuned Adam's return (the fitness normaliser) and each baseline's swept rate

# %%
scores = final_scores(single.tables["curves"])
scores.pivot_table(index="optimizer", columns="task", values="return", aggfunc="mean").loc[
    list(dict.fromkeys(single.tables["curves"]["optimizer"]))
].round(2)

# %%
intervals = aggregate.interval_estimates(score_matrices(scores))
intervals.pivot(index="algorithm", columns="aggregate", values="value").round(2)

# %%
order = list(dict.fromkeys(single.tables["curves"]["optimizer"]))
tasks = list(dict.fromkeys(single.tables["curves"]["task"]))
fig, axes = plt.subplots(
    1,
    len(tasks) + 1,
    figsize=(PAPER_WIDTH_IN * 1.4, 3.2),
    layout="constrained",
    gridspec_kw={"width_ratios": [1] * len(tasks) + [1.3]},
)
for ax, task in zip(axes, tasks):
    sns.pointplot(
        scores[scores["task"] == task],
        x="normalised",
        y="optimizer",
        order=order,
        errorbar=("ci", 95),
        seed=seed,
        linestyle="none",
        ax=ax,
        color="C0",
    )
    ax.axvline(1.0, color="k", linestyle="--", linewidth=1)
    ax.set(title=task, xlabel="final return / Adam's", ylabel="" if task != tasks[0] else "optimizer")
    if task != tasks[0]:
        ax.set_yticklabels([])
ax = axes[-1]
iqm = (
    intervals[intervals["aggregate"] == "IQM"]
    .set_index("algorithm")
    .reindex([o for o in order if o in set(intervals["algorithm"])])
)
ax.errorbar(
    iqm["value"], np.arange(len(iqm)), xerr=[iqm["value"] - iqm["low"], iqm["high"] - iqm["value"]], fmt="o", color="C1"
)
ax.set_yticks(np.arange(len(iqm)), iqm.index)
ax.invert_yaxis()
ax.axvline(1.0, color="k", linestyle="--", linewidth=1)
ax.set(title="IQM over tasks", xlabel="normalised return")
save_figure(fig, figures_dir, "open_es_single_task")

# %% [markdown]
# What the `cpu`-scale run shows (8 evaluation seeds; Breakout is replaced by CartPole at this
# scale: on 2 shared cores one ES generation on even a 32k-step Breakout took two minutes).
#
# - **ES works**: on Catch it turns OPEN's random starting point, which does not learn (final
#   return about -0.57), into an optimizer that does: the population's mean fitness (return
#   over tuned Adam's) goes from -0.39 in the first third of the generations to 0.98 in the
#   last, and likewise for OPT (0.02 to 0.91), OPEN on CartPole (0.38 to 0.74) and the
#   multi-task OPEN (-0.25 to 0.75); No Features rises less (-1.03 to -0.27).
# - **Catch (its training task)**: OPEN 0.58, tuned Adam 0.78, RMSProp 0.73, OPT 0.75, Lion
#   0.68, No Features 0.49. OPEN is above its No Features ablation and below Adam, and both
#   gaps are within the seed noise (Adam's lead over OPEN: 0.19, 95% bootstrap interval
#   [-0.11, 0.50] over 8 seeds; OPEN's over No Features 0.10, [-0.20, 0.44]): the paper's
#   "OPEN beats the hand-designed and other learned optimizers" does **not** reproduce at this
#   scale. One 12-generation ES run is fragile: this config's earlier runs ended at OPEN 0.76
#   (Adam 0.78) before the fidelity commit's PPO changes and at 0.66 (Adam 0.76) before OPEN
#   ran feature-major, a change of float rounding only (README, "Stored ES runs and today's
#   code"); that is why the ablations below use three ES runs.
# - **CartPole**: OPEN reaches 122 against tuned Adam's 192 (RMSProp 238, Lion 265): after 12
#   generations it is well short of the baselines.
# - **Multi-task**: one OPEN of the authors' larger size trained on both tasks reaches 0.55 on
#   Catch and 159 on CartPole; its IQM of normalised return (0.76) is below Adam's (1.09), so
#   the multi-task claim does not reproduce at this scale either.

# %% [markdown]
# ## Gridworld: in distribution and out of support
# OPEN meta-trained on `rand_all` levels with antithetic task sampling (each +/- pair shares a
# level and agent seed and is scored win/lose), then evaluated on fresh `rand_all` levels and on
# the out-of-support sets (sparse, dense and long LPG-style layouts, 13 x 13 mazes), against
# tuned Adam and the authors' `gridworld_OPEN.npy` on the same levels and seeds. Returns are
# shown raw: on several level sets every optimizer's mean is near zero or negative, where a
# ratio to Adam's means nothing.

# %%
grid = load("open_es_gridworld")
grid_scores = final_scores(grid.tables["curves"], group="level_set")
grid_scores.pivot_table(index="optimizer", columns="level_set", values="return", aggfunc="mean", sort=False).round(3)

# %%
fig, ax = plt.subplots(figsize=(PAPER_WIDTH_IN, 2.8), layout="constrained")
sns.barplot(
    grid_scores,
    x="level_set",
    y="return",
    hue="optimizer",
    errorbar=("ci", 95),
    seed=seed,
    ax=ax,
    order=list(dict.fromkeys(grid.tables["curves"]["level_set"])),
    hue_order=list(dict.fromkeys(grid.tables["curves"]["optimizer"])),
)
ax.axhline(0.0, color="k", linewidth=1)
ax.set(xlabel="levels (rand_all: in distribution)", ylabel="final return")
ax.legend(fontsize="small", ncol=2)
save_figure(fig, figures_dir, "open_es_gridworld")

# %% [markdown]
# At `cpu` scale this part shows the machinery (antithetic task sampling, level sets, the
# authors' checkpoint) but no claim: with 8k steps per run on 8 envs no optimizer learns these
# gridworlds far above its start (mean final return on fresh `rand_all` levels: tuned Adam
# 0.24, the authors' `gridworld_OPEN` 0.29, our OPEN 0.23, its untrained start 0.18), and 6
# generations of 8 members leave the ES fitness without a trend (population mean 0.35 in the
# first generation, 0.86 in the fifth, -0.27 in the last). Out of support our OPEN ends below
# its untrained start on sparse, dense and long, and level with it on mazes (0.04 against
# 0.03). The in-distribution vs out-of-support comparison needs the `paper` budget (3e7 steps
# per run).

# %% [markdown]
# ## Ablations: what each input and the noise contribute
# OPEN and each ablation (one input removed, or no stochasticity) meta-trained by the same
# ES on Catch (12 generations), then evaluated with returns and the share of dormant hidden
# neurons over training (tau-dormant: activity at most 0.1 of the layer's mean). The ES is run
# with several seeds (`ablation_es_seeds`: the experiment at seeds `seed`, `seed + 1`, ...),
# because at this budget one ES run's outcome varies as much as the gaps between variants.

# %%
ablation_es_seeds = {"quick": 1, "cpu": 3, "paper": 3}[scale]
curves = pooled_es_runs({seed + i: load("open_es_ablations", seed + i) for i in range(ablation_es_seeds)})
dormant = curves[curves["metric"].str.startswith("dormant_")]
dormancy = dormant.groupby(["optimizer", "seed", "update", "env_steps"], as_index=False)["value"].mean()
dormancy["metric"] = "dormant share"
fig, axes = plt.subplots(1, 2, figsize=(PAPER_WIDTH_IN * 1.2, 2.8), layout="constrained")
plot_curves(axes[0], summarise_curves(curves, ["optimizer"]), hue="optimizer")
axes[0].set(title="return", ylabel="episode return")
plot_curves(axes[1], summarise_curves(dormancy, ["optimizer"], metric="dormant share"), hue="optimizer")
axes[1].set(
    title="dormant neurons", ylabel="share of hidden neurons", ylim=(0, max(0.05, 1.2 * dormancy["value"].max()))
)
axes[1].legend(fontsize="x-small", ncol=2)
save_figure(fig, figures_dir, "open_es_ablations")

# %%
ablation_scores = final_scores(curves).assign(es_seed=lambda t: es_seed_of(t["seed"]))
per_es_run = ablation_scores.groupby(["optimizer", "es_seed"], sort=False)["return"].mean().unstack("es_seed")
ablation_table = per_es_run.add_prefix("ES seed ")
ablation_table["mean"] = per_es_run.mean(axis=1)
ablation_table["std over ES seeds"] = per_es_run.std(axis=1)
ablation_table["final dormant share"] = (
    dormancy[dormancy["update"] == dormancy["update"].max()].groupby("optimizer")["value"].mean()
)
ablation_table.round(3)

# %% [markdown]
# At `cpu` scale the ablation claim does **not** reproduce (3 ES seeds of 16 members and 12
# generations each, 345-370 s per seed on 2 cores beside another job; mean over each ES run's
# 8 evaluation agents, then over the ES seeds):
#
# | | OPEN | - layer prop. | - stochasticity | - training prop. | No Features | - dormancy | - batch prop. | Adam |
# |---|---|---|---|---|---|---|---|---|
# | mean | 0.66 | 0.75 | 0.75 | 0.72 | 0.70 | 0.54 | 0.42 | 0.88 |
# | std over ES seeds | 0.07 | 0.16 | 0.05 | 0.18 | 0.18 | 0.23 | 0.36 | 0.09 |
#
# Full OPEN's three ES runs end at 0.58, 0.69 and 0.70. Every ablation but one is within the
# ES-seed spread of OPEN (removing batch proportion or dormancy lowers the mean, removing layer
# or training proportion or every feature raises it, each within ES luck), and the one
# exception goes against the paper: without stochasticity OPEN ends 0.09 higher, more than
# either's spread over ES seeds (0.05 and 0.07). Catch at 16k steps rewards no exploration,
# so the noise only costs there; Deep Sea below is where it should pay. The small tanh
# networks never have a dormant neuron here (the share stays 0 in every run), so the
# plasticity side of the claim cannot show at this scale either; it needs the paper's ReLU
# MinAtar agents trained for 1e7 steps. (This config's earlier runs ranked the variants
# differently, OPEN at 0.71 and then at 0.67 with a spread of 0.25, and had no gap beyond the
# spread: three ES runs at this budget rank little.)

# %% [markdown]
# ## Deep Sea: does the learned noise grow with the environment's size?
# In Deep Sea (bsuite) of size N the agent must choose "right" N times in a row to reach the
# only positive reward; a random policy finds it with probability 2^-N, so exploration gets
# exponentially harder with N. OPEN is meta-trained by ES on several sizes at once (one inner
# task per size; the fitness is the raw final return, whose optimum is about 0.99 at every
# size), then trains fresh agents at each size, larger ones included. Every OPEN run records
# `noise_scale`, the mean standard deviation of its actor-parameter noise (|a3 delta|) per
# update. Controls: the same OPEN with its noise switched off at test time, the
# no-stochasticity ablation meta-trained by the same ES, OPEN's untrained start, and Adam.

# %%
deep = load("open_es_deepsea")
deep_cfg = session.config("open_es_deepsea")
fitness_thirds(deep.tables["es"], ["optimizer"]).round(3)

# %%
deep_curves = deep.tables["curves"]
deep_scores = final_values(deep_curves, ["size", "optimizer"]).rename(columns={"value": "return"})
noise = noise_by_size(deep_curves)
deep_order = list(dict.fromkeys(deep_curves["optimizer"]))
summary = deep_scores.pivot_table(index="optimizer", columns="size", values="return", aggfunc="mean").loc[deep_order]
summary.round(2)

# %%
noise.pivot_table(index="optimizer", columns="size", values="noise", aggfunc="mean").map("{:.2e}".format)

# %%
fig, axes = plt.subplots(1, 2, figsize=(PAPER_WIDTH_IN * 1.4, 2.8), layout="constrained")
styles = {
    "palette": dict(zip(deep_order, sns.color_palette())),
    "markers": dict(zip(deep_order, "osD^vP")),
    "dashes": False,
}
for ax, (table, y, ylabel) in zip(
    axes, ((noise, "noise", "actor noise std |a3 delta|"), (deep_scores, "return", "final return"))
):
    order = [o for o in deep_order if o in set(table["optimizer"])]
    sns.lineplot(
        table,
        x="size",
        y=y,
        hue="optimizer",
        hue_order=order,
        style="optimizer",
        style_order=order,
        err_style="bars",
        errorbar=("ci", 95),
        seed=seed,
        legend=ax is axes[1],
        ax=ax,
        **styles,
    )
    ax.axvspan(min(deep_cfg.train_sizes), max(deep_cfg.train_sizes), color="0.92", zorder=0, label="ES training sizes")
    ax.set(xlabel="Deep Sea size N", ylabel=ylabel)
axes[0].ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
axes[0].set_title("learned noise (OPEN runs)")
axes[1].set_title("return")
axes[1].legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.02, 0.5))
save_figure(fig, figures_dir, "open_es_deepsea")

# %% [markdown]
# What the `cpu`-scale run shows (ES on sizes 4-10, 16 members, 12 generations; 8 evaluation
# seeds per size; 626 s on 2 cores beside another job):
#
# - **ES learns Deep Sea** (population mean fitness 0.19 in the first third of the
#   generations, 0.66 in the last) and it **turns the noise up**: the trained OPEN's
#   actor-noise std is 3.5-3.9x its untrained start's at every size.
# - **The learned noise does not grow with size** here, against the paper: it falls a little,
#   from 2.10e-3 at size 4 to 1.95e-3 at size 14 (-7%), at every step and in every one of the
#   8 evaluation seeds (per-seed slopes -1.0e-5 to -1.8e-5 per unit of size), while its
#   untrained start stays flat (5.44e-4 to 5.58e-4, +3%). The direction is one ES run's luck:
#   this config's first run (before the fidelity commit's PPO changes) had the noise falling
#   from 1.90e-3 to 1.63e-3, its second (before OPEN ran feature-major, a change of float
#   rounding only) rising by 12% in every seed. Three 12-generation runs, two falling and one
#   rising, do not support the claim at this scale.
# - **The noise matters, but ES finds as good without it**: with its noise switched off at
#   test time the same OPEN loses at sizes 6 and 10 (0.87 against 0.99, 0.00 against 0.12; one
#   seed in eight each), yet the no-stochasticity ablation trained by the same ES does as well
#   or better (0.87 at size 8 against OPEN's 0.62). Final returns at sizes 4/6/8/10: OPEN
#   0.99/0.99/0.62/0.12, Adam 0.99/0.98/0.61/0.12; nothing solves 12 or 14 within 16k steps.

# %% [markdown]
# The trained meta-parameters are stored with the results (`arrays.npz`) and shipped under
# `data/<scale>/trained_optimizers/` for use elsewhere (notebook 06 uses OPEN trained on
# `rand_all`): `l2o4rl.repro.trained.load_trained(data_dir, scale, kind, trained_on)`.

# %%
shipped = [
    path
    for name, result in (("open_es_single", single), ("open_es_gridworld", grid), ("open_es_deepsea", deep))
    for path in ship_all(
        data_dir,
        scale,
        result.arrays,
        init=session.config(name).init,
        seed=seed,
        experiment=name,
        result=result.path.name,
    )
]
[p.name for p in shipped]

# %% [markdown]
# ## Checks
# At `cpu` scale and above: the ES improves the population's fitness over generations, and
# OPEN trained on Catch is not significantly below tuned Adam (the 95% bootstrap interval of
# Adam's lead over the 8 evaluation seeds includes zero). OPEN's lead over its own No
# Features ablation is within seed noise at `cpu` scale, as said above, and that is what is
# checked there (its 95% interval includes zero); at `paper` scale the check is the paper's
# claim, a lead whose interval lies above zero.
# On Deep Sea the ES learns the task and raises OPEN's noise above its untrained start at every
# size. That this run's noise falls a little with size at `cpu` scale (and its untrained start's
# stays flat) is checked too, as are the ablations' findings (every gap between OPEN and an
# ablation within the ES-seed spread but the stochasticity one, which is above OPEN; no dormant
# neuron), so that the text above cannot go stale.

# %%
assert np.isfinite(scores["return"]).all(), "every evaluation run ends with a finite return"


def catch_returns(table, optimizer, task="catch"):
    return table[(table["task"] == task) & (table["optimizer"] == optimizer)]["return"].to_numpy()


if scale != "quick":
    first, last = progress.loc[("catch", "OPEN"), ["first_gens", "last_gens"]]
    assert last > first + 0.2, f"ES did not improve OPEN's fitness: {first:.2f} -> {last:.2f}"
    gain, low, high = difference_ci(catch_returns(scores, "OPEN"), catch_returns(scores, "No Features"), seed=seed)
    within_noise = low <= 0.0 <= high
    assert within_noise if scale == "cpu" else low > 0.0, (
        f"OPEN's lead over No Features on Catch: {gain:.2f}, 95% interval [{low:.2f}, {high:.2f}]; update the text"
    )
    lead, low, high = difference_ci(catch_returns(scores, "Adam"), catch_returns(scores, "OPEN"), seed=seed)
    assert low <= 0.0, f"tuned Adam beats OPEN on Catch: lead {lead:.2f}, 95% interval [{low:.2f}, {high:.2f}]"
    deep_fitness = deep.tables["es"].query("optimizer == 'OPEN'")["fitness_mean"].to_numpy()
    assert deep_fitness[-3:].mean() > deep_fitness[:3].mean() + 0.3, (
        f"ES did not learn Deep Sea: {deep_fitness.round(2)}"
    )
    noise_means = noise.groupby(["optimizer", "size"])["noise"].mean().unstack("optimizer")
    assert (noise_means["OPEN"] > 2 * noise_means["OPEN (untrained)"]).all(), "ES did not turn OPEN's noise up"
    if scale == "cpu":
        by_size = noise_means.sort_index()
        growth = by_size.iloc[-1] / by_size.iloc[0] - 1
        # This ES run's noise falls with size, as the first run's did; the second's rose (see above)
        assert by_size["OPEN"].is_monotonic_decreasing and -0.15 < growth["OPEN"] < 0, (
            f"the learned noise no longer falls a little with size; update the text:\n{by_size}"
        )
        assert abs(growth["OPEN (untrained)"]) < 0.05, (
            f"the untrained noise moves with size; update the text:\n{by_size}"
        )
        variants = ablation_table.drop(["OPEN", "Adam"])
        gaps = (variants["mean"] - ablation_table.loc["OPEN", "mean"]).abs()
        spread = variants["std over ES seeds"].clip(lower=ablation_table.loc["OPEN", "std over ES seeds"])
        beyond = sorted(gaps[gaps >= spread].index)  # the one gap the text reports as larger than ES luck
        assert (
            beyond == ["- stochasticity"]
            and variants.loc["- stochasticity", "mean"] > ablation_table.loc["OPEN", "mean"]
        ), f"another ablation's gap to OPEN exceeds the ES-seed spread; update the text:\n{ablation_table}"
        assert (dormancy["value"] == 0).all(), "a dormant neuron appeared; update the text"
