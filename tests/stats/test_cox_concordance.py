"""Harrell's C and its standard error against survival::concordance(coxph fit) 3.5-3
(tests/reference/cox.R writes the fixtures), plus hand-countable cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import ImmuneCorrelatesError
from immune_correlates.stats.regression.concordance import ConcordanceResult, concordance_index
from immune_correlates.stats.regression.cox import fit_cox

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
LUNG3 = ["age", "sex", "ph_ecog"]


def lung_cc() -> pd.DataFrame:
    lung = pd.read_csv(FIXTURES / "cox_lung.csv").set_index("patient_id")
    return lung.dropna(subset=["time", "event", "age", "sex", "ph_ecog"])


CASES = {
    "lung_efron": ({}, LUNG3, None),
    "lung_strata_sex": ({"strata": "sex"}, ["age", "ph_ecog"], None),
    "lung_weights_efron": ({"weights": "fw"}, LUNG3, None),
    "lung_intweights_breslow": ({"weights": "wt", "ties": "breslow"}, LUNG3, None),
    "lung_cluster_inst": ({"cluster": "inst"}, LUNG3, "inst"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_concordance_and_se_match_survival_concordance_on_lung(case):
    kwargs, covs, cluster = CASES[case]
    d = lung_cc()
    if cluster:
        d = d[d[cluster].notna()]
    ref = json.loads((FIXTURES / "cox_fits.json").read_text())[case]
    cc = fit_cox(d, "time", "event", covs, **kwargs).concordance
    assert isinstance(cc, ConcordanceResult)
    np.testing.assert_allclose(cc.concordance, ref["concordance"]["C"], rtol=1e-6)
    np.testing.assert_allclose(cc.std_error, ref["concordance"]["se"], rtol=1e-6)
    counts = ref["concordance_count"]
    if isinstance(counts, dict):  # unstratified: R returns a named vector
        np.testing.assert_allclose(
            [cc.concordant, cc.discordant, cc.tied_x, cc.tied_y, cc.tied_xy],
            [counts[k] for k in ["concordant", "discordant", "tied.x", "tied.y", "tied.xy"]],
            rtol=1e-12,
        )


@pytest.mark.parametrize("case", ["veteran_efron", "ovarian_efron"])
def test_concordance_matches_survival_on_veteran_and_ovarian(case):
    covs = {"veteran_efron": ["karno", "trt", "smallcell", "adeno", "large"], "ovarian_efron": ["rx", "age", "ecog"]}[
        case
    ]
    d = pd.read_csv(FIXTURES / f"cox_{case.split('_')[0]}.csv")
    ref = json.loads((FIXTURES / "cox_fits.json").read_text())[case]["concordance"]
    cc = fit_cox(d, "time", "event", covs).concordance
    np.testing.assert_allclose([cc.concordance, cc.std_error], [ref["C"], ref["se"]], rtol=1e-6)


def test_hand_counted_pairs_with_tied_scores_and_censoring():
    # events at 1, 2, 2 (tied), censored at 2 and 4
    time = [1, 2, 2, 2, 4]
    event = [1, 1, 1, 0, 0]
    score = [3.0, 2.0, 1.0, 1.0, 0.0]  # risk score: higher = earlier
    res = concordance_index(time, event, score, reverse=True)
    # comparable pairs: subject 1 with all 4 (concordant);
    # subjects 2 and 3 (events at 2) each with the censored-at-2 and time-4 subjects
    # 2 vs 4: 2 > 1 conc; 2 vs 5: conc; 3 vs 4: tied score; 3 vs 5: conc.  2 vs 3 is tied.y.
    assert (res.concordant, res.discordant, res.tied_x, res.tied_y, res.tied_xy) == (7.0, 0.0, 1.0, 1.0, 0.0)
    assert res.concordance == pytest.approx(7.5 / 8)
    # survival's direction: larger score = longer survival gives 1 - C
    assert concordance_index(time, event, score).concordance == pytest.approx(1 - 7.5 / 8)


def test_interval_is_wald_on_the_c_scale():
    d = lung_cc()
    cc = fit_cox(d, "time", "event", LUNG3).concordance
    np.testing.assert_allclose(cc.ci_upper - cc.concordance, 1.959963984540054 * cc.std_error)
    assert list(cc.summary().columns[:4]) == ["concordance", "std_error", "ci_lower", "ci_upper"]


def test_no_comparable_pairs_is_an_error():
    with pytest.raises(ImmuneCorrelatesError, match="comparable"):
        concordance_index([1, 2, 3], [0, 0, 0], [1, 2, 3])


def test_events_tied_on_time_and_score_count_as_tied_xy_and_weights_multiply():
    time = [1, 1, 3, 5]
    event = [1, 1, 1, 0]
    score = [2.0, 2.0, 1.0, 0.5]
    res = concordance_index(time, event, score, reverse=True, weights=[1.0, 2.0, 1.0, 3.0])
    assert (res.tied_y, res.tied_xy) == (0.0, 2.0)
    # comparable pairs (weights w_i w_j): 1-3 (1), 1-4 (3), 2-3 (2), 2-4 (6), 3-4 (3), all concordant
    assert (res.concordant, res.discordant, res.tied_x) == (15.0, 0.0, 0.0)
