"""The trial's headline table: response rates, survival and toxicity.

Proportions of patients carry exact Clopper-Pearson intervals (Clopper &
Pearson, Biometrika 1934); the median PFS and the 5-year OS carry Kaplan-Meier
intervals computed as R's ``survfit`` does (log transform, Greenwood variance).
The proportion of *cycles* with grade >= 3 neutropenia counts cycles that
cluster within patients, so its interval uses the ratio-estimator
(cluster-robust) variance with patients as clusters, on the logit scale
(Cochran, Sampling Techniques 1977, ch. 6): an exact binomial interval would
treat 574 cycles as independent and be too narrow.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from ..._params import ALPHA, POSITIVE, check_params
from ...data.endpoints import derive_endpoints
from ...data.terms import FEBRILE_NEUTROPENIA_TERMS, NEUTROPENIA_TERMS, PNEUMONIA_TERMS, is_term
from ..survival.kaplan_meier import kaplan_meier
from .proportions import binomial_ci

__all__ = ["trial_summary", "NEUTROPENIA_TERMS", "PNEUMONIA_TERMS", "FEBRILE_NEUTROPENIA_TERMS"]

COLUMNS = ["value", "numerator", "denominator", "ci_lower", "ci_upper", "unit"]
EXTRA_COLUMNS = ["events", "at_risk", "method", "note"]


def clustered_proportion_ci(events: np.ndarray, trials: np.ndarray, alpha: float = 0.05) -> tuple[float, float]:
    """Interval for ``sum(events) / sum(trials)`` when trials cluster (cycles within patients).

    Variance of the ratio estimator ``p = K / M`` with clusters ``i``:
    ``n / (n - 1) * sum((k_i - p m_i)^2) / M^2``; the interval is Wald on the
    logit scale (delta method), so it stays inside (0, 1).  With ``p`` of 0 or 1
    the logit is undefined and the Clopper-Pearson interval of ``K`` of ``M`` is returned.
    """

    k = np.asarray(events, dtype=float)
    m = np.asarray(trials, dtype=float)
    K, M, n = k.sum(), m.sum(), k.size
    if M == 0:
        return np.nan, np.nan
    p = K / M
    if p in (0.0, 1.0) or n < 2:
        return binomial_ci(int(K), int(M), alpha=alpha)
    var = n / (n - 1) * np.sum((k - p * m) ** 2) / M**2
    se_logit = np.sqrt(var) / (p * (1 - p))
    z = stats.norm.ppf(1 - alpha / 2)
    centre = np.log(p / (1 - p))
    return float(1 / (1 + np.exp(-(centre - z * se_logit)))), float(1 / (1 + np.exp(-(centre + z * se_logit))))


def _terms(ae: pd.DataFrame, terms: tuple[str, ...]) -> pd.Series:
    return is_term(ae["term"], terms)


def _assessed(cohort, table: str) -> bool:
    sources = getattr(cohort, "sources", None)
    if sources:
        return table in sources
    return len(getattr(cohort, table)) > 0


@check_params(
    alpha=ALPHA,
    landmark_months=POSITIVE,
)
def trial_summary(cohort, *, alpha: float = 0.05, landmark_months: float = 60.0) -> pd.DataFrame:
    """Efficacy and safety figures of a cohort, as a trial report's first table.

    Parameters
    ----------
    cohort : Cohort
        From :func:`immune_correlates.read_cohort` or ``ic.datasets.load_ofa_len()``.
    alpha : float
        ``1 - level`` of every interval.
    landmark_months : float
        Time of the overall-survival landmark (the row is named ``os_5y`` for 60).

    Returns
    -------
    DataFrame
        Indexed by ``metric`` (``n_patients``, ``orr``, ``cr_cri``, ``mrd_negative_cr``,
        ``median_pfs_months``, ``os_5y``, ``patient_cycles``,
        ``neutropenia_g3plus_cycles``, ``pneumonia``, ``neutropenic_fever``) with
        columns ``value``, ``numerator``, ``denominator``, ``ci_lower``,
        ``ci_upper``, ``unit``, then ``events``, ``at_risk``, ``method`` and ``note``.

        * Proportions are fractions with their counts in ``numerator`` /
          ``denominator``; a safety row of patients counts patients with at least
          one event of any grade (neutropenia: cycles with a grade >= 3 event
          among all cycles given, with a patient-clustered interval, see
          :func:`clustered_proportion_ci`).
        * Time-to-event rows (``median_pfs_months``, ``os_5y``) are Kaplan-Meier
          estimates, not fractions: ``numerator`` and ``denominator`` are empty
          (``<NA>``); ``events`` holds the number of events (progressions or
          deaths; deaths for OS) and ``at_risk`` the patients at risk at the start
          (median) or still at risk at the landmark (survival probability).
        * Data that were not collected are **not assessed**, never zero: without
          an adverse-event table the safety rows, without ``cycles_received`` the
          cycle rows, and without any ``mrd_negative`` value the MRD row have a
          NaN ``value``, empty counts and ``note`` = "not assessed: ...".
        * ``method``: ``clopper_pearson``, ``km_median``, ``km_survival``,
          ``clustered_ratio`` or empty for plain counts.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> round(float(ic.trial_summary(ic.datasets.load_ofa_len()).loc["orr", "value"]), 3)
    0.706
    """
    ep = derive_endpoints(cohort.clinical)
    rows = _Rows(alpha)
    rows.put("n_patients", value=len(ep), numerator=len(ep), denominator=len(ep), unit="patients")
    _response_rows(rows, ep)
    _survival_rows(rows, ep.reset_index(), alpha, landmark_months)
    _safety_rows(rows, cohort, ep)
    out = pd.DataFrame.from_dict(rows.rows, orient="index")[COLUMNS + EXTRA_COLUMNS]
    out.index.name = "metric"
    out[["value", "ci_lower", "ci_upper"]] = out[["value", "ci_lower", "ci_upper"]].astype(float)
    counts = ["numerator", "denominator", "events", "at_risk"]
    out[counts] = out[counts].astype("Int64")
    return out


class _Rows:
    """The table's rows by metric, with the empty fields of a row filled in."""

    EMPTY: ClassVar[dict] = {
        "value": np.nan,
        "numerator": pd.NA,
        "denominator": pd.NA,
        "ci_lower": np.nan,
        "ci_upper": np.nan,
        "events": pd.NA,
        "at_risk": pd.NA,
        "method": "",
        "note": "",
    }

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha
        self.rows: dict[str, dict] = {}

    def put(self, name: str, **values) -> None:
        self.rows[name] = {**self.EMPTY, **values}

    def proportion(self, name: str, k, d, unit: str = "proportion", note: str = "") -> None:
        """``k / d`` with its exact (Clopper-Pearson) interval."""
        lo, hi = binomial_ci(int(k), int(d), alpha=self.alpha) if d else (np.nan, np.nan)
        self.put(
            name,
            value=k / d if d else np.nan,
            numerator=int(k),
            denominator=int(d),
            ci_lower=lo,
            ci_upper=hi,
            unit=unit,
            method="clopper_pearson",
            note=note,
        )

    def not_assessed(self, name: str, unit: str, why: str) -> None:
        self.put(name, unit=unit, note=f"not assessed: {why}")


