"""ROC curves of baseline features (or fitted probabilities) with the AUC and its interval."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._params import ALPHA, AXES, COLORS, FLAG, MAPPING, MISSING, TEXT, Instance, Options, check_params
from ..stats.groups.roc import roc_curve
from ._style import GREY, PALETTE, house_style, new_axes

__all__ = ["roc", "auc_label"]


def auc_label(name: str, res) -> str:
    """Legend text ``"name: AUC 0.78 (0.72-0.86)"`` of a :class:`RocResult`."""
    return f"{name}: AUC {res.auc:.2f} ({res.ci_lower:.2f}–{res.ci_upper:.2f})"


@check_params(
    ax=AXES,
    ci=Options("delong", "hanley_mcneil"),
    alpha=ALPHA,
    higher_is_positive=(FLAG, Instance(Mapping, name="a mapping of directions by score")),
    labels=MAPPING,
    colors=COLORS,
    diagonal=FLAG,
    title=TEXT,
    missing=MISSING,
)
def roc(
    data: pd.DataFrame,
    outcome: str,
    score: str | Sequence[str],
    *,
    ax=None,
    ci: str = "delong",
    alpha: float = 0.05,
    higher_is_positive: bool | Mapping[str, bool] = True,
    labels: Mapping[str, str] | None = None,
    colors: Sequence[str] | None = None,
    diagonal: bool = True,
    title: str | None = None,
    missing: str = "drop",
):
    """ROC curve of each score for a 0/1 outcome; the legend gives AUC and its interval.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    outcome : str
        0/1 column (e.g. ``cr``).
    score : str or sequence of str
        One curve per score column (a feature, or fitted probabilities).
    ax : matplotlib Axes, optional
    ci : {"delong", "hanley_mcneil"}
        Interval of the AUC, see :func:`immune_correlates.stats.groups.roc.roc_curve`.
    alpha : float
        One minus the interval's level.
    higher_is_positive : bool or mapping
        Direction of each score (a mapping by score name for mixed directions).
    labels : mapping, optional
        Legend names by score.
    colors : sequence, optional
        Curve colours (default: the house palette).
    diagonal : bool
        Draw the chance line.
    title : str, optional
    missing : {"drop", "raise"}
        Each curve uses the patients complete in the outcome and its score.

    Returns
    -------
    matplotlib Axes
        Curve of score ``s`` is the line with gid ``"roc:s"`` (x = false
        positive rate, y = true positive rate at every distinct threshold);
        the legend gives ``"label: AUC a (lo-hi)"``.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> ax = roc(frame, "cr", ["nk_per_ul", "cd3_per_ul"])
    """
    scores = [score] if isinstance(score, str) else list(score)
    palette = list(colors) if colors is not None else PALETTE
    ax = new_axes(ax, figsize=(4.3, 4.3))
    with house_style():
        if diagonal:
            ax.plot([0, 1], [0, 1], linestyle="--", color=GREY, linewidth=0.9, gid="roc_chance")
        for i, s in enumerate(scores):
            up = higher_is_positive.get(s, True) if isinstance(higher_is_positive, Mapping) else higher_is_positive
            res = roc_curve(data, outcome, s, ci=ci, alpha=alpha, higher_is_positive=up, missing=missing)
            name = (labels or {}).get(s, s)
            ax.plot(
                res.curve["fpr"].to_numpy(),
                res.curve["tpr"].to_numpy(),
                color=palette[i % len(palette)],
                label=auc_label(name, res),
                gid=f"roc:{s}",
            )
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.01)
        ax.set_aspect("equal")
        ax.set_xticks(np.linspace(0, 1, 5))
        ax.set_yticks(np.linspace(0, 1, 5))
        ax.set_xlabel("1 − specificity (false positive rate)")
        ax.set_ylabel("Sensitivity (true positive rate)")
        level = f"{100 * (1 - alpha):g}%"
        method = "DeLong" if ci == "delong" else "Hanley-McNeil"
        ax.legend(
            loc="lower right",
            title=f"AUC ({level} CI, {method})",
            alignment="left",
            frameon=True,
            framealpha=0.9,
            edgecolor="none",
            fontsize=8.5,
            title_fontsize=8.5,
        )
        if title:
            ax.set_title(title)
    return ax
