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
# # 02 · Agent gradients: spread over many orders of magnitude, drifting, and gradient processing
#
# The first claim of Optim4RL (SPEC 1.1): an RL agent's gradients spread across many
# orders of magnitude of log10|g| while |g| itself stays tiny, and their distribution
# drifts over the agent's life (non-iid). A network fed raw gradients cannot resolve them;
# feeding it `(sign g, log|g|)` fixes that.
#
# Learners, each recording a fixed random subsample of its raw (unclipped) gradient
# coordinates at every update, with the update index and layer:
#
# | learner | optimizer | why |
# |---|---|---|
# | A2C on big_dense_long (LPG gridworld, conv 16 + MLP 32) | RMSProp and Adam, lr 3e-3 | the paper's agent (SPEC 1.5) |
# | PPO on Breakout-MinAtar | Adam (OPEN's tuned settings) | the claim beyond one agent |
# | small CNN on scikit-learn's 8x8 digits, two budgets | RMSProp, lr 1e-3 | the supervised reference (paper: MNIST) |
#
# Then the identity experiment: a small recurrent net (MLP [16, 16] + LSTM 8, the shape of
# a coordinate-wise learned optimizer) learns to output sequences of 5 consecutive
# gradients of one coordinate, with raw inputs, raw inputs rescaled to unit RMS, and the
# sign/log processing (see `l2o4rl/analysis/identity.py` for the exact encodings); accuracy is the
# share of outputs within +-10% of the true gradient, on held-out sequences.
#
# To use MNIST instead of the digits, point the config at your copy (IDX files or an .npz):
# `session.load("gradient_distribution", dataset="mnist", mnist_path="/path/to/mnist")`.

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

from l2o4rl.analysis import gradients as stats
from l2o4rl.analysis.identity import ENCODINGS, best_rate_accuracy
from l2o4rl.analysis.plotting import PAPER_WIDTH_IN, save_figure, stripplot
from l2o4rl.experiments.gradient_distribution import DRIFT, SMALL, WIDTH, gradient_samples, identity_measure

session.config("gradient_distribution")

# %%
result = session.load("gradient_distribution")
samples = gradient_samples(result)
samples["learner"] = samples["source"] + " (" + samples["optimizer"] + ")"
learners = list(dict.fromkeys(samples["learner"]))
print(result.describe())
result.tables["runs"].groupby(["source", "optimizer", "score"])[["updates", "score_start", "score_end"]].mean()

# %% [markdown]
# ## The numbers
# Means over seeds with 90% bootstrap intervals. Width: decades between the 1st and 99th
# percentile of log10|g| over the nonzero coordinates (exact zeros, from inputs that are
# zero and relu units that are off, are counted apart). Drift: the Wasserstein-1 distance
# between the log10(|g| + 1e-8) of the first and the last third of training. Identity
# accuracy: at the best learning rate of the sweep, on held-out sequences.

# %%
numbers = result.tables["numbers"].assign(learner=lambda t: t["source"] + " (" + t["optimizer"] + ")")
numbers["value [90% CI]"] = [
    f"{v:.3g} [{lo:.3g}, {hi:.3g}]" for v, lo, hi in numbers[["value", "low", "high"]].to_numpy()
]
numbers.pivot(index="measure", columns="learner", values="value [90% CI]").fillna("")

# %% [markdown]
# ## 1 · RL gradients vs a supervised net's
# Left: the paper's histogram of log10(|g| + 1e-8) (bins -9 to 5 by 0.5; exact zeros land
# in the bin at -8). Right: the raw values on one linear axis.

# %%
log_hist = stats.histogram_table(samples, ["learner"])
limit = np.percentile(np.abs(samples["value"]), 99.5)
raw_edges = np.linspace(-limit, limit, 61)

