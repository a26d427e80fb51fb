"""Population abundances screened against an outcome: the same numbers as ic.screen on abundance features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic


@pytest.fixture(scope="module")
def panel():
    counts, samples = ic.design.simulate_population_counts(
        {"NR": 20, "CR": 10}, n_populations=8, fold_changes={2: 3.0}, seed=5
    )
    rng = np.random.default_rng(1)
    patients = pd.DataFrame(
        {
            "patient_id": [f"P{i:02d}" for i in range(len(counts))],
            "sample": counts.index,
            "cr": (samples["group"] == "CR").astype(int).to_numpy(),
            "pfs_months": rng.exponential(12, len(counts)).round(1) + 0.5,
            "pfs_event": rng.integers(0, 2, len(counts)),
            "age": rng.normal(65, 8, len(counts)).round(),
        }
    )
    return counts, patients


@pytest.mark.parametrize("transform", ["clr", "log_proportion"])
def test_equals_screen_on_the_abundance_features(panel, transform):
    counts, patients = panel
    res = ic.screen_populations(
        counts, patients, outcome="cr", transform=transform, sample_id="sample", covariates=["age"]
    )
    feats = ic.abundance_features(counts, transform=transform)
    frame = patients.join(feats, on="sample")
    ref = ic.screen(frame, list(feats.columns), outcome="cr", model="firth", covariates=["age"])
    pd.testing.assert_frame_equal(res.drop(columns=[]), ref, check_like=False)
    assert res.attrs["transform"] == transform
    assert "pop03" in res.nsmallest(2, "p_value")["feature"].tolist()  # the tripled population


def test_survival_screen_and_patients_without_counts(panel):
    counts, patients = panel
    with pytest.warns(ic.MissingDataWarning):
        res = ic.screen_populations(
            counts.iloc[2:], patients, duration="pfs_months", event="pfs_event", sample_id="sample"
        )
    assert (res["family"] == "cox").all()
    assert set(res["excluded"].iloc[0].split(", ")) == {"P00", "P01"}


def test_ids_by_default_and_clashing_names(panel):
    counts, patients = panel
    by_id = patients.drop(columns="patient_id").set_index("sample")
    res = ic.screen_populations(counts, by_id, outcome="cr")
    assert len(res) == counts.shape[1] and res["n"].eq(len(counts)).all()
    with pytest.raises(ic.InputError, match="also columns of data"):
        ic.screen_populations(counts.rename(columns={"pop01": "age"}), by_id, outcome="cr")
    with pytest.raises(ic.ParameterError, match="transform"):
        ic.screen_populations(counts, by_id, outcome="cr", transform="logit")
