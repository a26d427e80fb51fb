"""Multiple imputation by chained equations: :func:`impute`.

The algorithm of mice (van Buuren & Groothuis-Oudshoorn 2011): every incomplete column is
imputed in turn from the others by its own model, the sweep repeated ``n_iter`` times, in
``m`` independent chains, each giving one completed data set.  Methods per column: predictive
mean matching for numbers, logistic regression for binary columns, multinomial logistic
regression for categorical ones (:mod:`.methods`).  A survival outcome enters the other
columns' models as its event indicator and its Nelson-Aalen cumulative hazard at the
patient's own time (White & Royston 2009), not as a raw time.

This module holds the entry point and the chains (the sweeps and the draws); the imputation model
they run on (columns, kinds, codes, predictors) is set up in :mod:`.impute_setup`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ... import _seeds
from ..._params import N_JOBS, SEED, Instance, Interval, Options, check_params
from ..._seeds import seed_sequence
from ...data.imputed import ImputedColumn, ImputedData
from ...errors import InputError
from ..engine.parallel import run_blocks
from . import methods as mt
from .impute_setup import (
    DURATION_SUFFIXES,
    _decode,
    _default_columns,
    _Job,
    _setup,
    _survival_pairs,
    _Var,
    _variables,
    nelson_aalen_at,
)

__all__ = ["impute", "nelson_aalen_at", "DURATION_SUFFIXES"]


def _design(state: np.ndarray, cols: Sequence[int], variables) -> np.ndarray:
    blocks = [np.ones((state.shape[0], 1))]
    for j in cols:
        v = variables[j]
        if v.kind == "categorical":
            codes = state[:, j]
            blocks.append((codes[:, None] == np.arange(1, len(v.levels))[None, :]).astype(float))
        else:
            blocks.append(state[:, j : j + 1])
    return np.hstack(blocks)


def _draw(var: _Var, X_obs, y_obs, X_mis, rng, donors) -> np.ndarray:
    if var.method == "pmm":
        return mt.pmm(X_obs, y_obs, X_mis, rng, donors)
    if var.method == "logreg":
        return mt.logreg(X_obs, y_obs, X_mis, rng)
    return mt.polyreg(X_obs, y_obs, X_mis, len(var.levels), rng)


def _chain(job: _Job, r: int):
    """One chain: start from random draws of the observed values, then ``n_iter`` sweeps."""
    rng = _seeds.rng(job.seeds[r])
    state = job.state.copy()
    missing = {t: np.isnan(job.state[:, t]) for t in job.targets}
    for t in job.targets:
        obs = job.state[~missing[t], t]
        state[missing[t], t] = rng.choice(obs, size=int(missing[t].sum()), replace=True)
    trace = np.zeros((job.n_iter, len(job.targets), 2))
    for it in range(job.n_iter):
        for t, preds in zip(job.targets, job.predictors):
            X = _design(state, preds, job.variables)
            ry = ~missing[t]
            state[missing[t], t] = _draw(job.variables[t], X[ry], state[ry, t], X[~ry], rng, job.donors)
        for i, t in enumerate(job.targets):
            vals = state[missing[t], t]
            trace[it, i] = vals.mean(), vals.std(ddof=1) if vals.size > 1 else np.nan
    return {t: state[missing[t], t].copy() for t in job.targets}, trace


def _chains(job: _Job, block) -> list:
    return [_chain(job, r) for r in block]


@check_params(
    m=Interval(2, None, integer=True),
    columns=(Options(None), Instance(list, tuple, name="a list of column names")),
    seed=SEED,
    n_iter=Interval(1, None, integer=True),
    n_jobs=N_JOBS,
    donors=Interval(1, None, integer=True),
    survival=(Options(None), Instance(Mapping, name="a mapping duration -> event")),
    methods=(Options(None), Instance(Mapping, name="a mapping column -> method")),
    predictors=(Options(None), Instance(Mapping, name="a mapping column -> predictor columns")),
)
def impute(
    data: pd.DataFrame,
    m: int = 20,
    *,
    columns: Sequence[str] | None = None,
    seed=None,
    n_iter: int = 10,
    n_jobs: int = 1,
    donors: int = 5,
    survival: Mapping[str, str] | None = None,
    methods: Mapping[str, str] | None = None,
    predictors: Mapping[str, Sequence[str]] | None = None,
) -> ImputedData:
    """Multiple imputation by chained equations (MICE), as R's ``mice``.

    Parameters
    ----------
    data : DataFrame
        One row per patient; never changed.
    m : int
        Number of imputations (completed data sets); 20 or more keeps the Monte Carlo error of
        pooled p-values small (van Buuren 2018, sec. 2.8).
    columns : list of str, optional
        The imputation model: every listed column with missing values is imputed, and all of
        them predict each other.  List the analysis model's columns (outcome included: leaving
        the outcome out biases its associations towards zero) and any *auxiliary* columns
        that predict the missing values or their being missing.  Default: every column except
        ``patient_id``, dates and identifier-like text.  Columns not listed are carried through
        unchanged.  With few patients keep the model small (a few predictors per column).
    seed : None, int, SeedSequence or Generator
        Imputation ``i`` draws from child ``i`` of the seed sequence, so the result is the same
        whatever ``n_jobs``.
    n_iter : int
        Sweeps over the incomplete columns per chain (mice's ``maxit``; check the traces with
        :func:`immune_correlates.plots.imputation_traces`).
    n_jobs : int
        Chains run in parallel on this many joblib workers (``-1``: all).  Worth it for large
        data: starting worker processes costs seconds, a trial of 34 patients imputes m = 20
        in about a second on one.
    donors : int
        Donor pool of predictive mean matching.
    survival : mapping, optional
        ``{duration: event}``: each survival outcome enters the imputation models of the other
        columns as its event indicator and its Nelson-Aalen cumulative hazard at the
        patient's time (White & Royston 2009).  Default: the pairs ``<x>_months`` (``_days``,
        ``_time``, ``_years``) and ``<x>_event`` among ``columns`` that are complete.
    methods : mapping, optional
        ``{column: "pmm" | "logreg" | "polyreg"}`` overriding the defaults (predictive mean
        matching for numbers, logistic regression for two categories (0/1, booleans, two
        labels), multinomial logistic regression for more; ``"pmm"`` may also impute a 0/1 column).
    predictors : mapping, optional
        ``{column: [predictors]}`` restricting the predictors of an imputed column (default:
        every other column of the model).

    Returns
    -------
    ImputedData
        ``completed(i)``, iteration over the ``m`` completed frames, ``imputed(column)``,
        ``traces``, ``summary()`` and ``describe()`` (a sentence for a methods section).

    Raises
    ------
    InputError
        A column is entirely missing, has a single observed value, is a date, or is not in the
        data; a survival outcome given in ``survival=`` has missing values.

    Notes
    -----
    Each chain starts from random draws of the observed values and visits the incomplete
    columns left to right.  Numeric columns: predictive mean matching, mice's default
    (type-1 matching: observed cases predicted with the least-squares fit, missing ones with a
    Bayesian draw of its parameters; one of the 5 nearest observed cases donates its value), so
    imputations are values that occur in the data (counts stay positive, integers stay integer).
    Binary columns: logistic regression with a normal draw of the coefficients; categorical:
    multinomial logistic regression, with a draw of the coefficients (mice's polyreg does not
    draw them); both fitted with the augmented data of White, Daniel & Royston (2010), so
    perfect prediction in a small trial cannot break them.  Ordered categories are imputed
    with the multinomial model (no proportional-odds assumption).  Predictors constant or
    collinear (|r| > 0.99) where the column is observed are set aside, and said so in ``notes``.
    Imputation assumes the data are missing at random (MAR): whether a value is missing may
    depend on what was observed (put those columns in the model), not on the missing value
    itself.  Structurally missing values (a response date of a patient who never responded)
    are not missing data: leave such columns out.

    References
    ----------
    van Buuren S, Groothuis-Oudshoorn K (2011). mice: Multivariate imputation by chained
    equations in R. *J Stat Softw* 45(3):1-67.
    van Buuren S (2018). *Flexible Imputation of Missing Data*, 2nd ed. CRC Press.
    White IR, Royston P (2009). Imputing missing covariate values for the Cox model.
    *Stat Med* 28:1982-1998.
    White IR, Royston P, Wood AM (2011). Multiple imputation using chained equations: issues
    and guidance for practice. *Stat Med* 30:377-399.
    Rubin DB (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> imp = ic.impute(frame, m=5, columns=["cr", "age", "nk_per_ul", "nk_adcc_lu20", "t_function_score"], seed=1)
    >>> imp.summary()[["column", "method", "n_missing"]].values.tolist()
    [['nk_adcc_lu20', 'pmm', 6], ['t_function_score', 'pmm', 2]]
    >>> fit = ic.fit_logistic(imp, "cr", ["nk_adcc_lu20"], method="firth")
    >>> sorted(c for c in fit.summary().columns if c in ("df", "fmi", "riv", "lambda"))
    ['df', 'fmi', 'lambda', 'riv']
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"impute: data must be a pandas DataFrame, got {type(data).__name__}.")
    columns = _default_columns(data) if columns is None else list(dict.fromkeys(columns))
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise InputError(f"impute: column(s) {absent} are not in the data; columns are {list(data.columns)}.")
    pairs = _survival_pairs(data, columns, survival)
    variables = _variables(data, columns, pairs, dict(methods or {}))
    ss = seed_sequence(seed, caller="impute")
    job, notes = _setup(data, variables, pairs, predictors or {}, ss, m, n_iter, donors)
    blocks = [range(r, r + 1) for r in range(m)]
    chains = [c for block in run_blocks(_chains, job, blocks, n_jobs=n_jobs) for c in block]
    return _assemble(data, job, chains, pairs, columns, ss.entropy, m, n_iter, donors, notes)


def _assemble(data, job, chains, pairs, columns, seed, m, n_iter, donors, notes) -> ImputedData:
    cols = {}
    rows_trace = []
    for i, t in enumerate(job.targets):
        var = job.variables[t]
        where = np.flatnonzero(np.isnan(job.state[:, t]))
        values = np.column_stack([_decode(imps[t], var) for imps, _ in chains])
        cols[var.name] = ImputedColumn(
            var.name,
            where,
            values,
            var.kind,
            var.method,
            tuple(job.variables[j].name for j in job.predictors[i]),
            var.levels,
        )
        for r, (_, trace) in enumerate(chains):
            for it in range(n_iter):
                rows_trace.append((var.name, r, it + 1, trace[it, i, 0], trace[it, i, 1]))
    traces = pd.DataFrame(rows_trace, columns=["column", "chain", "iteration", "mean", "sd"])
    return ImputedData(
        data=data.copy(),
        m=m,
        columns=cols,
        n_iter=n_iter,
        seed=seed,
        traces=traces,
        survival=tuple(pairs),
        model_columns=tuple(columns),
        donors=donors,
        notes=tuple(notes),
    )