fig, (ax_log, ax_raw) = plt.subplots(1, 2, figsize=(PAPER_WIDTH_IN * 1.3, 2.8), layout="constrained")
for i, learner in enumerate(learners):
    color, dashes = sns.color_palette()[i], "--" if "CNN" in learner else "-"
    rows = log_hist[log_hist["learner"] == learner]
    ax_log.stairs(rows["share"], stats.LOG_BIN_EDGES, color=color, linestyle=dashes, linewidth=1.5, label=learner)
    values = samples.loc[samples["learner"] == learner, "value"].clip(-limit, limit)
    counts, _ = np.histogram(values, raw_edges)
    ax_raw.stairs(counts / counts.sum(), raw_edges, color=color, linestyle=dashes, linewidth=1.5)
ax_log.set(
    xlabel="log10(|g| + 1e-8)", ylabel="share of recorded coordinates", xlim=(-9, 1), yscale="log", ylim=(1e-3, 1.5)
)
ax_raw.set(xlabel=f"g (clipped to +-{limit:.2g}, the 99.5th percentile of |g|)", yscale="log")
fig.legend(*ax_log.get_legend_handles_labels(), loc="outside upper center", ncol=2, fontsize="small")
save_figure(fig, figures_dir, "gradients_log_histograms")

# %% [markdown]
# Per layer (first seed of each learner): where the tiny gradients sit.

# %%
by_layer = samples[samples["seed"] == 0].groupby(["learner", "layer"])["value"]
by_layer.agg(
    coordinates_x_updates="size",
    width=stats.log_range_width,
    share_below_1e4=stats.share_below,
    share_zero=lambda g: float(np.mean(g == 0)),
).round(3)

# %% [markdown]
# ## 2 · The drift: the same histograms by stage of training
# Stages are thirds of each learner's updates. The bars are the beginning-to-end drift of
# each learner (dots: seeds; whiskers: 90% bootstrap interval).

# %%
stage_hist = stats.histogram_table(samples, ["learner", "stage"])
drift = result.tables["drift"].assign(learner=lambda t: t["source"] + " (" + t["optimizer"] + ")")
begin_end = drift[(drift["from_stage"] == stats.STAGES[0]) & (drift["to_stage"] == stats.STAGES[-1])]

fig = plt.figure(figsize=(PAPER_WIDTH_IN * 1.3, 4.8), layout="constrained")
grid = fig.add_gridspec(2, len(learners))
panels = [fig.add_subplot(grid[0, i]) for i in range(len(learners))]
stage_colors = dict(zip(stats.STAGES, sns.color_palette("viridis", len(stats.STAGES))))
for ax, learner in zip(panels, learners):
    for stage, color in stage_colors.items():
        rows = stage_hist[(stage_hist["learner"] == learner) & (stage_hist["stage"] == stage)]
        ax.stairs(rows["share"], stats.LOG_BIN_EDGES, color=color, linewidth=1.5, label=stage)
    ax.set(xlim=(-9, 1), xlabel="log10(|g| + 1e-8)", yscale="log", ylim=(1e-3, 1.5))
    ax.set_title(learner.replace(" (", "\n(").replace(", ", "\n"), fontsize="small")
panels[0].set_ylabel("share of recorded coordinates")
fig.legend(
    *panels[0].get_legend_handles_labels(),
    loc="outside upper center",
    ncol=3,
    fontsize="small",
    title="stage of training",
)
ax_drift = fig.add_subplot(grid[1, :])
bars = dict(x="drift", y="learner", order=learners)
sns.barplot(begin_end, **bars, hue="learner", errorbar=("ci", 90), seed=seed, alpha=0.7, ax=ax_drift)
stripplot(begin_end, **bars, color="k", size=4, ax=ax_drift, seed=seed)
ax_drift.set(xlabel="drift, beginning -> end (W1, decades)", ylabel="")
ax_drift.tick_params(axis="y", labelsize="x-small")
save_figure(fig, figures_dir, "gradients_by_stage")

