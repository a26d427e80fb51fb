"""The default panel on the bundled 34-patient cohort: shape, provenance and invariants."""

import numpy as np
import pytest

from immune_correlates.features import build_features

API_COLUMNS = [
    "cd3_per_ul",
    "cd4_per_ul",
    "cd8_per_ul",
    "nk_per_ul",
    "cd4_cd8_ratio",
    "t_function_score",
    "nk_function_score",
]


@pytest.fixture(scope="module")
def ofa_features(ofa_len):
    return build_features(ofa_len)


def test_every_patient_gets_a_row_and_the_api_columns(ofa_len, ofa_features):
    values = ofa_features.values
    assert list(values.index) == list(ofa_len.clinical.index.astype(str))
    assert set(API_COLUMNS) <= set(values.columns)
    assert values[["cd3_per_ul", "cd4_per_ul", "cd8_per_ul", "nk_per_ul"]].notna().all().all()


def test_bundled_counts_use_both_methods_and_agree_with_the_gating_identity(ofa_features):
    methods = ofa_features.methods["cd3_per_ul"]
    assert set(methods) == {"dual", "bead"}
    v = ofa_features.values
    # CD4 + CD8 cannot exceed CD3 by more than rounding of the simulated percentages
    assert ((v["cd4_per_ul"] + v["cd8_per_ul"]) <= v["cd3_per_ul"] * 1.05).all()
    # the ratio (of fractions) equals the ratio of dual-platform counts exactly; bead counts use
    # integer event counts, so their ratio differs only by the rounding of the events
    dual = methods == "dual"
    counts_ratio = v["cd4_per_ul"] / v["cd8_per_ul"]
    np.testing.assert_allclose(v.loc[dual, "cd4_cd8_ratio"], counts_ratio[dual], rtol=1e-12)
    np.testing.assert_allclose(v.loc[~dual, "cd4_cd8_ratio"], counts_ratio[~dual], rtol=0.05)


def test_every_missing_bundled_value_has_a_reason(ofa_features):
    nan_cells = ofa_features.values.isna().to_numpy().sum()
    assert len(ofa_features.missing) == nan_cells
    assert not (ofa_features.missing["reason"] == "not computable").any()


def test_composite_scores_are_centred_within_the_cohort(ofa_features):
    # each readout's z-scores have mean 0 over patients with that readout; with few gaps the
    # composite mean is close to 0
    for col in ("t_function_score", "nk_function_score"):
        assert abs(ofa_features.values[col].mean()) < 0.2


def test_true_effects_are_visible_cr_above_pr_above_nr(ofa_len, ofa_features):
    # The simulator's drivers raise counts and function in better responders (design.json: or_cr > 0 for
    # every driver); the derived features must show it in the medians: CR > PR > NR.
    import immune_correlates as ic

    groups = ic.derive_endpoints(ofa_len.clinical)["response_group"]
    med = (
        ofa_features.values.join(groups)
        .groupby("response_group", observed=True)[["cd3_per_ul", "nk_per_ul", "t_function_score", "nk_function_score"]]
        .median()
    )
    assert (med.loc["CR"] > med.loc["PR"]).all() and (med.loc["PR"] > med.loc["NR"]).all(), med


def test_composites_track_the_simulated_latent_function(ofa_features):
    import immune_correlates as ic

    truth, _ = ic.datasets.ofa_len_truth()
    joined = ofa_features.values.join(truth)
    assert joined["t_function_score"].corr(joined["t_function"]) > 0.8
    assert joined["nk_function_score"].corr(joined["nk_function"]) > 0.8
    assert joined["nk_per_ul"].corr(joined["true_nk_per_ul"], method="spearman") > 0.95
