"""Replace patient ids with stable codes in every table of a cohort."""

from __future__ import annotations

import dataclasses

import pandas as pd

__all__ = ["pseudonymize"]


def pseudonymize(cohort, prefix: str = "S"):
    """A copy of ``cohort`` whose patient ids are ``S001``, ``S002``, ... in clinical-table order.

    The codes are stable (the same cohort always gives the same codes) and
    carry nothing of the original id.  Every table, the exclusion report and
    the metadata's notes are rewritten; the mapping is returned separately so
    it can be kept away from shared outputs.

    Returns
    -------
    (Cohort, dict)
        The pseudonymized cohort and the mapping original id -> code.
    """
    ids = list(cohort.clinical.index)
    width = max(3, len(str(len(ids))))
    mapping = {pid: f"{prefix}{i + 1:0{width}d}" for i, pid in enumerate(ids)}

    def remap(frame: pd.DataFrame) -> pd.DataFrame:
        if "patient_id" not in frame.columns:
            return frame
        return frame.assign(patient_id=frame["patient_id"].map(mapping).astype(object))

    clinical = cohort.clinical.rename(index=mapping)
    clinical.index.name = "patient_id"
    return dataclasses.replace(
        cohort,
        clinical=clinical,
        immunophenotype=remap(cohort.immunophenotype),
        function_assays=remap(cohort.function_assays),
        adverse_events=remap(cohort.adverse_events),
        exclusions=remap(cohort.exclusions),
        samples=remap(cohort.samples),
        metadata=dict(cohort.metadata),
    ), mapping
