"""The patient-level analysis frame: endpoints, clinical covariates and features."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..data.endpoints import ENDPOINT_COLUMNS, derive_endpoints
from ..errors import ImmuneCorrelatesError
from .build import derive_features

__all__ = ["analysis_frame", "CLINICAL_COVARIATES"]

CLINICAL_COVARIATES = ["age", "sex", "del17p", "ighv_unmutated", "prior_therapies", "alc", "cycles_received"]


def analysis_frame(cohort, features: pd.DataFrame | Sequence[str] | None = None, **feature_options) -> pd.DataFrame:
    """One row per patient: endpoints, clinical covariates and immune features.

    Parameters
    ----------
    cohort : Cohort
    features : DataFrame, sequence of str or None
        ``None`` derives the default panel with
        :func:`immune_correlates.derive_features` (when the cohort has
        immunophenotype or assay data); a DataFrame indexed by ``patient_id``
        is joined as it is; a list of names selects from the derived features.
    **feature_options
        Passed to :func:`~immune_correlates.derive_features` (``panel=``, ``timepoint=``, ...).

    Returns
    -------
    DataFrame
        Indexed by ``patient_id`` in the clinical table's order, with every
        patient of the cohort (a patient without features has NaN there; the
        models report such rows when they leave them out).  Endpoints include
        ``pfs_cause`` (0 censored, 1 progression, 2 death without progression)
        and, when the clinical table has ``response_date``, ``response_months``.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> frame[["cr", "pfs_months", "nk_per_ul"]].shape
    (34, 3)
    """
    ep = derive_endpoints(cohort.clinical)
    covs = cohort.clinical[[c for c in CLINICAL_COVARIATES if c in cohort.clinical.columns]]
    extra = [c for c in ("response_months",) if c in ep.columns]
    frame = ep[ENDPOINT_COLUMNS + extra + ["pfs_days", "os_days"]].join(covs)
    if features is None:
        has_data = len(cohort.immunophenotype) or len(cohort.function_assays)
        if not has_data:
            return frame
        feats = derive_features(cohort, **feature_options)
    elif isinstance(features, pd.DataFrame):
        feats = features
    else:
        names = [features] if isinstance(features, str) else list(features)
        derived = derive_features(cohort, **feature_options)
        unknown = [f for f in names if f not in derived.columns]
        if unknown:
            raise ImmuneCorrelatesError(
                f"analysis_frame: unknown feature(s) {unknown}; derived features are {list(derived.columns)}."
            )
        feats = derived[names]
    extra = feats.index.difference(frame.index)
    if len(extra):
        raise ImmuneCorrelatesError(
            f"analysis_frame: features have patient ids that are not in the cohort: {list(extra)[:20]}. "
            "Index the feature table by the cohort's patient_id."
        )
    clash = [c for c in feats.columns if c in frame.columns]
    if clash:
        raise ImmuneCorrelatesError(
            f"analysis_frame: feature columns {clash} clash with endpoint or clinical columns; rename them."
        )
    return frame.join(feats, how="left")
