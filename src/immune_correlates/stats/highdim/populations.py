"""Population abundances as features of an outcome: each population screened against response or survival.

:func:`screen_populations` turns a panel's cell counts into per-patient abundances
(:func:`~.abundance.abundance_features`: centred log-ratios by default) and screens each
population against complete remission (Firth logistic) or progression-free survival (Cox) with
:func:`~immune_correlates.screen`, so every option of the screen (covariates, profile intervals,
bootstrap, multiplicity) applies unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..._missing import row_ids
from ..._params import COLUMNS, OPTIONAL_COLUMN, Interval, Options, check_params
from ...errors import InputError
from ..screening._prepare import MODELS
from ..screening.screen import screen
from ._counts import PSEUDOCOUNT
from .abundance import TRANSFORMS, abundance_features

__all__ = ["screen_populations"]

_PER = {
    "clr": "doubling of the centred log-ratio",
    "log_proportion": "doubling of the proportion",
    "proportion": "unit",
}


@check_params(
    outcome=OPTIONAL_COLUMN,
    duration=OPTIONAL_COLUMN,
    event=OPTIONAL_COLUMN,
    transform=Options(*TRANSFORMS),
    sample_id=OPTIONAL_COLUMN,
    pseudocount=Interval(0, None, closed="neither"),
    model=(Options(None), Options(*MODELS, "mixed")),
    covariates=COLUMNS,
)
def screen_populations(
    counts: pd.DataFrame,
    data: pd.DataFrame,
    *,
    outcome: str | None = None,
    duration: str | None = None,
    event: str | None = None,
    transform: str = "clr",
    sample_id: str | None = None,
    pseudocount: float = PSEUDOCOUNT,
    model: str | None = None,
    covariates: str | Sequence[str] = (),
    **screen_options,
) -> pd.DataFrame:
    """Screen every population's abundance against an outcome (``ic.screen`` on abundance features).

    Parameters
    ----------
    counts : DataFrame
        Cell counts, samples x populations, indexed by ``sample_id`` (one baseline sample per
        patient).
    data : DataFrame
        One row per patient with the outcome (and covariates); ids from ``patient_id`` or the
        index.
    outcome, duration, event : str
        A 0/1 outcome (Firth logistic by default) or a follow-up time and event (Cox).
    transform : {"clr", "log_proportion", "proportion"}
        Scale of the abundances (:func:`abundance_features`); on the log2 scales the estimate
        is per doubling.
    sample_id : str, optional
        Column of ``data`` naming each patient's sample in ``counts``; default: the patients'
        ids are the counts' ``sample_id``.
    pseudocount : float
        Added to every count before taking logs.
    model : str, optional
        :func:`screen`'s model; default ``"firth"`` for ``outcome``, ``"cox"`` for survival.
    covariates : sequence of str
        Adjustment columns of ``data``.
    **screen_options
        Passed to :func:`screen` (``adjust``, ``alpha``, ``ci``, ``n_boot``, ``seed``, ``n_jobs``,
        ``missing``).

    Returns
    -------
    DataFrame
        :func:`screen`'s table, one row per population (``feature`` is the population), with
        ``attrs["transform"]`` and ``attrs["per"]`` saying what one unit of the estimate is.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> counts, samples = ic.design.simulate_population_counts({"NR": 14, "CR": 10}, n_populations=6,
    ...                                                       fold_changes={0: 3.0}, seed=3)
    >>> patients = samples.assign(cr=(samples["group"] == "CR").astype(int))
    >>> tab = screen_populations(counts, patients, outcome="cr")
    >>> tab.loc[tab["p_value"].idxmin(), "feature"]
    'pop01'
    """
    caller = "screen_populations"
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{caller}: data must be a DataFrame of patients, got {type(data).__name__}.")
    features = abundance_features(counts, transform=transform, pseudocount=pseudocount)
    clash = sorted(set(map(str, features.columns)) & set(map(str, data.columns)))
    if clash:
        raise InputError(
            f"{caller}: population names {clash} are also columns of data; rename the populations or the columns."
        )
    if sample_id is not None and sample_id not in data.columns:
        raise InputError(f"{caller}: data has no column {sample_id!r} (the patients' sample ids).")
    keys = data[sample_id] if sample_id is not None else row_ids(data)
    matched = features.reindex(pd.Index(keys.to_numpy()))  # a patient without counts: missing, reported by the screen
    frame = pd.concat([data, matched.set_axis(data.index, axis=0)], axis=1)
    if model is None:
        model = "firth" if outcome is not None else "cox"
    out = screen(
        frame,
        [str(c) for c in features.columns],
        outcome=outcome,
        duration=duration,
        event=event,
        model=model,
        covariates=covariates,
        **screen_options,
    )
    out.attrs.update({"transform": transform, "per": _PER[transform], "n_samples_with_counts": int(len(features))})
    return out
