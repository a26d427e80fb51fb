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

__all__ = ["load_ofa_len", "ofa_len_paths", "ofa_len_truth", "ofa_len_sample_truth"]

_DIR = Path(__file__).with_name("ofa_len")


def ofa_len_paths(*, on_treatment: bool = False) -> dict:
    """Paths of the bundled input files, keyed as ``read_cohort``'s arguments.

    By default the four baseline files (one path each); with ``on_treatment=True`` the
    immunophenotype and functional-assay tables are lists of two files, the baseline
    file and the on-treatment visits (``*_on_treatment.csv``), as
    :func:`load_ofa_len` reads them.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> [p.name for p in ic.datasets.ofa_len_paths(on_treatment=True)["immunophenotype"]]
    ['immunophenotype.csv', 'immunophenotype_on_treatment.csv']
    """
    paths: dict = {
        name: _DIR / f"{name}.csv" for name in ("clinical", "immunophenotype", "function_assays", "adverse_events")
    }
    if on_treatment:
        for name in ("immunophenotype", "function_assays"):
            paths[name] = [paths[name], _DIR / f"{name}_on_treatment.csv"]
    return paths


def ofa_len_truth() -> tuple[pd.DataFrame, dict]:
    """The simulator's patient-level truth and the design (true effects) of the bundled cohort."""
    truth = pd.read_csv(_DIR / "truth.csv", index_col="patient_id")
    meta = json.loads((_DIR / "design.json").read_text(encoding="utf-8"))
    return truth, meta


def ofa_len_sample_truth() -> pd.DataFrame:
    """The simulator's truth of every on-treatment sample: true counts, function and the patient's effects."""
    return pd.read_csv(_DIR / "truth_on_treatment.csv")


def load_ofa_len():
    """The synthetic ofatumumab + lenalidomide cohort (34 patients) as a validated Cohort.

    Returns
    -------
    Cohort
        Read from the bundled CSV files by :func:`immune_correlates.read_cohort`: the
        baseline tables and the on-treatment visits (C1D15, C3D1, C6D1, C12D1 and end
        of treatment; ``cohort.samples`` lists them with their study day);
        ``cohort.metadata`` holds the design and true effects.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> cohort = ic.datasets.load_ofa_len()
    >>> cohort.n_patients
    34
    """
    from ..data.cohort import read_cohort

    cohort = read_cohort(**ofa_len_paths(on_treatment=True))
    _, meta = ofa_len_truth()
    cohort.metadata.update(meta, synthetic=True, name="ofa_len")
    return cohort