# %% [markdown]
# ## 3 · The identity experiment
# Bars: final held-out accuracy at each encoding's best learning rate (dots: seeds;
# whiskers: 90% bootstrap interval). Right: accuracy over training on the agent's
# gradients at that learning rate.

# %%
curves = result.tables["identity"]
best = best_rate_accuracy(curves)
chosen = ["data", "encoding", "learning_rate"]
agent_curves = curves.merge(best[chosen].drop_duplicates(), on=chosen).query("data == 'agent'")
agent_source = numbers.loc[numbers["measure"] == identity_measure("raw"), "learner"].iloc[0]

fig, (ax_bar, ax_curve) = plt.subplots(1, 2, figsize=(PAPER_WIDTH_IN, 2.8), layout="constrained", width_ratios=(1.1, 1))
by_encoding = dict(y="test_accuracy", hue="encoding", hue_order=ENCODINGS)
sns.barplot(best, x="data", **by_encoding, errorbar=("ci", 90), seed=seed, alpha=0.8, ax=ax_bar)
stripplot(best, x="data", **by_encoding, dodge=True, palette="dark:k", size=3, legend=False, ax=ax_bar, seed=seed)
ax_bar.set(ylabel="accuracy (within +-10%)", xlabel="", ylim=(0, 1))
ax_bar.legend(
    fontsize="x-small",
    loc="lower center",
    bbox_to_anchor=(0.5, 1.0),
    ncol=3,
    title="encoding",
    title_fontsize="x-small",
)
sns.lineplot(agent_curves, x="epoch", **by_encoding, errorbar=("ci", 90), seed=seed, ax=ax_curve, legend=False)
ax_curve.set(ylabel="", ylim=(0, 1))
ax_curve.set_title(f"agent gradients: {agent_source}", fontsize="small")
save_figure(fig, figures_dir, "gradients_identity")
best.groupby(["data", "encoding", "learning_rate"])["test_accuracy"].agg(["mean", "min", "max", "count"]).round(3)

