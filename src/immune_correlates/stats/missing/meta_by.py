"""Two-stage individual-patient-data meta-analysis: :func:`meta_analysis_by` fits one model per trial and pools a term.

Each trial keeps its own baseline and adjustment; only the chosen term's coefficient is pooled by
:func:`~.meta.meta_analysis` (its result, :class:`~.meta.MetaAnalysisResult`, lives there).
Trials whose model cannot be fitted are left out, named and warned about.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from ..._params import ALPHA, Instance, Options, check_params
from ...errors import ImmuneCorrelatesError, InputError, MissingDataWarning, warn
from .meta import MetaAnalysisResult, meta_analysis
from .meta_estimators import METHODS, TESTS

__all__ = ["meta_analysis_by"]


@check_params(
    by=Instance(str, name="a column name"),
    fit=Instance(Callable, name="a function fitting one trial's rows, e.g. ic.fit_logistic"),  # type: ignore[arg-type]  # isinstance works with the ABC
    term=Instance(str, name="a model term"),
    fit_options=(Options(None), Instance(Mapping, name="a mapping of keyword arguments of fit")),
    method=Options(*METHODS),
    test=Options(*TESTS),
    alpha=ALPHA,
)
def meta_analysis_by(
    data: pd.DataFrame,
    by: str,
    *,
    fit: Callable,
    term: str,
    fit_options: Mapping | None = None,
    method: str = "REML",
    test: str = "z",
    alpha: float = 0.05,
) -> MetaAnalysisResult:
    """Fit the same model in each trial and pool one term's coefficient by :func:`meta_analysis`.

    Parameters
    ----------
    data : DataFrame
        Patients of all trials, with a column ``by`` naming the trial.
    by : str
        The trial column; trials are taken in sorted order (a categorical's own order).
    fit : callable
        The model, e.g. :func:`immune_correlates.fit_logistic` or :func:`immune_correlates.fit_cox`,
        called as ``fit(trial_rows, **fit_options)`` (or any function of the rows, such as
        ``lambda d: ic.fit_cox(d, formula=...)``); its result needs ``params`` and ``bse``.
    term : str
        The coefficient pooled (e.g. ``"nk_per_ul"``).
    fit_options : mapping, optional
        Keyword arguments of ``fit`` (``{"outcome": "cr", "covariates": ["x"], "method": "firth"}``);
        a separate mapping, so that ``method=`` of the fit and of the meta-analysis cannot be confused.
    method, test, alpha
        As :func:`meta_analysis` (the between-trial variance estimator and the test).

    Returns
    -------
    MetaAnalysisResult
        With ``fits`` (trial -> fitted result) and ``excluded`` (trials whose model could not be
        fitted, with the reason; they are also warned about).

    Notes
    -----
    A two-stage individual-patient-data meta-analysis: each trial keeps its own baseline
    (intercept or baseline hazard) and adjustment; only the term's effect is pooled.  With
    ``method="firth"`` each trial's estimate stays finite under separation.

    Examples
    --------
    >>> import numpy as np, pandas as pd, immune_correlates as ic
    >>> rng = np.random.default_rng(3)
    >>> df = pd.DataFrame({"trial": np.repeat(["T1", "T2", "T3"], 40), "x": rng.normal(size=120)})
    >>> df["cr"] = (rng.random(120) < 1 / (1 + np.exp(-(df["x"] - 0.5)))).astype(int)
    >>> res = ic.meta_analysis_by(df, "trial", fit=ic.fit_logistic, term="x",
    ...                           fit_options={"outcome": "cr", "covariates": ["x"], "method": "firth"})
    >>> res.studies["label"].tolist(), res.ratio
    (['T1', 'T2', 'T3'], 'odds_ratio')
    """
    if by not in data.columns:
        raise InputError(f"meta_analysis_by: column {by!r} is not in the data.", column=by)
    if data[by].isna().any():
        raise InputError(
            "meta_analysis_by: these patients have no trial",
            column=by,
            rows=[{"patient_id": i} for i in data.index[data[by].isna()]],
        )
    groups = data.groupby(by, sort=True, observed=True)
    labels, est, ses, fits, dropped = [], [], [], {}, []
    for trial, rows in groups:
        try:
            res = fit(rows, **dict(fit_options or {}))
        except ImmuneCorrelatesError as e:
            dropped.append((trial, str(e).splitlines()[0]))
            continue
        if term not in res.params.index:
            raise InputError(
                f"meta_analysis_by: the model of trial {trial!r} has no term {term!r}; its terms are "
                f"{list(res.params.index)}."
            )
        fits[trial] = res
        labels.append(str(trial))
        est.append(float(res.params[term]))
        ses.append(float(res.bse[term]))
    excluded = pd.DataFrame(dropped, columns=["trial", "reason"])
    if dropped:
        warn(
            "meta_analysis_by: left out trial(s) whose model could not be fitted: "
            + "; ".join(f"{t} ({r})" for t, r in dropped),
            MissingDataWarning,
        )
    first = next(iter(fits.values()), None)
    ratio = getattr(first, "ratio_name", None)
    out = meta_analysis(
        est, ses, method=method, test=test, alpha=alpha, labels=labels, ratio=ratio if ratio != "ratio" else None
    )
    from dataclasses import replace

    note = f"term {term!r} of {getattr(fit, '__name__', 'the model')} fitted in each trial ({by})"
    return replace(out, fits=fits, excluded=excluded, notes=(note, *out.notes))
