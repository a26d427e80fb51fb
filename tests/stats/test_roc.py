"""roc_curve against R written from the definitions (tests/reference/roc.R) and sklearn."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from immune_correlates.errors import ImmuneCorrelatesError, MissingDataWarning
from immune_correlates.stats.groups.roc import hanley_mcneil_se, roc_curve

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
DATASETS = ["pima_glu", "infert_spont", "hand"]


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(FIX / "roc_data.csv")


@pytest.fixture(scope="module")
def ref():
    return pd.read_csv(FIX / "roc_auc.csv").set_index("dataset")


@pytest.mark.parametrize("name", DATASETS)
def test_auc_matches_pairwise_definition_wilcox_and_sklearn(data, ref, name):
    d = data[data["dataset"] == name]
    res = roc_curve(d, "y", "score")
    np.testing.assert_allclose(res.auc, ref.loc[name, "auc"], rtol=1e-12)
    np.testing.assert_allclose(res.auc, ref.loc[name, "auc_wilcox"], rtol=1e-12)
    np.testing.assert_allclose(res.auc, roc_auc_score(d["y"], d["score"]), rtol=1e-12)
    assert (res.n_positive, res.n_negative) == (ref.loc[name, "n1"], ref.loc[name, "n0"])


@pytest.mark.parametrize("name", DATASETS)
def test_delong_se_and_interval_match_r_placement_definition(data, ref, name):
    res = roc_curve(data[data["dataset"] == name], "y", "score", ci="delong")
    np.testing.assert_allclose(res.se, ref.loc[name, "se_delong"], rtol=1e-10)
    np.testing.assert_allclose(
        [res.ci_lower, res.ci_upper], ref.loc[name, ["ci_delong_lower", "ci_delong_upper"]].to_numpy(float), rtol=1e-10
    )


@pytest.mark.parametrize("name", DATASETS)
def test_hanley_mcneil_se_and_interval_match_r_formula(data, ref, name):
    res = roc_curve(data[data["dataset"] == name], "y", "score", ci="hanley_mcneil")
    np.testing.assert_allclose(res.se, ref.loc[name, "se_hm"], rtol=1e-10)
    np.testing.assert_allclose(
        [res.ci_lower, res.ci_upper], ref.loc[name, ["ci_hm_lower", "ci_hm_upper"]].to_numpy(float), rtol=1e-10
    )


def test_hand_computed_auc_and_hanley_mcneil_for_a_four_patient_example():
    # positives 0.35, 0.8; negatives 0.1, 0.4: pairs won 1 + 0 + 1 + 1 = 3 of 4
    df = pd.DataFrame({"y": [0, 0, 1, 1], "s": [0.1, 0.4, 0.35, 0.8]})
    res = roc_curve(df, "y", "s", ci="hanley_mcneil")
    assert res.auc == 0.75
    q1, q2 = 0.75 / 1.25, 2 * 0.75**2 / 1.75
    by_hand = np.sqrt((0.75 * 0.25 + (q1 - 0.75**2) + (q2 - 0.75**2)) / 4)
    np.testing.assert_allclose(res.se, by_hand, rtol=1e-14)
    assert res.se == hanley_mcneil_se(0.75, 2, 2)


@pytest.mark.parametrize("name", DATASETS)
def test_operating_points_match_r_and_sklearn_without_dropping(data, name):
    d = data[data["dataset"] == name]
    pts = pd.read_csv(FIX / "roc_points.csv").query("dataset == @name")
    res = roc_curve(d, "y", "score")
    np.testing.assert_allclose(res.curve["fpr"], pts["fpr"], rtol=1e-12)
    np.testing.assert_allclose(res.curve["tpr"], pts["tpr"], rtol=1e-12)
    np.testing.assert_array_equal(res.curve["threshold"].to_numpy()[1:], pts["threshold"].to_numpy()[1:])
    fpr, tpr, _ = sk_roc_curve(d["y"], d["score"], drop_intermediate=False)
    np.testing.assert_allclose(res.curve["fpr"], fpr)
    np.testing.assert_allclose(res.curve["tpr"], tpr)


def test_lower_is_positive_mirrors_the_auc():
    df = pd.DataFrame({"y": [0, 0, 1, 1, 0, 1], "s": [0.1, 0.4, 0.35, 0.8, 0.6, 0.2]})
    up = roc_curve(df, "y", "s")
    down = roc_curve(df, "y", "s", higher_is_positive=False)
    np.testing.assert_allclose(down.auc, 1 - up.auc)
    np.testing.assert_allclose(down.se, up.se)


def test_missing_scores_are_dropped_with_warning_and_recorded():
    df = pd.DataFrame(
        {"patient_id": ["A", "B", "C", "D", "E"], "y": [0, 0, 1, 1, 1], "s": [0.1, 0.4, np.nan, 0.8, 0.5]}
    )
    with pytest.warns(MissingDataWarning, match="C"):
        res = roc_curve(df, "y", "s")
    assert res.excluded["patient_id"].tolist() == ["C"]
    assert res.n_positive == 2 and res.auc == 1.0
    assert res.summary().loc[0, "auc"] == 1.0


def test_non_binary_outcome_and_single_class_are_errors_naming_the_patient():
    df = pd.DataFrame({"patient_id": ["A", "B", "C"], "y": [0, 2, 1], "s": [1.0, 2.0, 3.0]})
    with pytest.raises(ImmuneCorrelatesError, match="B=2"):
        roc_curve(df, "y", "s")
    with pytest.raises(ImmuneCorrelatesError, match="both classes"):
        roc_curve(df.assign(y=[1, 1, 1]), "y", "s")
    with pytest.raises(ImmuneCorrelatesError, match="ci must be"):
        roc_curve(df.assign(y=[0, 1, 1]), "y", "s", ci="bootstrap")