def _response_rows(rows: _Rows, ep: pd.DataFrame) -> None:
    """Overall response, CR/CRi and MRD-negative CR among all patients."""
    n = len(ep)
    rows.proportion("orr", ep["responder"].sum(), n)
    rows.proportion("cr_cri", ep["cr"].sum(), n)
    mrd = pd.to_numeric(ep["mrd_negative"], errors="coerce")
    if not mrd.notna().any():
        rows.not_assessed("mrd_negative_cr", "proportion", "no mrd_negative values in the clinical table")
        return
    untested = int((ep["cr"] == 1).sum() - ((ep["cr"] == 1) & mrd.notna()).sum())
    note = f"MRD not assessed in {untested} patient(s) with CR/CRi (counted as not MRD-negative)" if untested else ""
    rows.proportion("mrd_negative_cr", ((ep["cr"] == 1) & (mrd == 1)).sum(), n, note=note)


def _survival_rows(rows: _Rows, frame: pd.DataFrame, alpha: float, landmark_months: float) -> None:
    """Kaplan-Meier median PFS and overall survival at the landmark."""
    med = kaplan_meier(frame, "pfs_months", "pfs_event", alpha=alpha).median().iloc[0]
    n_pfs = int(frame[["pfs_months", "pfs_event"]].notna().all(axis=1).sum())
    k_pfs = int(frame["pfs_event"].sum())
    reached = "not reached: no progression or death" if k_pfs == 0 else "not reached: survival stays above 50%"
    rows.put(
        "median_pfs_months",
        value=med["median"],
        ci_lower=med["ci_lower"],
        ci_upper=med["ci_upper"],
        unit="months",
        events=k_pfs,
        at_risk=n_pfs,
        method="km_median",
        note="" if np.isfinite(med["median"]) else reached,
    )
    at = kaplan_meier(frame, "os_months", "os_event", alpha=alpha).survival_at([landmark_months]).iloc[0]
    rows.put(
        "os_5y" if landmark_months == 60 else f"os_{landmark_months:g}m",
        value=at["survival"],
        ci_lower=at["ci_lower"],
        ci_upper=at["ci_upper"],
        unit="survival probability",
        events=int(((frame["os_event"] == 1) & (frame["os_months"] <= landmark_months)).sum()),
        at_risk=int((frame["os_months"] >= landmark_months).sum()),
        method="km_survival",
        note="" if np.isfinite(at["survival"]) else f"no patient followed to {landmark_months:g} months",
    )


