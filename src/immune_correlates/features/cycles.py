"""Per-cycle outcomes: one row per patient and treatment cycle, from the adverse-event table.

The trial reports toxicity per cycle (grade >= 3 neutropenia in 18% of 574 cycles): a yes/no
answer per cycle that a per-patient summary ("ever had grade >= 3 neutropenia") throws
away.  :func:`cycle_frame` lays the cycles out as repeated binary outcomes for
:func:`~immune_correlates.fit_gee`, with the patient's baseline features and endpoints and,
if asked, the latest on-treatment immune values known at the start of each cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._params import COLUMNS, OPTIONAL_COLUMNS, Instance, Options, check_params
from ..data.samples import CYCLE_DAYS
from ..data.terms import FEBRILE_NEUTROPENIA_TERMS, NEUTROPENIA_TERMS, is_infection, is_term
from ..errors import InputError, MissingDataWarning, warn
from .frame import analysis_frame

__all__ = ["cycle_frame", "CYCLE_OUTCOMES"]

#: Per-cycle 0/1 outcome columns and what they count.
CYCLE_OUTCOMES = {
    "neutropenia_g3": "grade >= 3 neutropenia (neutrophil count decreased) starting in the cycle",
    "febrile_neutropenia": "febrile neutropenia (any grade) starting in the cycle",
    "infection": "an infection of any grade (pneumonia, lung infection, sepsis, ...) starting in the cycle",
    "infection_g3": "a grade >= 3 infection starting in the cycle",
}


@check_params(
    features=(Options(None), COLUMNS, Instance(pd.DataFrame, name="an analysis frame")),
    latest=OPTIONAL_COLUMNS,
    long=(Options(None), Instance(pd.DataFrame, name="the long frame of longitudinal_frame")),
)
def cycle_frame(
    cohort,
    features: Sequence[str] | pd.DataFrame | None = None,
    *,
    latest: Sequence[str] | None = None,
    long: pd.DataFrame | None = None,
    **feature_options,
) -> pd.DataFrame:
    """One row per patient and cycle received, with per-cycle toxicity outcomes.

    Parameters
    ----------
    cohort : Cohort
        With ``cycles_received`` in the clinical table and an adverse-event table (a
        patient without adverse-event rows had none: every cycle is 0).
    features : sequence of str, DataFrame or None
        Baseline features joined to every cycle of the patient, as
        :func:`~immune_correlates.analysis_frame` takes them.
    latest : sequence of str, optional
        On-treatment features carried forward: ``<feature>_latest`` is the value of the
        patient's last sample drawn on or before the cycle's first day
        (``<feature>_latest_day`` its day), as a time-dependent covariate would be.
    long : DataFrame, optional
        The long frame to take ``latest`` from (default: :func:`longitudinal_frame`).
    **feature_options
        Passed to the feature derivation (``panel=``, ...).

    Returns
    -------
    DataFrame
        ``patient_id``, ``cycle`` (1, 2, ...), ``day`` (the cycle's first day, 28-day
        cycles from ``treatment_start`` = day 0), the 0/1 outcomes of
        :data:`CYCLE_OUTCOMES`, then the analysis-frame columns.  Patients without
        ``cycles_received`` and events in a cycle after the last one received are
        listed in ``attrs["excluded"]`` (``patient_id``, ``reason``) and warned about.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> cycles = ic.cycle_frame(ic.datasets.load_ofa_len(), ["nk_per_ul"])
    >>> len(cycles), int(cycles["neutropenia_g3"].sum())
    (574, 103)
    """
    clinical = cohort.clinical
    if "cycles_received" not in clinical.columns:
        raise InputError(
            "cycle_frame: the clinical table has no cycles_received column; it gives the cycles to lay out."
        )
    received = pd.to_numeric(clinical["cycles_received"], errors="coerce")
    excluded = [{"patient_id": p, "reason": "cycles_received missing"} for p in received.index[received.isna()]]
    known = received.dropna().astype(int)
    rows = pd.DataFrame(
        {
            "patient_id": np.repeat(known.index.to_numpy(dtype=object), known.to_numpy()),
            "cycle": np.concatenate([np.arange(1, k + 1) for k in known.to_numpy()] or [np.zeros(0, dtype=int)]),
        }
    )
    rows["day"] = (rows["cycle"] - 1) * CYCLE_DAYS
    ae = cohort.adverse_events
    ae = ae.assign(cycle=pd.to_numeric(ae["cycle"], errors="coerce"), grade=pd.to_numeric(ae["grade"], errors="coerce"))
    beyond = ae["patient_id"].isin(known.index) & (ae["cycle"] > ae["patient_id"].map(known))
    excluded += [
        {"patient_id": p, "reason": f"{t} in cycle {int(c)}, after the {int(known[p])} cycle(s) received"}
        for p, t, c in zip(ae.loc[beyond, "patient_id"], ae.loc[beyond, "term"], ae.loc[beyond, "cycle"])
    ]
    flags = {
        "neutropenia_g3": is_term(ae["term"], NEUTROPENIA_TERMS) & (ae["grade"] >= 3),
        "febrile_neutropenia": is_term(ae["term"], FEBRILE_NEUTROPENIA_TERMS),
        "infection": is_infection(ae["term"]),
        "infection_g3": is_infection(ae["term"]) & (ae["grade"] >= 3),
    }
    for name, mask in flags.items():
        hit = ae.loc[mask, ["patient_id", "cycle"]].drop_duplicates().assign(**{name: 1})
        rows = rows.merge(hit, on=["patient_id", "cycle"], how="left")
        rows[name] = rows[name].fillna(0).astype(int)
    frame = analysis_frame(cohort, features, **feature_options)
    rows = rows.merge(frame, left_on="patient_id", right_index=True, how="left")
    if latest:
        rows = _carry_forward(rows, cohort, list(latest), long, feature_options)
    rows.attrs["excluded"] = pd.DataFrame(excluded, columns=["patient_id", "reason"])
    if excluded:
        warn(
            "cycle_frame: "
            + "; ".join(f"{e['patient_id']} ({e['reason']})" for e in excluded[:20])
            + (f" and {len(excluded) - 20} more" if len(excluded) > 20 else "")
            + ": not in the cycle rows (see attrs['excluded']).",
            MissingDataWarning,
        )
    return rows.reset_index(drop=True)


def _carry_forward(rows, cohort, names, long, options) -> pd.DataFrame:
    from .longitudinal import longitudinal_frame

    long = longitudinal_frame(cohort, names, **options) if long is None else long
    absent = [n for n in names if n not in long.columns]
    if absent:
        raise InputError(f"cycle_frame: latest= names {absent}, which the long frame does not have.")
    out = []
    for name in names:
        known = long.loc[long[name].notna(), ["patient_id", "day", name]].rename(
            columns={name: f"{name}_latest", "day": f"{name}_latest_day"}
        )
        known = known.assign(
            _at=known[f"{name}_latest_day"].astype(float), patient_id=known["patient_id"].astype(str)
        ).sort_values("_at", kind="stable")
        left = rows[["patient_id", "day"]].assign(
            _at=rows["day"].astype(float), patient_id=rows["patient_id"].astype(str)
        )
        left = left.reset_index()
        merged = pd.merge_asof(
            left.sort_values("_at", kind="stable"), known, on="_at", by="patient_id", direction="backward"
        )
        out.append(merged.set_index("index")[[f"{name}_latest", f"{name}_latest_day"]])
    return rows.join(pd.concat(out, axis=1))
