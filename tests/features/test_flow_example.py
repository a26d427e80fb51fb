"""The synthetic FlowJo workspace + FCS set made from the bundled cohort gives back its tables.

Without FCS files (stored counts); re-gating the FCS files is tested in tests/flow."""

import hashlib
import warnings

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.datasets.make_flow_example import ROOT_IN_WORKSPACE, write_flow_example

PATIENTS = ["OL001", "OL002", "OL003"]


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return write_flow_example(tmp_path_factory.mktemp("flow"), PATIENTS)


@pytest.fixture(scope="module")
def bundled():
    paths = ic.datasets.ofa_len_paths()
    clinical = pd.read_csv(paths["clinical"], dtype=str)
    imm = pd.read_csv(paths["immunophenotype"], dtype={"patient_id": str})
    return clinical.loc[clinical["patient_id"].isin(PATIENTS)], imm.loc[imm["patient_id"].isin(PATIENTS)]


def features(clinical, imm):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ic.derive_features(ic.read_cohort(clinical, immunophenotype=imm))


def test_workspace_gives_back_the_bundled_counts(example, bundled):
    ws = ic.read_flowjo_workspace(example["workspace"], example["sample_map"], root=ROOT_IN_WORKSPACE)
    assert ws.problems.empty and len(ws.samples) == 3
    got = ws.immunophenotype.merge(
        bundled[1], on=["patient_id", "timepoint", "gating_path"], how="outer", indicator=True
    )
    assert (got["_merge"] == "both").all() and len(got) == 33
    assert (got["event_count_x"] == got["event_count_y"]).all()
    # the bundled table holds percentages rounded to 3 decimals
    np.testing.assert_array_equal(got["freq_of_parent_x"].round(3), got["freq_of_parent_y"])


def test_same_features_as_the_tables_it_was_made_from(example, bundled):
    clinical, imm = bundled
    ws = ic.read_flowjo_workspace(example["workspace"], example["sample_map"], root=ROOT_IN_WORKSPACE)
    from_ws = features(clinical, ws.immunophenotype)
    # the tables' own counts, with unrounded percentages: identical features
    exact = imm.copy()
    counts = exact.set_index(["patient_id", "gating_path"])["event_count"]
    parent = [counts.get((p, g.rsplit("/", 1)[0]), np.nan) for p, g in zip(exact["patient_id"], exact["gating_path"])]
    root = ws.immunophenotype.set_index(["patient_id", "gating_path"])["freq_of_parent"]
    exact["freq_of_parent"] = np.where(
        exact["gating_path"] == "Lymphocytes",
        [root[(p, "Lymphocytes")] for p in exact["patient_id"]],
        100 * exact["event_count"] / np.asarray(parent, float),
    )
    from_tables = features(clinical, exact)
    counted = [c for c in from_ws.columns if from_ws[c].notna().any()]
    assert {"cd3_per_ul", "nk_per_ul", "cd4_cd8_ratio"} <= set(counted)
    pd.testing.assert_frame_equal(from_ws[counted], from_tables[counted], rtol=1e-12)
    # and the bundled (rounded) table agrees within its rounding
    rounded = features(clinical, imm)
    np.testing.assert_allclose(from_ws[counted], rounded[counted], rtol=2e-3)


def test_same_seed_same_bytes(example, tmp_path):
    again = write_flow_example(tmp_path, PATIENTS)
    for key in ("workspace", "sample_map"):
        assert example[key].read_bytes() == again[key].read_bytes()
    for f in sorted(example["fcs_dir"].glob("*.fcs")):
        assert (
            hashlib.sha256(f.read_bytes()).digest() == hashlib.sha256((again["fcs_dir"] / f.name).read_bytes()).digest()
        )


@pytest.mark.slow  # more than two seconds: full suite only
def test_analyze_from_the_workspace_gives_the_tables_features(example, bundled, tmp_path):
    """`immune-correlates analyze --flowjo-workspace` runs to the same features as the tables it was made from."""
    from immune_correlates.cli import main

    clinical, imm = bundled
    clinical.to_csv(tmp_path / "clinical.csv", index=False)
    imm.to_csv(tmp_path / "immunophenotype.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert (
            main(
                [
                    "analyze",
                    "--clinical",
                    str(tmp_path / "clinical.csv"),
                    "--flowjo-workspace",
                    str(example["workspace"]),
                    "--sample-map",
                    str(example["sample_map"]),
                    "--workspace-root",
                    ROOT_IN_WORKSPACE,
                    "--out",
                    str(tmp_path / "ws"),
                    "--quiet",
                ]
            )
            == 0
        )
        assert (
            main(
                [
                    "analyze",
                    "--clinical",
                    str(tmp_path / "clinical.csv"),
                    "--immunophenotype",
                    str(tmp_path / "immunophenotype.csv"),
                    "--out",
                    str(tmp_path / "csv"),
                    "--quiet",
                ]
            )
            == 0
        )
    a = pd.read_csv(tmp_path / "ws" / "tables" / "features.csv", index_col="patient_id")
    b = pd.read_csv(tmp_path / "csv" / "tables" / "features.csv", index_col="patient_id")
    counted = [c for c in a.columns if a[c].notna().any()]
    assert "nk_per_ul" in counted
    np.testing.assert_allclose(a[counted], b[counted], rtol=2e-3)  # the CSV's percentages are rounded
    prov = (tmp_path / "ws" / "provenance.json").read_text()
    assert "ofa_len_example.wsp" in prov and str(tmp_path) not in prov
