"""One plotting style for every figure, and a saver writing PNG and PDF."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.ticker import EngFormatter

from ..optim.catalog import UNTRAINED

PAPER_WIDTH_IN = 6.75  # a two-column paper's text width


def set_style() -> None:
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.15)
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight", "pdf.fonttype": 42})


def save_figure(fig: plt.Figure, figures_dir: str | os.PathLike, name: str) -> list[Path]:
    """Write ``<figures_dir>/<name>.png`` and ``.pdf``; returns both paths."""
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    paths = [figures_dir / f"{name}.png", figures_dir / f"{name}.pdf"]
    fig.savefig(paths[0], dpi=200)
    fig.savefig(paths[1], metadata={"CreationDate": None})  # no timestamp: the same figure gives the same bytes
    return paths


def plot_curves(ax: plt.Axes, summary, hue: str, label_format: str = "{}") -> None:
    """Mean curves with shaded intervals from :func:`l2o4rl.analysis.summarise_curves`.

    A learned optimizer's untrained control ("X (untrained)") is drawn dashed in X's colour.
    """
    colors: dict[str, tuple] = {}
    for name, group in summary.groupby(hue, sort=False):
        base = str(name).removesuffix(UNTRAINED)
        color = colors.setdefault(base, sns.color_palette()[len(colors) % 10])
        style = "--" if str(name).endswith(UNTRAINED) else "-"
        ax.plot(group["env_steps"], group["mean"], color=color, linestyle=style, label=label_format.format(name))
        ax.fill_between(group["env_steps"], group["low"], group["high"], color=color, alpha=0.25, linewidth=0)
    ax.set_xlabel("environment steps")
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))  # 500k, 1M: no offset text to collide with labels


def stripplot(*args, seed: int, **kwargs) -> plt.Axes:
    """``sns.stripplot`` with its jitter drawn from ``seed``: seaborn draws it from numpy's global
    RNG, so an unseeded call moves the dots on every run. The global state is restored after."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        return sns.stripplot(*args, **kwargs)
    finally:
        np.random.set_state(state)
