"""The bundled trial's on-treatment visits: what the generative model says they are, and nothing more."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.design import model
from immune_correlates.design.make_ofa_len import build

#: SHA-256 of the baseline files as first published (they must never change).
BASELINE_SHA256 = {
    "clinical.csv": "d6eb8678bdfdc4f546235c39c864a83b140bd54f04b6bbbdfecc1d484b36b405",
    "immunophenotype.csv": "a1e28f35a8836120bb91dbbc4316e9621a0490facfbf12f9b6eb8c1e83c068e4",
    "function_assays.csv": "d88d158673bb72445a37d425695752ac3c420917ad80758b4c3e9d3729d1161c",
    "adverse_events.csv": "9a4e737460bd8f2028b5fbad52014940538b4c0d7221f0757d0a64a49bff3c89",
    "truth.csv": "e45073ea8154a1896fa0bd1c2d4bebfd027f05424cae4c05bbbb3649237f54d9",
    "design.json": "6511be24d57f8a70ed3b7046867bf74f6f2cdaf4c0f481c183f89a81e4d432c2",
}


@pytest.fixture(scope="module")
def truth():
    return ic.datasets.ofa_len_sample_truth()


@pytest.fixture(scope="module")
def ends(ofa_len):
    ep = ic.derive_endpoints(ofa_len.clinical)
    return ep


def test_baseline_files_are_the_published_ones():
    folder = ic.datasets.ofa_len_paths()["clinical"].parent
    for name, digest in BASELINE_SHA256.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_no_sample_after_progression_or_death_and_all_on_schedule(ofa_len, truth, ends):
    s = ofa_len.samples.merge(ends[["pfs_days"]], left_on="patient_id", right_index=True)
    later = s[s["timepoint"] != "baseline"]
    assert (later["day"] <= later["pfs_days"]).all()
    scheduled = later[later["timepoint"] != "EOT"]
    assert (scheduled["day"] < scheduled["pfs_days"]).all()
    nominal = scheduled["timepoint"].map(model.VISITS)
    assert (abs(scheduled["day"] - nominal) <= model.VISIT_JITTER).all()
    assert set(later["day_source"]) == {"day"}
    assert len(truth) == len(later)


def test_some_visits_are_missed_at_random(ofa_len, ends):
    """Patients progression-free and on treatment past a visit without a sample at it."""
    s = ofa_len.samples
    attended = set(zip(s["patient_id"], s["timepoint"]))
    cycles = ofa_len.clinical["cycles_received"]
    eligible = [
        (p, v)
        for p in ofa_len.clinical.index
        for v, d in model.VISITS.items()
        if d + model.VISIT_JITTER < min(ends.at[p, "pfs_days"], cycles[p] * 28)
    ]
    missed = [pv for pv in eligible if pv not in attended]
    assert 0.03 < len(missed) / len(eligible) < 0.25


@pytest.mark.slow  # more than two seconds: full suite only
def test_anti_cd20_clears_cll_cells_and_the_lymphocyte_count_falls(ofa_len, truth):
    long = ic.longitudinal_frame(ofa_len, ["cll_per_ul"])
    base_alc = ofa_len.clinical["alc"]
    c3 = long[long["timepoint"] == "C3D1"].set_index("patient_id")
    assert (c3["sample_alc"] < base_alc.loc[c3.index]).mean() > 0.9
    assert np.median(c3["sample_alc"] / base_alc.loc[c3.index]) < 0.3
    base = long[long["timepoint"] == "baseline"].set_index("patient_id")["cll_per_ul"]
    assert np.median(c3["cll_per_ul"] / base.loc[c3.index]) < 0.2


def test_nk_and_cd8_expand_more_in_responders(truth, ofa_len):
    groups = ic.derive_endpoints(ofa_len.clinical)["response_group"]
    effects = truth.drop_duplicates("patient_id").set_index("patient_id")
    for lineage in ("nk", "cd8"):
        med = effects[f"{lineage}_effect"].groupby(groups.loc[effects.index], observed=True).median()
        assert med["CR"] > med["PR"] > med["NR"]


def test_simulation_without_visits_gives_the_same_baseline_tables():
    with_visits = ic.simulate(seed=11)
    without = ic.simulate(seed=11, on_treatment=False)
    for name, table in without.tables.items():
        pd.testing.assert_frame_equal(with_visits.tables[name], table)
    assert without.on_treatment == {} and set(with_visits.on_treatment) == {"immunophenotype", "function_assays"}
    cohort = with_visits.cohort
    assert set(cohort.samples["timepoint"]) > {"baseline", "C3D1"}


@pytest.mark.slow  # more than two seconds: full suite only
def test_the_generator_reproduces_every_bundled_file_byte_for_byte(tmp_path):
    written = build().write(tmp_path)
    shipped = ic.datasets.ofa_len_paths()["clinical"].parent
    assert {p.name for p in written} >= {"immunophenotype_on_treatment.csv", "truth_on_treatment.csv"}
    for p in written:
        assert (shipped / p.name).read_bytes() == p.read_bytes(), p.name
