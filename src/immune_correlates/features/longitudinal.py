"""The long frame: one row per patient and timepoint, with the study day, features and endpoints.

Each timepoint's features come from the same pipeline as the baseline ones
(:func:`~immune_correlates.features.build.build_features` with ``timepoint=``), with one
difference: the composite scores (``t_function_score``, ``nk_function_score``) of later
samples are standardised with the *baseline* mean and SD of each readout, so a score of
+0.5 at C3D1 means half a baseline SD above the baseline average: scores move on one
scale over time instead of being re-centred at every visit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._params import OPTIONAL_COLUMNS, check_params
from ..data.endpoints import ENDPOINT_COLUMNS, derive_endpoints
from ..data.samples import BASELINE, samples_of
from ..errors import InputError
from .build import build_features
from .frame import CLINICAL_COVARIATES
from .timepoints import CohortTables

__all__ = ["longitudinal_frame", "baseline_reference"]

#: Columns that identify a sample in the long frame, in order.
SAMPLE_KEYS = ["patient_id", "timepoint", "day", "day_source", "sample_alc"]


def baseline_reference(feature_set) -> pd.DataFrame:
    """Mean and SD of every composite readout at baseline (``reference=`` of later timepoints)."""
    std = feature_set.standardisation
    ok = std.loc[np.isfinite(std["mean"]) & (std["sd"] > 0), ["readout", "mean", "sd"]]
    return ok.drop_duplicates("readout").set_index("readout")


@check_params(features=OPTIONAL_COLUMNS)
def longitudinal_frame(cohort, features: Sequence[str] | None = None, **feature_options) -> pd.DataFrame:
    """One row per patient and timepoint: study day, immune features and the patient's endpoints.

    Parameters
    ----------
    cohort : Cohort
        With immunophenotype and/or functional-assay rows at one or more timepoints
        (``cohort.samples`` gives each sample's day; see ``docs/data-format.md``).
    features : sequence of str, optional
        Features to keep (default: every feature of the panel).
    **feature_options
        Passed to :func:`~immune_correlates.build_features` (``panel=``,
        ``exclude_flagged=``, ``min_events=``, ...); ``reference=`` replaces the baseline
        standardisation of the composite scores.

    Returns
    -------
    DataFrame
        Columns ``patient_id``, ``timepoint``, ``day`` (days from ``treatment_start``; a
        baseline sample without a date is placed at day 0), ``day_source`` (``"day"``,
        ``"sample_date"`` or ``"nominal"``), ``sample_alc`` (the sample's lymphocyte
        count, 10^9/L, when given), the features, then the endpoints and clinical
        covariates as :func:`~immune_correlates.analysis_frame` has them (``alc`` there
        is the baseline count).  Sorted by patient (clinical-table order) and day.  A
        visit that did not happen has no row (never a row of zeros); a value that could
        not be derived is NaN, with the reason in ``attrs["missing"]`` (``patient_id``,
        ``timepoint``, ``feature``, ``reason``).

    Examples
    --------
    >>> import immune_correlates as ic
    >>> long = ic.longitudinal_frame(ic.datasets.load_ofa_len(), ["nk_per_ul", "cd8_per_ul"])
    >>> long[["patient_id", "timepoint", "day", "nk_per_ul"]].columns.tolist()
    ['patient_id', 'timepoint', 'day', 'nk_per_ul']
    >>> sorted(long["timepoint"].unique())
    ['C12D1', 'C1D15', 'C3D1', 'C6D1', 'EOT', 'baseline']
    """
    samples = samples_of(cohort)
    if len(samples) == 0:
        raise InputError(
            "longitudinal_frame: the cohort has no immunophenotype or functional-assay rows; "
            "give read_cohort those tables."
        )
    options = dict(feature_options)
    timepoints = list(dict.fromkeys(samples.sort_values("day", kind="stable")["timepoint"]))
    if BASELINE in timepoints:  # baseline first: its standardisation is every later timepoint's
        timepoints.remove(BASELINE)
        timepoints.insert(0, BASELINE)
    blocks, missing = [], []
    tables = CohortTables(cohort, split=True)  # each long table checked once, then split by timepoint
    for tp in timepoints:
        fs = build_features(tables, timepoint=tp, **options)
        if tp == BASELINE and "reference" not in feature_options:
            options["reference"] = baseline_reference(fs)
        who = samples.loc[samples["timepoint"] == tp, "patient_id"].astype(str)
        blocks.append(fs.values.loc[who.to_numpy()].reset_index().assign(timepoint=tp))
        gone = fs.missing[fs.missing["patient_id"].isin(who)]
        missing.append(gone.assign(timepoint=tp))
    values = pd.concat(blocks, ignore_index=True)
    names = _select(values, features)
    keyed = samples.assign(patient_id=samples["patient_id"].astype(str)).rename(columns={"alc": "sample_alc"})
    out = keyed[SAMPLE_KEYS].merge(values[["patient_id", "timepoint", *names]], on=["patient_id", "timepoint"])
    out = out.merge(_patient_columns(cohort), left_on="patient_id", right_index=True, how="left")
    order = pd.Series(np.arange(len(cohort.clinical)), index=cohort.clinical.index.astype(str))
    out = (
        out.assign(_order=out["patient_id"].map(order))
        .sort_values(["_order", "day", "timepoint"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    gone = pd.concat(missing, ignore_index=True)
    out.attrs["missing"] = gone.loc[gone["feature"].isin(names), ["patient_id", "timepoint", "feature", "reason"]]
    return out


def _select(values: pd.DataFrame, features) -> list[str]:
    derived = [c for c in values.columns if c not in ("patient_id", "timepoint")]
    if features is None:
        return derived
    names = [features] if isinstance(features, str) else list(features)
    unknown = [f for f in names if f not in derived]
    if unknown:
        raise InputError(f"longitudinal_frame: unknown feature(s) {unknown}; derived features are {derived}.")
    return names


def _patient_columns(cohort) -> pd.DataFrame:
    """Endpoints and clinical covariates per patient, as the analysis frame has them."""
    ep = derive_endpoints(cohort.clinical)
    extra = [c for c in ("response_months",) if c in ep.columns]
    covs = cohort.clinical[[c for c in CLINICAL_COVARIATES if c in cohort.clinical.columns]]
    frame = ep[ENDPOINT_COLUMNS + extra + ["pfs_days", "os_days"]].join(covs)
    frame.index = frame.index.astype(str)
    return frame
