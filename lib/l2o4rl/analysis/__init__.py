"""Tables and figures from training runs: tidy curves and bootstrap intervals (:mod:`.curves`),
aggregate scores (:mod:`.aggregate`), gradient statistics (:mod:`.gradients`), the identity and
supervised references of notebook 02 (:mod:`.identity`, :mod:`.supervised`), and the shared
figure style (:mod:`.plotting`)."""

from .curves import (
    bootstrap_mean_ci,
    difference_ci,
    final_mean,
    final_values,
    final_window,
    paired_gap_ci,
    summarise_curves,
    tidy_metrics,
)

__all__ = [
    "bootstrap_mean_ci",
    "difference_ci",
    "final_mean",
    "final_values",
    "final_window",
    "paired_gap_ci",
    "summarise_curves",
    "tidy_metrics",
]
