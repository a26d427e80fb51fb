"""Clinical endpoints from the validated clinical table.

Definitions (iwCLL 2008 categories; Hallek et al., Blood 2008):

- ``cr`` = 1 for CR or CRi; ``responder`` = 1 for CR, CRi, nPR or PR;
- ``response_group``: ordered NR < PR < CR (CR = CR/CRi, PR = nPR/PR, NR = SD/PD/NE);
- PFS: treatment start to progression or death, whichever first (event), else
  to last follow-up (censored);
- ``pfs_cause``: what ended PFS: 0 censored, 1 progression (also when death
  falls on the same day), 2 death without progression (the competing risk);
- ``response_months``: treatment start to the first documented response
  (``response_date``, optional; NaN for non-responders);
- OS: treatment start to death (event), else to last follow-up (censored);
- months are days / 30.4375 (365.25 / 12).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["DAYS_PER_MONTH", "RESPONSE_GROUPS", "derive_endpoints", "ENDPOINT_COLUMNS"]

DAYS_PER_MONTH = 30.4375
RESPONSE_GROUPS = pd.CategoricalDtype(["NR", "PR", "CR"], ordered=True)
_GROUP = {"CR": "CR", "CRi": "CR", "nPR": "PR", "PR": "PR", "SD": "NR", "PD": "NR", "NE": "NR"}
ENDPOINT_COLUMNS = [
    "best_response",
    "cr",
    "responder",
    "response_group",
    "mrd_negative",
    "pfs_months",
    "pfs_event",
    "os_months",
    "os_event",
    "pfs_cause",
]


def derive_endpoints(clinical: pd.DataFrame) -> pd.DataFrame:
    """Response and time-to-event endpoints, one row per patient.

    Parameters
    ----------
    clinical : DataFrame
        The validated clinical table (``Cohort.clinical``), indexed by ``patient_id``.

    Returns
    -------
    DataFrame
        Columns of :data:`ENDPOINT_COLUMNS` (plus ``pfs_days`` and ``os_days``,
        and ``response_months`` when the table has ``response_date``).

    Examples
    --------
    >>> import immune_correlates as ic
    >>> ep = derive_endpoints(ic.datasets.load_ofa_len().clinical)  # doctest: +SKIP
    >>> int(ep["cr"].sum())  # doctest: +SKIP
    8
    """
    resp = clinical["best_response"]
    out = pd.DataFrame(index=clinical.index)
    out["best_response"] = pd.Categorical(resp, categories=["CR", "CRi", "nPR", "PR", "SD", "PD", "NE"])
    out["cr"] = resp.isin(["CR", "CRi"]).astype(int)
    out["responder"] = resp.isin(["CR", "CRi", "nPR", "PR"]).astype(int)
    out["response_group"] = pd.Series(resp.map(_GROUP), index=clinical.index).astype(RESPONSE_GROUPS)
    out["mrd_negative"] = clinical.get("mrd_negative", np.nan)

    start = clinical["treatment_start"]
    prog = clinical["progression_date"] if "progression_date" in clinical else pd.Series(pd.NaT, index=clinical.index)
    death = clinical["death_date"] if "death_date" in clinical else pd.Series(pd.NaT, index=clinical.index)
    last = clinical["last_followup"]
    first_event = pd.concat([prog, death], axis=1).min(axis=1)
    pfs_end = first_event.where(first_event.notna(), last)
    os_end = death.where(death.notna(), last)
    out["pfs_days"] = (pfs_end - start).dt.days.astype(float)
    out["pfs_event"] = first_event.notna().astype(int)
    progressed = prog.notna() & ~(prog > death)
    out["pfs_cause"] = np.where(first_event.notna(), np.where(progressed, 1, 2), 0)
    out["os_days"] = (os_end - start).dt.days.astype(float)
    out["os_event"] = death.notna().astype(int)
    out["pfs_months"] = out["pfs_days"] / DAYS_PER_MONTH
    out["os_months"] = out["os_days"] / DAYS_PER_MONTH
    if "response_date" in clinical:
        out["response_months"] = (clinical["response_date"] - start).dt.days.astype(float) / DAYS_PER_MONTH
    return out
