"""A small hand-made cohort whose every feature value is worked out by hand in the tests.

P1: dual-platform counts (alc 2.0 x 10^9/L = 2000 lymphocytes/uL), all assays.
P2: single-platform bead counts (5000 bead events, 50000 beads/tube, 50 uL:
    0.2 cells/uL per event); CD56bright gate has only 90 events.
P3: dual platform (alc 1.0), no CD8+ (and so no PD-1+) row; Treg and
    CD56bright gates have 80 events; NK CD107a background above stimulated.
P4: in the clinical table only (no immunophenotype or function rows).
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

NA = np.nan
L = "Lymphocytes"
GATES = {
    "lymph": L,
    "cd3": f"{L}/CD3+",
    "cd4": f"{L}/CD3+/CD4+",
    "cd8": f"{L}/CD3+/CD8+",
    "treg": f"{L}/CD3+/CD4+/CD25+CD127lo",
    "pd1": f"{L}/CD3+/CD8+/PD-1+",
    "cd3neg": f"{L}/CD3-",
    "nk": f"{L}/CD3-/CD56+",
    "bright": f"{L}/CD3-/CD56+/CD56bright",
    "dim": f"{L}/CD3-/CD56+/CD56dim CD16+",
    "cll": f"{L}/CD3-/CD19+CD5+",
}

# (gate key, freq_of_parent %, event_count) per patient
P1 = [
    ("lymph", 40, 20000),
    ("cd3", 50, 10000),
    ("cd4", 60, 6000),
    ("cd8", 30, 3000),
    ("treg", 10, 600),
    ("pd1", 20, 600),
    ("cd3neg", 50, 10000),
    ("nk", 20, 2000),
    ("bright", 10, 200),
    ("dim", 80, 1600),
    ("cll", 70, 7000),
]
P2 = [
    ("lymph", 30, 30000),
    ("cd3", 40, 12000),
    ("cd4", 50, 6000),
    ("cd8", 40, 4800),
    ("treg", 5, 300),
    ("pd1", 50, 2400),
    ("cd3neg", 60, 18000),
    ("nk", 10, 1800),
    ("bright", 5, 90),
    ("dim", 90, 1620),
    ("cll", 80, 14400),
]
P3 = [
    ("lymph", 50, 10000),
    ("cd3", 20, 2000),
    ("cd4", 50, 1000),
    ("treg", 8, 80),
    ("cd3neg", 80, 8000),
    ("nk", 5, 400),
    ("bright", 20, 80),
    ("dim", 70, 280),
    ("cll", 90, 7200),
]


def immunophenotype_rows() -> pd.DataFrame:
    rows = []
    for pid, gates in (("P1", P1), ("P2", P2), ("P3", P3)):
        for key, freq, events in gates:
            row = {
                "patient_id": pid,
                "timepoint": "baseline",
                "gating_path": GATES[key],
                "freq_of_parent": float(freq),
                "event_count": float(events),
                "bead_events": NA,
                "beads_per_tube": NA,
                "sample_volume_ul": NA,
            }
            if pid == "P2":
                row.update(bead_events=5000.0, beads_per_tube=50000.0, sample_volume_ul=50.0)
            rows.append(row)
    # a later timepoint that must not leak into baseline features
    rows.append(
        {
            "patient_id": "P1",
            "timepoint": "C3D1",
            "gating_path": GATES["cd3"],
            "freq_of_parent": 99.0,
            "event_count": 5.0,
            "bead_events": NA,
            "beads_per_tube": NA,
            "sample_volume_ul": NA,
        }
    )
    return pd.DataFrame(rows)


def _pair(pid, assay, cell, unstim, stim, unit="%"):
    return [
        (pid, "baseline", assay, cell, "unstimulated", unstim, unit),
        (pid, "baseline", assay, cell, "stimulated", stim, unit),
    ]


def function_rows() -> pd.DataFrame:
    rows = []
    rows += _pair("P1", "cd107a", "NK", 2.0, 22.0) + _pair("P2", "cd107a", "NK", 1.5, 11.5)
    rows += _pair("P3", "cd107a", "NK", 5.0, 3.0)
    rows += _pair("P1", "ifng", "NK", 1.0, 16.0) + _pair("P2", "ifng", "NK", 0.5, 5.5)
    rows += _pair("P1", "ifng", "CD8 T", 0.5, 10.5) + _pair("P2", "ifng", "CD8 T", 1.0, 5.0)
    rows += _pair("P3", "ifng", "CD8 T", 0.2, 2.2)
    rows += _pair("P1", "tnf", "CD8 T", 1.0, 9.0) + _pair("P2", "tnf", "CD8 T", 1.0, 3.0)
    rows += _pair("P1", "cd107a", "CD8 T", 1.0, 7.0) + _pair("P3", "cd107a", "CD8 T", 0.5, 3.5)
    rows += _pair("P1", "proliferation", "T", 5.0, 45.0) + _pair("P2", "proliferation", "T", 5.0, 25.0)
    rows += _pair("P3", "proliferation", "T", 2.0, 12.0)
    rows += [
        ("P1", "baseline", "proliferation", "T", "stimulated", 1.2, "index"),
        ("P2", "baseline", "proliferation", "T", "stimulated", 0.8, "index"),
        ("P1", "baseline", "synapse", "T", "stimulated", 2.0, "index"),
    ]
    et = ["E:T 5:1", "E:T 10:1", "E:T 20:1", "E:T 40:1"]
    alt = ["5:1", "E:T=10:1", "E:T 20:1", "40:1"]  # the same ratios, written differently
    for pid, assay, labels, lysis in (
        ("P1", "cytotoxicity", et, [8.0, 15.0, 28.0, 45.0]),
        ("P2", "cytotoxicity", alt, [2.0, 5.0, 9.0, 14.0]),
        ("P3", "cytotoxicity", et, [-3.0, 4.0, 10.0, 22.0]),
        ("P1", "adcc", et, [12.0, 30.0, 45.0, 60.0]),
        ("P2", "adcc", alt, [5.0, 10.0, 15.0, 25.0]),
    ):
        rows += [(pid, "baseline", assay, "NK", c, v, "% lysis") for c, v in zip(labels, lysis)]
    return pd.DataFrame(rows, columns=["patient_id", "timepoint", "assay", "cell_type", "condition", "value", "unit"])


def clinical_rows() -> pd.DataFrame:
    return pd.DataFrame({"alc": [2.0, 5.0, 1.0, 3.0]}, index=pd.Index(["P1", "P2", "P3", "P4"], name="patient_id"))


def make_cohort(immunophenotype=None, function_assays=None, clinical=None):
    return types.SimpleNamespace(
        clinical=clinical_rows() if clinical is None else clinical,
        immunophenotype=immunophenotype_rows() if immunophenotype is None else immunophenotype,
        function_assays=function_rows() if function_assays is None else function_assays,
        adverse_events=pd.DataFrame(columns=["patient_id", "cycle", "term", "grade"]),
        sources={"clinical": "clinical.csv", "immunophenotype": "flow.csv", "function_assays": "assays.csv"},
    )


@pytest.fixture
def cohort():
    """The hand-made cohort (a SimpleNamespace with the Cohort attributes)."""
    return make_cohort()


# Tests run in importlib mode and cannot import this module: the builders are fixtures.
@pytest.fixture(name="GATES")
def _gates_fixture():
    return dict(GATES)


@pytest.fixture(name="immunophenotype_rows")
def _immunophenotype_fixture():
    return immunophenotype_rows


@pytest.fixture(name="function_rows")
def _function_fixture():
    return function_rows


@pytest.fixture(name="clinical_rows")
def _clinical_fixture():
    return clinical_rows


@pytest.fixture(name="make_cohort")
def _make_cohort_fixture():
    return make_cohort