def _safety_rows(rows: _Rows, cohort, ep: pd.DataFrame) -> None:
    """Cycles given, grade >= 3 neutropenia per cycle (patient-clustered CI), pneumonia, neutropenic fever."""
    ae, have_ae = cohort.adverse_events, _assessed(cohort, "adverse_events")
    clinical = cohort.clinical
    cycles = (
        pd.to_numeric(clinical["cycles_received"], errors="coerce")
        if "cycles_received" in clinical
        else pd.Series(np.nan, index=ep.index)
    )
    have_cycles = bool(cycles.notna().any())
    total = int(np.nansum(cycles.to_numpy(dtype=float))) if have_cycles else 0
    missing = int(cycles.isna().sum())
    cycle_note = f"cycles_received missing for {missing} patient(s)" if have_cycles and missing else ""
    if have_cycles:
        rows.put("patient_cycles", value=total, numerator=total, unit="cycles", note=cycle_note)
    else:
        rows.not_assessed("patient_cycles", "cycles", "no cycles_received in the clinical table")
    unit = "proportion of cycles (CI clustered by patient)"
    if have_ae and have_cycles:
        severe = ae[_terms(ae, NEUTROPENIA_TERMS) & (ae["grade"] >= 3)][["patient_id", "cycle"]].drop_duplicates()
        per_patient = severe.groupby("patient_id").size().reindex(ep.index, fill_value=0).to_numpy()
        lo, hi = clustered_proportion_ci(per_patient, cycles.fillna(0).to_numpy(dtype=float), alpha=rows.alpha)
        k = len(severe)
        rows.put(
            "neutropenia_g3plus_cycles",
            value=k / total if total else np.nan,
            numerator=k,
            denominator=total,
            ci_lower=lo,
            ci_upper=hi,
            unit=unit,
            method="clustered_ratio",
            note=cycle_note,
        )
    else:
        why = "no adverse-event table" if not have_ae else "no cycles_received in the clinical table"
        rows.not_assessed("neutropenia_g3plus_cycles", unit, why)
    for row, terms in (("pneumonia", PNEUMONIA_TERMS), ("neutropenic_fever", FEBRILE_NEUTROPENIA_TERMS)):
        if have_ae:
            rows.proportion(row, ae.loc[_terms(ae, terms), "patient_id"].nunique(), len(ep))
        else:
            rows.not_assessed(row, "proportion", "no adverse-event table")
