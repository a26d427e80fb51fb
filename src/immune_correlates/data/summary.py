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

import numpy as np
import pandas as pd

from .endpoints import derive_endpoints

__all__ = ["trial_summary", "NEUTROPENIA_TERMS", "PNEUMONIA_TERMS", "FEBRILE_NEUTROPENIA_TERMS"]

NEUTROPENIA_TERMS = ("neutrophil count decreased", "neutropenia")
PNEUMONIA_TERMS = ("pneumonia", "lung infection")
FEBRILE_NEUTROPENIA_TERMS = ("febrile neutropenia", "neutropenic fever")
COLUMNS = ["value", "numerator", "denominator", "ci_lower", "ci_upper", "unit"]


def clustered_proportion_ci(events: np.ndarray, trials: np.ndarray, alpha: float = 0.05) -> tuple[float, float]:
    """Interval for ``sum(events) / sum(trials)`` when trials cluster (cycles within patients).

    Variance of the ratio estimator ``p = K / M`` with clusters ``i``:
    ``n / (n - 1) * sum((k_i - p m_i)^2) / M^2``; the interval is Wald on the
    logit scale (delta method), so it stays inside (0, 1).  With ``p`` of 0 or 1
    the logit is undefined and the Clopper-Pearson interval of ``K`` of ``M`` is returned.
    """
    from scipy import stats

    from ..stats.proportions import binomial_ci

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
    return ae["term"].astype(str).str.strip().str.lower().isin(terms)


def trial_summary(cohort, alpha: float = 0.05, landmark_months: float = 60.0) -> pd.DataFrame:
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
        ``ci_upper``, ``unit``.  Proportions are fractions; a safety row of
        patients counts patients with at least one event of any grade
        (neutropenia: cycles with a grade >= 3 event among all cycles given,
        with a patient-clustered interval, see :func:`clustered_proportion_ci`).

    Examples
    --------
    >>> import immune_correlates as ic
    >>> round(float(ic.trial_summary(ic.datasets.load_ofa_len()).loc["orr", "value"]), 3)
    0.706
    """
    from ..stats.kaplan_meier import kaplan_meier
    from ..stats.proportions import binomial_ci

    ep = derive_endpoints(cohort.clinical)
    n = len(ep)
    rows: dict[str, dict] = {}

    def proportion(name, k, d, unit="proportion"):
        lo, hi = binomial_ci(int(k), int(d), alpha=alpha) if d else (np.nan, np.nan)
        rows[name] = dict(value=k / d if d else np.nan, numerator=int(k), denominator=int(d),
                          ci_lower=lo, ci_upper=hi, unit=unit)

    rows["n_patients"] = dict(value=n, numerator=n, denominator=n, ci_lower=np.nan, ci_upper=np.nan, unit="patients")
    proportion("orr", ep["responder"].sum(), n)
    proportion("cr_cri", ep["cr"].sum(), n)
    proportion("mrd_negative_cr", ((ep["cr"] == 1) & (ep["mrd_negative"] == 1)).sum(), n)

    frame = ep.reset_index()
    pfs = kaplan_meier(frame, "pfs_months", "pfs_event", alpha=alpha)
    med = pfs.median().iloc[0]
    rows["median_pfs_months"] = dict(value=med["median"], numerator=int(ep["pfs_event"].sum()), denominator=n,
                                     ci_lower=med["ci_lower"], ci_upper=med["ci_upper"], unit="months")
    os_fit = kaplan_meier(frame, "os_months", "os_event", alpha=alpha)
    at = os_fit.survival_at([landmark_months]).iloc[0]
    name = "os_5y" if landmark_months == 60 else f"os_{landmark_months:g}m"
    rows[name] = dict(value=at["survival"], numerator=int(ep["os_event"].sum()), denominator=n,
                      ci_lower=at["ci_lower"], ci_upper=at["ci_upper"], unit="survival probability")

    ae = cohort.adverse_events
    cycles = cohort.clinical["cycles_received"] if "cycles_received" in cohort.clinical else pd.Series(np.nan, index=ep.index)
    total_cycles = int(np.nansum(cycles.to_numpy(dtype=float))) if cycles.notna().any() else 0
    rows["patient_cycles"] = dict(value=total_cycles, numerator=total_cycles, denominator=np.nan,
                                  ci_lower=np.nan, ci_upper=np.nan, unit="cycles")
    severe = ae[_terms(ae, NEUTROPENIA_TERMS) & (ae["grade"] >= 3)][["patient_id", "cycle"]].drop_duplicates()
    k = len(severe)
    per_patient = severe.groupby("patient_id").size().reindex(ep.index, fill_value=0).to_numpy()
    lo, hi = clustered_proportion_ci(per_patient, cycles.fillna(0).to_numpy(dtype=float), alpha=alpha)
    rows["neutropenia_g3plus_cycles"] = dict(value=k / total_cycles if total_cycles else np.nan, numerator=k,
                                             denominator=total_cycles, ci_lower=lo, ci_upper=hi,
                                             unit="proportion of cycles (CI clustered by patient)")
    proportion("pneumonia", ae.loc[_terms(ae, PNEUMONIA_TERMS), "patient_id"].nunique(), n)
    proportion("neutropenic_fever", ae.loc[_terms(ae, FEBRILE_NEUTROPENIA_TERMS), "patient_id"].nunique(), n)
    out = pd.DataFrame.from_dict(rows, orient="index")[COLUMNS]
    out.index.name = "metric"
    out[["value", "ci_lower", "ci_upper"]] = out[["value", "ci_lower", "ci_upper"]].astype(float)
    out[["numerator", "denominator"]] = out[["numerator", "denominator"]].astype("Int64")
    return out
