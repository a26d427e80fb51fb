"""The report's "Response and survival" section: response treated as what it is, a later event.

Comparing progression-free survival of responders and non-responders as if
response were known at baseline is biased in favour of responders (a patient
must stay progression-free long enough to respond: guarantee-time bias,
Anderson, Cain & Gelber 1983).  This section replaces such a comparison by

* a **landmark analysis** at a stated time: patients still progression-free
  at the landmark, grouped by whether they had responded by then, PFS counted
  from the landmark (plus the same estimate at other landmarks, with numbers
  at risk, to show how much the choice matters);
* a **time-dependent Cox model**: "has responded" switches from 0 to 1 at the
  response date (counting-process rows from :func:`~immune_correlates.split_at`,
  robust variance clustered by patient), with the **Mantel-Byar** test.

:func:`response_and_survival` returns tidy tables and caption text; the
report only lays them out.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import ImmuneCorrelatesError, ModelError
from ..stats.regression.cox import fit_cox
from ..stats.survival.mantel_byar import mantel_byar
from ..stats.survival.time_dependent import landmark, landmark_sweep, split_at

__all__ = ["DEFAULT_LANDMARK", "SWEEP", "response_and_survival"]

#: Landmark of the report's main analysis (months from treatment start), stated in the text.
DEFAULT_LANDMARK = 3.0
#: Landmarks of the sensitivity sweep (months).
SWEEP = (2.0, 3.0, 4.0, 6.0, 9.0, 12.0)


def _not_assessed(why: str) -> dict:
    return {"tables": {}, "text": f"Response and survival: not assessed ({why})."}


def response_and_survival(
    frame: pd.DataFrame,
    duration: str = "pfs_months",
    event: str = "pfs_event",
    *,
    response_time: str = "response_months",
    landmark_at: float = DEFAULT_LANDMARK,
    sweep: Sequence[float] = SWEEP,
    id: str = "patient_id",
    method: str = "firth",
    ci: str = "profile",
) -> dict:
    """Landmark and time-dependent analyses of survival by response, as tables and text.

    Parameters
    ----------
    frame : DataFrame
        The analysis frame: one row per patient with ``duration``, ``event``
        and ``response_time`` (months from baseline to the first documented
        response; missing = no response).
    duration, event : str
        Progression-free survival columns.
    response_time : str
        Column of response times.
    landmark_at : float
        The landmark of the main analysis (months).
    sweep : sequence of float
        Landmarks of the sensitivity table.
    id : str
        Patient id column (cluster of the robust variance).
    method : {"firth", "ml"}
        Cox method of the landmark models (Firth stays finite in small trials
        where every progression falls in one group).
    ci : {"profile", "wald"}
        Intervals and p-values of the landmark models: profile-likelihood
        intervals with (penalized) likelihood-ratio p-values, or Wald with
        Wald.  The time-dependent model has robust (clustered) Wald intervals
        and p-values whatever ``ci``: a likelihood ignores the clustering.

    Returns
    -------
    dict
        ``tables``: ``response_landmark`` (the landmark model),
        ``response_landmark_sweep``, ``response_time_dependent`` (the Cox
        model with "responded" as a time-dependent covariate and the
        Mantel-Byar test); ``text``: the section's explanation with the
        numbers.  Without a ``response_time`` column the section says "not
        assessed" and has no tables.

    References
    ----------
    Anderson JR, Cain KC, Gelber RD (1983). *J Clin Oncol* 1:710-719.
    Mantel N, Byar DP (1974). *JASA* 69:81-86.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> frame = pd.DataFrame({"patient_id": [f"P{i}" for i in range(40)],
    ...                       "pfs_months": rng.exponential(14, 40).round(1) + 0.5,
    ...                       "pfs_event": rng.integers(0, 2, 40),
    ...                       "response_months": np.where(rng.random(40) < 0.6, rng.uniform(1, 5, 40), np.nan)})
    >>> out = response_and_survival(frame)
    >>> sorted(out["tables"])
    ['response_landmark', 'response_landmark_sweep', 'response_time_dependent']
    """
    if response_time not in frame.columns:
        return _not_assessed(f"the data have no {response_time!r}: give response dates in the clinical table")
    data = frame[[c for c in dict.fromkeys([id, duration, event, response_time]) if c in frame.columns]].copy()
    data = data[data[duration].notna() & data[event].notna()]
    if not data[response_time].notna().any():
        return _not_assessed("no patient has a response date")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = landmark(data, duration, event, landmark_at, {"responded": response_time}, id=id)
        n_resp = int(lm["responded"].sum())
        lm_row = {
            "landmark_months": landmark_at,
            "n_at_risk": len(lm),
            "n_responded": n_resp,
            "n_events": int(lm[event].astype(float).sum()),
            "n_excluded": len(lm.attrs["excluded"]),
            "hazard_ratio": np.nan,
            "ci_lower": np.nan,
            "ci_upper": np.nan,
            "p_value": np.nan,
            "method": method,
            "ci_method": ci,
            "test": "",
        }
        if 0 < n_resp < len(lm) and lm[event].astype(float).sum() > 0:
            fit = fit_cox(lm, duration, event, ["responded"], method=method, ci=ci)
            interval = np.exp(fit.conf_int().loc["responded"].to_numpy(float))
            lm_row.update(
                hazard_ratio=float(np.exp(fit.params["responded"])),
                ci_lower=float(interval[0]),
                ci_upper=float(interval[1]),
                p_value=float(fit.pvalues["responded"]),
                ci_method=fit.ci_method,
                test=fit.test,
            )
        sweep_tab = landmark_sweep(
            data, duration, event, list(sweep), {"responded": response_time}, method=method, id=id, ci=ci
        )
        rows = split_at(data, duration, event, {"responded": response_time}, id=id)
        td = {
            "model": "time-dependent Cox (responded switches on at response)",
            "n_patients": len(data),
            "n_rows": len(rows),
            "n_events": int(rows[event].astype(float).sum()),
            "hazard_ratio": np.nan,
            "ci_lower": np.nan,
            "ci_upper": np.nan,
            "p_value": np.nan,
            "ci_method": "wald",
            "test": "wald",
            "mantel_byar_chi2": np.nan,
            "mantel_byar_p": np.nan,
        }
        try:
            tdfit = fit_cox(rows, "stop", event, ["responded"], entry="start", cluster=id, ci="wald")
            interval = np.exp(tdfit.conf_int().loc["responded"].to_numpy(float))
            td.update(
                hazard_ratio=float(np.exp(tdfit.params["responded"])),
                ci_lower=float(interval[0]),
                ci_upper=float(interval[1]),
                p_value=float(tdfit.pvalues["responded"]),
                ci_method=tdfit.ci_method,
                test=tdfit.test,
            )
        except ModelError:
            pass
        try:
            mb = mantel_byar(data, duration, event, response_time, id=id)
            td.update(mantel_byar_chi2=mb.statistic, mantel_byar_p=mb.pvalue)
        except ImmuneCorrelatesError:
            pass
    text = (
        "Response is known only once it happens, so survival is not compared between responders and "
        "non-responders as if response were known at baseline (that flatters responders: guarantee-time bias). "
        f"Landmark analysis: the {len(lm)} patients still progression-free at {landmark_at:g} months, "
        f"{n_resp} of whom had responded by then, are compared from the landmark on "
        f"({len(lm.attrs['excluded'])} patients progressed or were censored earlier and are not part of it); "
        "the sweep repeats it at other landmarks. Time-dependent Cox model: every patient counts as a "
        "non-responder until the response date and as a responder afterwards (robust variance clustered by "
        "patient); the Mantel-Byar test is the log-rank test on the same time-updated groups."
    )
    return {
        "tables": {
            "response_landmark": pd.DataFrame([lm_row]),
            "response_landmark_sweep": sweep_tab,
            "response_time_dependent": pd.DataFrame([td]),
        },
        "text": text,
    }
