"""Penalized signatures: the lambda path with its cross-validation curve, and stability-selection probabilities.

Thin functions over :func:`~immune_correlates.fit_penalized` and
:func:`~immune_correlates.stability_selection` results, as ``plot(cv.glmnet)`` and
``plot(stabsel)`` show them in R.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._params import AXES, COUNT, MAPPING, TEXT, Interval, Options, check_params
from ..errors import InputError
from ._style import GREY, OKABE_ITO, SMALL, house_style, new_axes

__all__ = ["penalized_path", "stability"]


@check_params(kind=Options("coefficients", "cv"), ax=AXES, annotate=COUNT, labels=MAPPING, title=TEXT)
def penalized_path(
    result,
    *,
    kind: str = "coefficients",
    ax=None,
    annotate: int = 6,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
):
    """Coefficients (standardised) or the cross-validated deviance along glmnet's lambda path.

    Parameters
    ----------
    result : PenalizedResult
        From :func:`~immune_correlates.fit_penalized`.
    kind : {"coefficients", "cv"}
        ``"coefficients"``: each term's coefficient per SD against ``log lambda``, the
        ``annotate`` largest at the chosen lambda named; ``"cv"``: the cross-validated
        deviance with its standard error (needs ``lam=None``).
    ax : matplotlib Axes, optional
    annotate : int
        Terms named at the right end of their path.
    labels : mapping, optional
        Display names by term.
    title : str, optional

    Returns
    -------
    matplotlib Axes
        Vertical lines (gid ``"lam_min"`` and ``"lam_1se"``, labelled "λ min" and "λ 1-SE") after cross-validation, ``"lam"`` otherwise.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import immune_correlates as ic
    >>> rng = np.random.default_rng(3)
    >>> X = pd.DataFrame(rng.standard_normal((60, 6)), columns=[f"f{i}" for i in range(6)])
    >>> X["cr"] = (X["f0"] - X["f1"] + rng.standard_normal(60) > 0).astype(int)
    >>> fit = ic.fit_penalized(X, "cr", [f"f{i}" for i in range(6)], cv=5, seed=1)
    >>> ax = penalized_path(fit, kind="cv")
    >>> ax.get_xlabel()
    'log(λ), penalty'
    """
    path = result.path
    x = np.log(path["lam"].to_numpy())
    ax = new_axes(ax, figsize=(5.2, 3.8))
    with house_style():
        if kind == "cv":
            if "cvm" not in path.columns:
                raise InputError("penalized_path: kind='cv' needs a fit with lam=None (cross-validated).")
            ax.errorbar(
                x,
                path["cvm"],
                yerr=path["cvsd"],
                fmt="o",
                ms=3,
                color=OKABE_ITO["vermillion"],
                ecolor=GREY,
                elinewidth=0.8,
                capsize=0,
                gid="cv_curve",
            )
            ax.set_ylabel(
                "Cross-validated deviance" + (" (binomial)" if result.family == "logistic" else " (partial likelihood)")
            )
        else:
            terms = [t for t in result.coef_path.columns if t != "Intercept"]
            sd = result.standardization["sd"].reindex(terms).to_numpy()
            coefs = result.coef_path[terms].to_numpy() * sd
            for j, t in enumerate(terms):
                ax.plot(x, coefs[:, j], linewidth=1.0, gid=f"path:{t}")
            k = int(np.argmin(np.abs(path["lam"].to_numpy() - result.lam)))
            chosen = set(np.flatnonzero(coefs[k] != 0)) | set(np.argsort(-np.abs(coefs[-1]))[: int(annotate)])
            named = sorted((j for j in chosen if coefs[-1, j] != 0), key=lambda j: coefs[-1, j])
            _label_ends(ax, x[-1], coefs[-1, named], [(labels or {}).get(terms[j], terms[j]) for j in named])
            ax.axhline(0, color=GREY, linewidth=0.6)
            ax.set_ylabel("Coefficient per SD")
        for name, text, value, style in (
            ("lam_min", "λ min", result.lam_min, ":"),
            ("lam_1se", "λ 1-SE", result.lam_1se, "--"),
        ):
            if value is not None:
                ax.axvline(np.log(value), color=GREY, linestyle=style, linewidth=0.9, gid=name)
                ax.annotate(
                    text,
                    (np.log(value), 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(2, -2),
                    textcoords="offset points",
                    fontsize=SMALL,
                    va="top",
                    color=GREY,
                )
        if result.rule is None:
            ax.axvline(np.log(result.lam), color=GREY, linestyle="--", linewidth=0.9, gid="lam")
        ax.set_xlabel("log(λ), penalty")
        ax.invert_xaxis()  # from the null model (left) to the least penalized (right), as the path runs
        _ticks_inside(ax)
        if title:
            ax.set_title(title)
    return ax


def _ticks_inside(ax) -> None:
    """Keep only the ticks inside the view (labels of ticks beyond it would sit on the other axis' labels)."""
    for get, set_, lim in ((ax.get_xticks, ax.set_xticks, ax.get_xlim), (ax.get_yticks, ax.set_yticks, ax.get_ylim)):
        lo, hi = sorted(lim())
        ticks = get()
        set_(ticks[(ticks >= lo) & (ticks <= hi)])


def _label_ends(ax, x_end, y_end, texts):
    """Name lines at their right end, nudged apart so that no two names overlap (ascending ``y_end``)."""
    if not texts:
        return
    lo, hi = ax.get_ylim()
    lo, hi = min(lo, float(np.min(y_end))), max(hi, float(np.max(y_end)))
    height_pts = ax.get_window_extent().height * 72 / ax.figure.dpi
    gap = (hi - lo) * (SMALL + 2) / max(height_pts, 1.0)  # one label's height in data units
    ys = np.array(y_end, dtype=float)
    for i in range(1, ys.size):
        ys[i] = max(ys[i], ys[i - 1] + gap)
    ys -= max(0.0, ys[-1] - hi)
    for i in range(ys.size - 2, -1, -1):
        ys[i] = min(ys[i], ys[i + 1] - gap)
    for y0, y1, text in zip(y_end, ys, texts):
        ax.annotate(
            text,
            (x_end, y0),
            xytext=(x_end, y1),
            textcoords="data",
            fontsize=SMALL,
            va="center",
            ha="left",
            gid="path_label",
            annotation_clip=False,
        )


@check_params(ax=AXES, top=(Options(None), Interval(1, None, integer=True)), labels=MAPPING, title=TEXT)
def stability(
    result, *, ax=None, top: int | None = None, labels: Mapping[str, str] | None = None, title: str | None = None
):
    """Selection probability of each term with the threshold, from :func:`~immune_correlates.stability_selection`.

    Parameters
    ----------
    result : StabilityResult
    ax : matplotlib Axes, optional
    top : int, optional
        Only the ``top`` most often selected terms.
    labels : mapping, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
        Bars with gid ``"selection_probability"``, the threshold line ``"threshold"``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import immune_correlates as ic
    >>> rng = np.random.default_rng(2)
    >>> X = pd.DataFrame(rng.standard_normal((80, 10)), columns=[f"f{i}" for i in range(10)])
    >>> X["cr"] = (2 * X["f0"] - 2 * X["f1"] + rng.standard_normal(80) > 0).astype(int)
    >>> res = ic.stability_selection(X, "cr", [f"f{i}" for i in range(10)], n_pairs=10, seed=1)
    >>> ax = stability(res)
    """
    table = result.summary()
    if top is not None:
        table = table.head(int(top))
    table = table.iloc[::-1]
    ax = new_axes(ax, figsize=(4.8, max(2.5, 0.22 * len(table) + 1.2)))
    with house_style():
        colors = [OKABE_ITO["vermillion"] if s else GREY for s in table["selected"]]
        ax.barh(
            np.arange(len(table)), table["selection_probability"], color=colors, height=0.7, gid="selection_probability"
        )
        ax.set_yticks(np.arange(len(table)))
        ax.set_yticklabels([(labels or {}).get(t, t) for t in table["term"]], fontsize=SMALL)
        ax.axvline(result.threshold, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1.0, gid="threshold")
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"Selection probability ({2 * result.n_pairs} half-samples, q = {result.q})")
        ax.set_title(
            title or f"Stable at {result.threshold:g}: expected false selections ≤ {result.bound:.2g}",
            fontsize=SMALL + 1,
        )
    return ax
