"""Cox hazard ratio of every group against a reference group: the numbers a Kaplan-Meier legend quotes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..._missing import complete_cases, row_ids
from ..._params import ALPHA, CI, MISSING, check_params
from ...errors import InputError
from ..regression.cox import fit_cox

__all__ = ["group_hazard_ratios"]


@check_params(ci=CI, alpha=ALPHA, missing=MISSING)
def group_hazard_ratios(
    data: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    *,
    levels: Sequence | None = None,
    ci: str = "profile",
    alpha: float = 0.05,
    missing: str = "drop",
) -> pd.DataFrame:
    """Hazard ratio of each group against the first, from one Cox model with group indicators.

    One model ``Surv(duration, event) ~ group`` (Efron ties) with an
    indicator per non-reference level, fitted by
    :func:`~immune_correlates.stats.regression.cox.fit_cox` (Cox 1972) with its
    inference convention: profile-likelihood intervals with likelihood-ratio
    p-values, or Wald with Wald (``ci="wald"``, as ``summary(coxph)``).

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    duration, event : str
    group : str
        Any column whose values name the groups (text, categorical, bool, 0/1).
    levels : sequence, optional
        Group order; the first is the reference (default: category order,
        else sorted values).
    ci : {"profile", "wald"}
        Intervals and p-values of one method (recorded in ``ci_method`` and
        ``test``).
    alpha : float
        ``1 - level`` of the intervals.
    missing : {"drop", "raise"}

    Returns
    -------
    DataFrame
        One row per non-reference group: ``group``, ``reference``,
        ``hazard_ratio``, ``ci_lower``, ``ci_upper``, ``p_value``, and
        ``ci_method``, ``test``, and ``n`` and ``n_events`` of the model;
        ``attrs["alpha"]``, and
        ``attrs["excluded"]`` (patient id and reason of every row without
        duration, event or group, also announced with a
        :class:`~immune_correlates.errors.MissingDataWarning`).

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> hr = group_hazard_ratios(frame, "pfs_months", "pfs_event", "cr", levels=[False, True])
    >>> hr[["group", "reference"]].values.tolist()
    [[True, False]]
    >>> bool(hr["hazard_ratio"].iloc[0] < 1)
    True
    """
    if group not in data.columns:
        raise InputError(f"group_hazard_ratios: column {group!r} is not in the data.", column=group)
    rows, excluded = complete_cases(data, [duration, event, group], missing=missing, caller="group_hazard_ratios")
    values = rows[group]
    if levels is None:
        present = values.dropna()
        levels = (
            list(present.cat.categories)
            if isinstance(values.dtype, pd.CategoricalDtype)
            else sorted(present.unique(), key=lambda v: (str(type(v)), v))
        )
    levels = list(levels)
    other = ~values.isin(levels)
    if other.any():  # such a patient would silently count as the reference group
        ids = row_ids(rows)
        raise InputError(
            f"group_hazard_ratios: {group} has values outside levels={levels}",
            column=group,
            rows=[{"patient_id": ids[i], "value": values[i]} for i in rows.index[other]],
            hint="List every group in levels= (the first is the reference), or leave these "
            "patients out of the data first.",
        )
    if len(levels) < 2:
        raise InputError(
            f"group_hazard_ratios: {group} has {len(levels)} group(s); a hazard ratio needs two.", column=group
        )
    frame = rows[[duration, event]].copy()
    dummies = []
    for _i, g in enumerate(levels[1:]):
        col = f"{group} = {g}"  # the user's words in any message of the fit
        frame[col] = np.where(values.isna(), np.nan, (values == g).astype(float))
        dummies.append(col)
    if "patient_id" in rows.columns:
        frame["patient_id"] = rows["patient_id"]
    fit = fit_cox(frame, duration, event, dummies, ci=ci, alpha=alpha)
    interval = fit.conf_int()
    rows = [
        {
            "group": g,
            "reference": levels[0],
            "hazard_ratio": float(np.exp(fit.params[c])),
            "ci_lower": float(np.exp(interval.loc[c, "lower"])),
            "ci_upper": float(np.exp(interval.loc[c, "upper"])),
            "p_value": float(fit.pvalues[c]),
            "ci_method": fit.ci_method,
            "test": fit.test,
            "n": int(fit.nobs),
            "n_events": int(fit.n_events),
        }
        for c, g in zip(dummies, levels[1:])
    ]
    out = pd.DataFrame(rows)
    out.attrs.update(alpha=alpha, excluded=excluded)
    return out