# %% [markdown]
# ## What the `cpu`-scale run shows, and where it differs from the paper
#
# Two seeds per learner, three per identity setting; numbers from the table above. The RL
# learners run with the authors' settings (README, "Where we differ": A2C with flax's
# initialisers, a SAME conv over the whole map, the LPG respawn rules, 16 envs where the
# authors use 512; time-outs end the return); 357 s on 2 cores.
#
# **Spread.** The nonzero gradients of the A2C agent span about 6 decades of log10|g|
# (1st to 99th percentile: 5.9 with RMSProp, 5.6 with Adam), PPO's on Breakout 5.8, the
# CNN's 3.5. About 97-98% of A2C's recorded coordinates are below 1e-4 in magnitude, against
# 32% of the CNN's. Much of that is exact zeros: 80-85% of A2C's coordinates (93% of PPO's)
# are exactly 0 at a given update, because almost all of them are weights fed by inputs
# that are zero (A2C: the dense layer after the conv, whose features of empty cells are
# off; PPO: the first layer, fed MinAtar's mostly empty pixels). The CNN has 30%.
#
# **Drift.** From the first to the last third of training, log10(|g| + 1e-8) moves by
# W1 = 0.37 (RMSProp) and 0.33 (Adam) decades for A2C, against 0.15 for the CNN trained for
# 600 steps, about where its test accuracy levels off (96%); PPO's Breakout gradients drift
# by 0.34 over its 61 updates (seeds 0.23 and 0.45; at optax's default Adam epsilon 1e-8, not
# the 1e-5 now used, they drifted by 0.03 and 0.08, and with an earlier code by 0.15 and 0.52:
# PPO's drift at this budget varies widely from run to run). The A2C agents are early in
# learning big_dense_long within 3e5 steps (return -0.2 -> 0.66 with Adam, -0.3 -> 0.16 with
# RMSProp), so this is the drift of the early part of an agent's life; PPO does learn
# Breakout (return 1 to 19). Before the fidelity fixes A2C drifted by 0.66-0.70: the
# authors' initialisation and gridworld halve it, and it stays above twice the CNN's.
#
# **How far the supervised reference goes.** Trained 4 times longer (2,400 steps, 57
# passes over 1,348 images, 99% test accuracy, training loss near 0) the CNN's gradients
# drift by 0.97 decades, more than A2C's, and spread over 5.5 decades, close to RL's 6:
# once a net fits its training set, most per-example gradients vanish and the rest shrink.
# So the spread and drift claims hold against a supervised net over a comparable stretch
# of learning, not for any training length. What stays clearly apart is the share of
# tiny gradients: 96-98% of RL coordinates are below 1e-4 against 32% (600 steps) and 42%
# (2,400 steps) of the CNN's.
#
# **Identity.** With the sign/log processing the recurrent net reproduces held-out A2C
# gradient sequences within +-10% 97% of the time (paper: about 90%); fed raw gradients
# it gets 5%, and 41% with the gradients rescaled to unit RMS. On the synthetic control
# (well-scaled values drifting from [0, 2] to [5, 7]) all three encodings reach 97-99%:
# the net can learn the identity, it is the spread of magnitudes that defeats it.
#
# **Where we differ from the paper.** Without processing the paper reports about 75%
# identity accuracy; we get 5% (41% rescaled). Our accuracy counts every nonzero recorded
# coordinate of the network, 98% of them below 1e-4 and spread over 6 decades: a net
# trained by squared error on raw g fits the few large values and leaves the small ones
# near 0, and more epochs do not help (the raw curve is flat after about 50 of 300
# epochs). The paper does not say how its gradient set was sampled or scaled; a set with
# fewer tiny values, or the accuracy counted on the larger ones, gives a higher raw
# accuracy. Sequences holding an exact zero are left out (no output but 0 is within 10%
# of 0, and the sign/log net would get it free). The supervised net is a CNN on 8x8
# digits, not MNIST (MNIST works with `dataset="mnist"`). At `cpu` scale the identity
# experiment runs 300 epochs and two learning rates instead of 1,000 and four; the best
# rate for the sign/log net is 3e-3, where it levels off after about 150 epochs.
#
# ## Checks
# At `cpu` scale and above, against the reference CNN (the first budget): every RL
# learner's log10|g| spreads wider; A2C's gradients (the paper's agent) drift more; RL
# gradients are far more often below 1e-4 than any CNN's; the sign/log processing raises
# identity accuracy on agent gradients; the raw net does learn the synthetic control.


# %%
def number(measure, source_prefix):
    """The values of ``measure`` for every learner whose source starts with ``source_prefix``, in run order."""
    rows = numbers[(numbers["measure"] == measure) & numbers["source"].str.startswith(source_prefix)]
    return rows["value"].to_numpy()


assert np.isfinite(samples["value"]).all(), "every recorded gradient is finite"
assert set(samples["stage"]) == set(stats.STAGES)
if scale != "quick":
    supervised_width, supervised_drift = number(WIDTH, "CNN")[0], number(DRIFT, "CNN")[0]
    for prefix in ("A2C", "PPO"):
        assert (number(WIDTH, prefix) > supervised_width + 1).all(), f"{prefix}: log-range not wider than the CNN's"
        assert (number(SMALL, prefix) > number(SMALL, "CNN").max() + 0.3).all(), f"{prefix}: not mostly below 1e-4"
    assert (number(DRIFT, "A2C") > 1.5 * supervised_drift).all(), "A2C's drift is not clearly above the CNN's"
    processed, raw = number(identity_measure("sign_log"), "A2C")[0], number(identity_measure("raw"), "A2C")[0]
    assert processed > raw + 0.3, f"processing does not raise identity accuracy ({raw:.2f} -> {processed:.2f})"
    assert number(identity_measure("raw"), "synthetic")[0] > 0.8, "the raw net fails even the well-scaled control"
