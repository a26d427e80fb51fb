"""Bundled data sets.

``load_ofa_len()`` returns the synthetic cohort calibrated to the phase 2 trial
of ofatumumab plus lenalidomide in relapsed/refractory CLL (Vitale et al., Clin
Cancer Res 2016).  The data are synthetic: made by :func:`immune_correlates.simulate`
(see ``ofa_len/README.md`` and :mod:`immune_correlates.design.make_ofa_len`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

__all__ = ["load_ofa_len", "ofa_len_paths", "ofa_len_truth"]

_DIR = Path(__file__).with_name("ofa_len")


def ofa_len_paths() -> dict[str, Path]:
    """Paths of the four bundled input files, keyed as ``read_cohort``'s arguments."""
    return {name: _DIR / f"{name}.csv" for name in ("clinical", "immunophenotype", "function_assays", "adverse_events")}


def ofa_len_truth() -> tuple[pd.DataFrame, dict]:
    """The simulator's patient-level truth and the design (true effects) of the bundled cohort."""
    truth = pd.read_csv(_DIR / "truth.csv", index_col="patient_id")
    meta = json.loads((_DIR / "design.json").read_text(encoding="utf-8"))
    return truth, meta


def load_ofa_len():
    """The synthetic ofatumumab + lenalidomide cohort (34 patients) as a validated Cohort.

    Returns
    -------
    Cohort
        Read from the bundled CSV files by :func:`immune_correlates.read_cohort`;
        ``cohort.metadata`` holds the design and true effects.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> cohort = ic.datasets.load_ofa_len()
    >>> cohort.n_patients
    34
    """
    from ..data.cohort import read_cohort

    cohort = read_cohort(**ofa_len_paths())
    _, meta = ofa_len_truth()
    cohort.metadata.update(meta, synthetic=True, name="ofa_len")
    return cohort
